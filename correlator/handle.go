package correlator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/store"
)

// tableOf maps a data topic to its raw table.
var tableOf = map[string]string{
	record.TopicIfStats: schema.TableIfStats,
	record.TopicFlows:   schema.TableFlows,
	record.TopicSockets: schema.TableSockets,
	record.TopicPods:    schema.TablePods,
}

// progress is what ingest_progress says of one partition.
type progress struct {
	offset    int64 // highest stored offset, -1 for none
	updatedMs int64
}

type topicPartition struct {
	topic     string
	partition int32
}

// replayClockSlack is how much later than the stored progress a record
// at or below the stored offset may be stamped and still be taken for a
// redelivery (producer clocks run ahead of ClickHouse's by up to this).
const replayClockSlack = 10 * time.Minute

// batch is one Handle call's work: rows per table and what the
// deduplication tokens are made of.
type batch struct {
	flows   *flowRows
	sockets *socketRows
	ifstats *ifStatsRows
	pods    *podRows
	ranges  map[string][]string // table -> "partition:first-last" per partition batch
	// flowParts are the flow partitions' stored offsets and rows, for
	// recordProgress.
	flowParts []storedPartition
	stamps    map[string][]int64 // table -> Kafka timestamps (ms), for freshness
	dead      []deadRecord
	enrich    enrichCounts
	// flowsBegan and flowsStored bracket the batch's INSERTs.
	flowsBegan, flowsStored time.Time
}

// deadRecord is a poison record and why.
type deadRecord struct {
	rec      *kgo.Record
	reason   string // decode or invalid
	err      string
	exporter string // a flow's exporter, for the metric; "" for other topics
}

// Handle implements bus.Handler: decode, enrich and insert the records of
// the batches. It returns nil only once every record is stored (or
// dead-lettered); the bus then commits the offsets.
//
// The partitions are split into groups (partition modulo the insert
// concurrency), each decoded and inserted by its own goroutine with one
// INSERT per table: one INSERT runs on one core of the database, so this
// is what lets ClickHouse use the machine. A group's INSERTs are what the
// deduplication tokens and ingest_progress describe; a retried batch that
// is grouped differently is still exact, because stored offsets are
// skipped before grouping.
func (c *Component) Handle(ctx context.Context, batches []bus.PartitionBatch) error {
	conn := c.connection()
	if conn == nil {
		return errors.New("clickhouse is not ready")
	}
	if err := c.claimPartitions(ctx, conn, batches); err != nil {
		c.r.SetHealth("clickhouse", err)
		return err
	}
	if err := c.finishUnfinished(ctx, conn, batches); err != nil {
		c.r.SetHealth("clickhouse", err)
		return err
	}
	return c.handle(ctx, conn, batches, c.insertGroups(batches), nil)
}

// handle stores the batches' records not stored yet, split into n
// insert groups; fenced, unless it finishes a batch left unfinished,
// again (which its tokens make exact, whoever owns its partitions).
func (c *Component) handle(ctx context.Context, conn driver.Conn, batches []bus.PartitionBatch, n int, again *unfinishedBatch) error {
	fenced := again == nil
	floors, epochs, err := c.readProgress(ctx, conn)
	if err != nil {
		c.r.SetHealth("clickhouse", err)
		return err
	}
	if fenced {
		if err := c.checkFence(batches, epochs); err != nil {
			return err
		}
	}
	groups := c.decodeGroups(batches, floors, n)
	if again != nil && len(groups[0].ranges[schema.TableFlows]) > 0 {
		// The tokens of the first try, even when Kafka no longer holds
		// the first records of a range (retention): the INSERTs that
		// landed are dropped, the others hold what is left.
		groups[0].ranges[schema.TableFlows] = again.ranges
	}
	var dead []deadRecord
	for _, b := range groups {
		c.countLookups(b.enrich)
		dead = append(dead, b.dead...)
	}
	if err := c.deadLetter(ctx, dead); err != nil {
		return err
	}
	if c.beforeFence != nil {
		c.beforeFence()
	}
	if err := c.fenceBeforeInsert(ctx, conn, batches, fenced); err != nil {
		return err
	}
	if err := c.eachGroup(groups, func(b *batch) error { return c.insertBatch(ctx, conn, b) }); err != nil {
		return err
	}
	for _, b := range groups {
		c.countZeroed(b.flows.zeroed) // once stored: a retried batch counts once
	}
	c.observeFreshness(groups)
	c.reportStored(groups, batches)
	c.r.SetHealth("clickhouse", nil)
	if c.afterInsert != nil {
		c.afterInsert()
	}
	return nil
}

// decodeGroups decodes the batches' records above the floors into n
// groups of partitions (partition modulo n).
func (c *Component) decodeGroups(batches []bus.PartitionBatch, floors map[topicPartition]progress, n int) []*batch {
	groups := make([]*batch, n)
	for i := range groups {
		groups[i] = &batch{flows: newFlowRows(), sockets: newSocketRows(), ifstats: &ifStatsRows{}, pods: &podRows{},
			ranges: map[string][]string{}, stamps: map[string][]int64{}}
	}
	groupOf := func(pb bus.PartitionBatch) *batch { return groups[int(pb.Partition)%len(groups)] }

	// Pods and interface polls first, in this goroutine: they update the
	// caches that enrich the flows and sockets of the same batch.
	var data []bus.PartitionBatch
	for _, pb := range batches {
		if pb.Topic == record.TopicPods || pb.Topic == record.TopicIfStats {
			continue
		}
		data = append(data, pb)
	}
	for _, topic := range []string{record.TopicPods, record.TopicIfStats} {
		for _, pb := range batches {
			if pb.Topic == topic {
				c.decodeBatch(groupOf(pb), pb, c.floorFor(pb, floors))
			}
		}
	}
	_ = c.eachGroup(groups, func(b *batch) error {
		flows := 0
		for _, pb := range data {
			if groupOf(pb) == b && pb.Topic == record.TopicFlows {
				flows += len(pb.Records)
			}
		}
		b.flows.reserve(flows)
		for _, pb := range data {
			if groupOf(pb) == b {
				c.decodeBatch(b, pb, c.floorFor(pb, floors))
			}
		}
		return nil
	})
	return groups
}

// observeFreshness records the age of every stored record.
func (c *Component) observeFreshness(groups []*batch) {
	now := time.Now().UnixMilli()
	var ages []float64
	for _, b := range groups {
		for table, stamps := range b.stamps {
			h := c.m.freshness.WithLabelValues(table)
			for _, ts := range stamps {
				age := float64(now-ts) / 1000
				h.Observe(age)
				if c.onFreshness != nil {
					ages = append(ages, age)
				}
			}
		}
	}
	if c.onFreshness != nil {
		c.onFreshness(ages)
	}
}

// insertGroups is how many groups the batches' partitions are split
// into: the configured concurrency, at most one group per partition.
func (c *Component) insertGroups(batches []bus.PartitionBatch) int {
	parts := map[int32]bool{}
	for _, pb := range batches {
		parts[pb.Partition] = true
	}
	return max(1, min(c.cfg.InsertConcurrency, len(parts)))
}

// eachGroup runs f on every group concurrently and joins their errors.
func (c *Component) eachGroup(groups []*batch, f func(*batch) error) error {
	if len(groups) == 1 {
		return f(groups[0])
	}
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, b := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(b)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// insertBatch stores one group's rows, one INSERT per table, then the
// progress of its flows (recordProgress): a batch cut short by a crash
// is not taken for stored, and its retry finds the INSERTs that landed
// by their tokens. The INSERTs run concurrently, since the progress is
// written after all of them: the raw flows' first, while the flow
// rollups are aggregated; a batch is queryable after the slowest
// rather than after their sum (issue #19, freshness).
func (c *Component) insertBatch(ctx context.Context, conn driver.Conn, b *batch) error {
	if b.flows.len() > 0 {
		if err := c.recordBatch(ctx, conn, b.ranges[schema.TableFlows]); err != nil {
			return err
		}
	}
	b.flowsBegan = time.Now()
	var inserts inserts
	for _, t := range []tableRows{
		{schema.TableFlows, b.flows.len(), b.flows.columns},
		{schema.TablePods, b.pods.len(), b.pods.columns},
		{schema.TableIfStats, b.ifstats.len(), b.ifstats.columns},
		{schema.TableSockets, b.sockets.len(), b.sockets.columns},
	} {
		inserts.start(func() error { return c.insertTable(ctx, conn, b, t) })
	}
	if b.flows.len() > 0 {
		for _, t := range rollUp(b.flows).tables(b.flows) {
			inserts.start(func() error { return c.insertTable(ctx, conn, b, t) })
		}
	}
	if err := inserts.wait(); err != nil {
		return err
	}
	b.flowsStored = time.Now()
	c.recordProgressAfter(ctx, conn, b)
	return nil
}

// insertTable makes one table's INSERT of the batch, if it has rows.
func (c *Component) insertTable(ctx context.Context, conn driver.Conn, b *batch, t tableRows) error {
	if t.n == 0 {
		return nil
	}
	ranges := b.ranges[t.table]
	if rolledUp[t.table] {
		ranges = b.ranges[schema.TableFlows]
	}
	return c.insert(ctx, conn, t.table, ranges, t.n, t.columns())
}

// inserts are the concurrent INSERTs of a batch.
type inserts struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (in *inserts) start(f func() error) {
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		if err := f(); err != nil {
			in.mu.Lock()
			in.errs = append(in.errs, err)
			in.mu.Unlock()
		}
	}()
}

// wait waits for every INSERT and joins their errors.
func (in *inserts) wait() error {
	in.wg.Wait()
	return errors.Join(in.errs...)
}

// rolledUp are the tables of the flows and of their rollups: the
// correlator writes the rollups itself (see rollups.go), which their
// views skip by the INSERTs' tokens (schema.RolledUpToken).
var rolledUp = map[string]bool{
	schema.TableFlows: true, schema.TableFlows1m: true, schema.TableFlows1h: true, schema.TableInterfaceFlows5m: true,
}

// floorFor returns the offset at or below which the partition's records
// are stored already, or -1. Progress beyond the partition's end means
// the topic was recreated (offsets restarted): it is ignored.
func (c *Component) floorFor(pb bus.PartitionBatch, floors map[topicPartition]progress) progress {
	p, ok := floors[topicPartition{pb.Topic, pb.Partition}]
	if !ok {
		return progress{offset: -1}
	}
	if pb.HighWatermark > 0 && p.offset >= pb.HighWatermark {
		c.m.staleProgress.Inc()
		c.warn.Warn("stale:"+pb.Topic, "stored progress lies beyond the partition's end: the topic was recreated; ignoring it",
			"topic", pb.Topic, "partition", pb.Partition, "stored_offset", p.offset, "high_watermark", pb.HighWatermark)
		return progress{offset: -1}
	}
	return p
}

// decodeBatch decodes one partition's records into b, skipping those
// already stored.
func (c *Component) decodeBatch(b *batch, pb bus.PartitionBatch, floor progress) {
	table := tableOf[pb.Topic]
	if table == "" {
		return
	}
	first, last := int64(-1), int64(-1)
	var ifs interfaceView
	var pods podView
	asdb := c.as.db()
	if pb.Topic == record.TopicFlows || pb.Topic == record.TopicSockets {
		ifs, pods = c.ifs.view(), c.pods.view()
		defer ifs.release()
		defer pods.release()
	}
	var flow record.Flow
	var sock record.SocketStats
	var stats record.InterfaceStats
	var pod record.Pod
	skipped, stored := 0, 0
	for _, rec := range pb.Records {
		if rec.Offset <= floor.offset {
			if rec.Timestamp.UnixMilli() <= floor.updatedMs+replayClockSlack.Milliseconds() {
				skipped++
				continue
			}
			// Stamped after the progress was stored: not a redelivery but
			// a recreated topic whose offsets caught up with ours.
			c.m.staleProgress.Inc()
			c.warn.Warn("stale-ts:"+pb.Topic, "record newer than the stored progress at a lower offset: the topic was recreated; ignoring the progress",
				"topic", pb.Topic, "partition", pb.Partition, "offset", rec.Offset)
			floor.offset = -1
		}
		o := origin{partition: pb.Partition, offset: rec.Offset, tsMs: rec.Timestamp.UnixMilli()}
		var err error
		switch pb.Topic {
		case record.TopicFlows:
			if err = unmarshal(rec.Value, &flow); err == nil {
				err = b.flows.add(&flow, o, ifs, pods, asdb, &b.enrich)
			}
		case record.TopicSockets:
			if err = unmarshal(rec.Value, &sock); err == nil {
				err = b.sockets.add(&sock, o, pods, &b.enrich)
			}
		case record.TopicIfStats:
			if err = unmarshal(rec.Value, &stats); err == nil {
				var ip [16]byte
				var info ifInfo
				if ip, info, err = b.ifstats.add(&stats, o); err == nil && !c.ifs.update(ip, stats.IfIndex, info) {
					c.m.cacheFull.WithLabelValues("interfaces").Inc()
				}
			}
		case record.TopicPods:
			if err = unmarshal(rec.Value, &pod); err == nil {
				var u podUpdate
				if u, err = b.pods.add(&pod, o); err == nil && !c.pods.update(u) {
					c.m.cacheFull.WithLabelValues("pod_ips").Inc()
				}
			}
		}
		if err != nil {
			reason := "invalid"
			if errors.Is(err, errDecode) {
				reason = "decode"
			}
			d := deadRecord{rec: rec, reason: reason, err: err.Error()}
			if pb.Topic == record.TopicFlows {
				d.exporter = c.flowExporter(&flow, rec.Key)
			}
			b.dead = append(b.dead, d)
			continue
		}
		if first < 0 {
			first = rec.Offset
		}
		last = rec.Offset
		stored++
		b.stamps[table] = append(b.stamps[table], o.tsMs)
	}
	if skipped > 0 {
		c.m.replayed.WithLabelValues(pb.Topic).Add(float64(skipped))
	}
	if first >= 0 {
		b.ranges[table] = append(b.ranges[table], bus.OffsetRange{Partition: pb.Partition, First: first, Last: last}.String())
		if table == schema.TableFlows {
			b.flowParts = append(b.flowParts, storedPartition{partition: pb.Partition, last: last, rows: uint64(stored)})
		}
	}
}

// errDecode marks a record that is not a valid protobuf of its topic.
var errDecode = errors.New("decode")

func unmarshal(b []byte, m proto.Message) error {
	proto.Reset(m)
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%w: %v", errDecode, err)
	}
	return nil
}

func (c *Component) countLookups(n enrichCounts) {
	if n.ifHit > 0 {
		c.m.lookups.WithLabelValues("interface", "hit").Add(float64(n.ifHit))
	}
	if n.ifMiss > 0 {
		c.m.lookups.WithLabelValues("interface", "miss").Add(float64(n.ifMiss))
	}
	if n.podHit > 0 {
		c.m.lookups.WithLabelValues("pod", "hit").Add(float64(n.podHit))
	}
	if n.podMiss > 0 {
		c.m.lookups.WithLabelValues("pod", "miss").Add(float64(n.podMiss))
	}
}

// token is the deterministic deduplication token of one table's INSERT:
// the same records always give the same token, so a retried INSERT of a
// batch that landed is dropped by ClickHouse. The writer group is part of
// it: another group storing the same offsets of its own Kafka is not a
// retry.
func token(group, table string, ranges []string) string {
	ranges = slices.Sorted(slices.Values(ranges)) // as recorded in ingest_batches
	sum := sha256.Sum256([]byte(group + "|" + table + "|" + strings.Join(ranges, "|")))
	return table + "-" + hex.EncodeToString(sum[:16])
}

// insertSettings make the INSERT idempotent, including in the
// materialized views it feeds.
func insertSettings(group, tok string) clickhouse.Settings {
	s := store.DedupSettings(tok)
	s[schema.WriterGroupSetting] = group
	return s
}

// tableInsertSettings are settings of the INSERTs into one table.
//
// The INSERTs into flows and its rollups do not merge the rows of equal
// keys within the inserted block (optimize_on_insert=0): the correlator
// aggregated the rollups' rows already (rollups.go), and when the views
// wrote them, merging flows_1h and flows_5tuple_1h at insert only
// repeated the sort's work (22–27% of the process's CPU per flow at
// 50,000 conversations and when every flow is new, issue #19).
// Background merges sum the rows of several INSERTs, and every reader
// sums them too.
var tableInsertSettings = func() map[string]clickhouse.Settings {
	m := map[string]clickhouse.Settings{}
	for table := range rolledUp {
		m[table] = clickhouse.Settings{"optimize_on_insert": 0}
	}
	return m
}()

func (c *Component) insert(ctx context.Context, conn driver.Conn, table string, ranges []string, n int, cols []column) error {
	tok := token(c.cfg.Group, table, ranges)
	if rolledUp[table] {
		tok = schema.RolledUpToken + tok
	}
	c.tokensMu.Lock()
	if c.failedTokens[tok] {
		c.m.tokenRetries.WithLabelValues(table).Inc()
	}
	c.tokensMu.Unlock()
	cols = withoutDefaults(cols)
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.name
	}
	types, err := c.wireTypes(ctx, conn, table, names)
	if err != nil {
		c.r.SetHealth("clickhouse", err)
		return err
	}
	began := time.Now()
	settings := insertSettings(c.cfg.Group, tok)
	maps.Copy(settings, tableInsertSettings[table])
	maps.Copy(settings, c.extraInsertSettings)
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(settings), clickhouse.WithColumnNamesAndTypes(types))
	if c.beforeInsert != nil {
		err = c.beforeInsert(table, ranges)
	}
	if err == nil {
		err = c.refence(ctx, conn)
	}
	if err == nil {
		err = store.Insert(ctx, conn, table, names, "", func(b driver.Batch) error {
			if c.insideInsert != nil {
				c.insideInsert(table)
			}
			for i, col := range cols {
				if err := b.Column(i).Append(col.values); err != nil {
					return fmt.Errorf("column %s: %w", col.name, err)
				}
			}
			return nil
		})
	}
	if err != nil {
		c.m.insertErrors.WithLabelValues(table).Inc()
		c.tokensMu.Lock()
		if len(c.failedTokens) > 1000 {
			clear(c.failedTokens)
		}
		c.failedTokens[tok] = true
		c.tokensMu.Unlock()
		c.r.SetHealth("clickhouse", err)
		c.forgetWireTypes(table)
		return err
	}
	c.tokensMu.Lock()
	delete(c.failedTokens, tok)
	c.tokensMu.Unlock()
	if c.inserted != nil {
		c.inserted(table)
	}
	c.m.insertSeconds.WithLabelValues(table).Observe(time.Since(began).Seconds())
	c.m.batchRows.WithLabelValues(table).Observe(float64(n))
	c.m.rows.WithLabelValues(table).Add(float64(n))
	return nil
}

// withoutDefaults leaves out the columns that hold only their type's
// zero value ("", 0, '::'), which is every such column's default in the
// tables the correlator writes (TestLeftOutColumnsDefaultToZero): the
// engine fills it in for nothing, while a column sent costs the encoding
// of each value, its spooling and parsing, and for strings the
// conversion to LowCardinality (pods and AS names when a batch has
// none, interface aliases, VLANs, next hops: in a batch of new flows
// without them the raw flows' INSERT cost a fifth less CPU for the
// strings, about a tenth less again for the numbers). Int8 columns
// (enums, whose default may be another value) and times are always
// sent.
func withoutDefaults(cols []column) []column {
	out := make([]column, 0, len(cols))
	for _, col := range cols {
		if !allZero(col.values) {
			out = append(out, col)
		}
	}
	return out
}

// allZero reports whether values, a column of a type withoutDefaults
// may leave out, holds only its zero value.
func allZero(values any) bool {
	switch v := values.(type) {
	case []string:
		return onlyZero(v)
	case []uint8:
		return onlyZero(v)
	case []uint16:
		return onlyZero(v)
	case []uint32:
		return onlyZero(v)
	case []uint64:
		return onlyZero(v)
	case [][16]byte:
		return onlyZero(v)
	}
	return false
}

func onlyZero[T comparable](values []T) bool {
	var zero T
	return !slices.ContainsFunc(values, func(v T) bool { return v != zero })
}

// maxWireTypes bounds the cache of wire types: an INSERT's columns vary
// with the values its batch holds (withoutDefaults).
const maxWireTypes = 256

// wireTypes returns the cached types table's columns are sent as (see
// store.WireTypes), reading them on first use and after a failed INSERT
// (the schema may have changed under it).
func (c *Component) wireTypes(ctx context.Context, conn driver.Conn, table string, names []string) ([]clickhouse.ColumnNameAndType, error) {
	key := table + "|" + strings.Join(names, ",")
	c.typesMu.Lock()
	types, ok := c.types[key]
	c.typesMu.Unlock()
	if ok {
		return types, nil
	}
	types, err := store.WireTypes(ctx, conn, table, names)
	if err != nil {
		return nil, err
	}
	c.typesMu.Lock()
	if len(c.types) >= maxWireTypes {
		clear(c.types)
	}
	c.types[key] = types
	c.typesMu.Unlock()
	return types, nil
}

func (c *Component) forgetWireTypes(table string) {
	c.typesMu.Lock()
	defer c.typesMu.Unlock()
	for key := range c.types {
		if strings.HasPrefix(key, table+"|") {
			delete(c.types, key)
		}
	}
}

// readProgress reads the highest stored offset of every partition for
// this member's writer group (rows from before the groups, group "",
// count for every group) and the highest epoch its group stored.
func (c *Component) readProgress(ctx context.Context, conn driver.Conn) (map[topicPartition]progress, map[topicPartition]uint64, error) {
	rows, err := conn.Query(ctx, `SELECT topic, partition, max(max_offset), max(updated), maxIf(epoch, writer_group = {group:String})
		FROM `+schema.TableIngestProgress+` WHERE writer_group IN ({group:String}, '') GROUP BY topic, partition`,
		driver.NamedValue{Name: "group", Value: c.cfg.Group})
	if err != nil {
		return nil, nil, fmt.Errorf("read ingest progress: %w", err)
	}
	defer rows.Close()
	out := map[topicPartition]progress{}
	epochs := map[topicPartition]uint64{}
	for rows.Next() {
		var topic string
		var partition uint32
		var offset, epoch uint64
		var updated time.Time
		if err := rows.Scan(&topic, &partition, &offset, &updated, &epoch); err != nil {
			return nil, nil, fmt.Errorf("read ingest progress: %w", err)
		}
		tp := topicPartition{topic, int32(partition)}
		epochs[tp] = epoch
		if offset == 0 && updated.UnixMilli() <= 0 {
			continue // a claim only: nothing stored
		}
		out[tp] = progress{offset: int64(offset), updatedMs: updated.UnixMilli()}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read ingest progress: %w", err)
	}
	c.withMarks(out)
	return out, epochs, nil
}

// deadLetter publishes poison records, with their origin and reason in
// headers, and waits for the acknowledgement: their offsets are
// committed with the batch's, and they never block the partition.
func (c *Component) deadLetter(ctx context.Context, dead []deadRecord) error {
	if len(dead) == 0 {
		return nil
	}
	out := make([]*kgo.Record, len(dead))
	for i, d := range dead {
		h := append(append([]kgo.RecordHeader(nil), d.rec.Headers...),
			kgo.RecordHeader{Key: "netstrata-reason", Value: []byte(d.reason)},
			kgo.RecordHeader{Key: "netstrata-error", Value: []byte(d.err)},
			kgo.RecordHeader{Key: "netstrata-topic", Value: []byte(d.rec.Topic)},
			kgo.RecordHeader{Key: "netstrata-partition", Value: []byte(strconv.Itoa(int(d.rec.Partition)))},
			kgo.RecordHeader{Key: "netstrata-offset", Value: []byte(strconv.FormatInt(d.rec.Offset, 10))},
		)
		out[i] = &kgo.Record{Topic: record.TopicDeadLetter, Key: d.rec.Key, Value: d.rec.Value, Headers: h}
	}
	if err := c.dlq.ProduceSync(ctx, out...); err != nil {
		return fmt.Errorf("dead-letter %d records: %w", len(out), err)
	}
	for _, d := range dead {
		c.m.deadLetter.WithLabelValues(d.rec.Topic, d.reason, d.exporter).Inc()
		c.warn.Warn("dead:"+d.rec.Topic+d.reason+d.exporter, "record sent to the dead-letter topic",
			"topic", d.rec.Topic, "partition", d.rec.Partition, "offset", d.rec.Offset, "reason", d.reason, "exporter", d.exporter, "error", d.err)
	}
	return nil
}

// Assigned implements bus.Handler; progress is read on every batch, so
// there is nothing to prepare.
func (c *Component) Assigned(context.Context, map[string][]int32) {}

// Revoked implements bus.Handler.
func (c *Component) Revoked(context.Context, map[string][]int32) {}
