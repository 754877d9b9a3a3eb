package correlator

import (
	"hash/maphash"
	"math"

	"github.com/netstrata/netstrata/internal/schema"
)

// The flow rollups that aggregate (flows_1m, flows_1h and
// interface_flows_5m) are built here from a batch's flows, aggregated
// over the whole batch, and inserted beside the raw flows: each INSERT
// is idempotent under its own token, and the batch's progress is
// recorded once all are written (recordProgress, schema version 21). They
// hold what the rollups' views (internal/schema) compute from the same
// rows, which those views still do for any other writer. flows_5tuple_1h,
// a row per flow, stays a view of the raw flows' INSERT (see
// internal/schema's version 20).

// sums are the summed columns of a rollup row.
type sums struct{ bytes, packets, flows uint64 }

func (s *sums) add(o sums) {
	s.bytes += o.bytes
	s.packets += o.packets
	s.flows += o.flows
}

// aggregate sums rows per key in an open-addressing table that holds
// no key: an entry keeps a reference (ref, a flow row or what the key
// is computed from) and the key is computed from it again to compare.
// A batch of 400,000 new flows then costs some 16 MB per rollup rather
// than the 130 MB of a Go map of the keys and a slice of them. A slot
// holds its entry's hash too (the low 32 bits), so that a probe computes
// the key of an entry only when the hashes match and growing the table
// computes none (computing keys was a third of the rollups' CPU when
// every flow is new). A row's other columns take the values of the
// first flow of its key (the ref of a flow row), as the views' any()
// does.
type aggregate[K comparable] struct {
	key   func(ref int32) K
	seed  maphash.Seed
	slots []slot // a power of two, at most half full
	refs  []int32
	sums  []sums
}

// slot is an entry of the table: its index+1 (0 for none) and the low
// 32 bits of its key's hash.
type slot struct{ entry, hash uint32 }

func newAggregate[K comparable](n int, key func(ref int32) K) *aggregate[K] {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return &aggregate[K]{key: key, seed: maphash.MakeSeed(), slots: make([]slot, size),
		refs: make([]int32, 0, n), sums: make([]sums, 0, n)}
}

// add sums s into the entry of ref's key.
func (a *aggregate[K]) add(ref int32, s sums) {
	k := a.key(ref)
	h := uint32(maphash.Comparable(a.seed, k))
	mask := uint32(len(a.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := a.slots[i]
		if e.entry == 0 {
			a.slots[i] = slot{uint32(len(a.refs)) + 1, h}
			a.refs = append(a.refs, ref)
			a.sums = append(a.sums, s)
			if 2*len(a.refs) > len(a.slots) {
				a.grow()
			}
			return
		}
		if e.hash == h && a.key(a.refs[e.entry-1]) == k {
			a.sums[e.entry-1].add(s)
			return
		}
	}
}

// grow doubles the table, placing each entry by the hash its slot kept.
func (a *aggregate[K]) grow() {
	old := a.slots
	a.slots = make([]slot, 2*len(old))
	mask := uint32(len(a.slots) - 1)
	for _, e := range old {
		if e.entry == 0 {
			continue
		}
		i := e.hash & mask
		for a.slots[i].entry != 0 {
			i = (i + 1) & mask
		}
		a.slots[i] = e
	}
}

func (a *aggregate[K]) len() int { return len(a.refs) }

// sumColumns are the bytes, packets and flows columns of the rows.
func (a *aggregate[K]) sumColumns() []column {
	b, p, n := make([]uint64, len(a.sums)), make([]uint64, len(a.sums)), make([]uint64, len(a.sums))
	for i, s := range a.sums {
		b[i], p[i], n[i] = s.bytes, s.packets, s.flows
	}
	return []column{{schema.FlowBytes, b}, {schema.FlowPackets, p}, {schema.RollupFlows, n}}
}

// conversationKey is the key of flows_1m and flows_1h: the ephemeral
// (client) port folded to 0.
type conversationKey struct {
	t                  int64 // seconds
	exporter, src, dst [16]byte
	inIf, outIf        uint32
	srcPort, dstPort   uint16
	direction          int8
	proto              uint8
	application        string
}

// interfaceKey is the key of interface_flows_5m.
type interfaceKey struct {
	t        int64
	exporter [16]byte
	ifIndex  uint32
	dir      int8 // 1 in, 2 out (the table's Enum8)
}

// flowRollups are the rows of the flow rollups of one batch.
type flowRollups struct {
	minute, hour *aggregate[conversationKey]
	interfaces   *aggregate[interfaceKey]
}

// ephemeralPort is where the client ports the rollups fold start.
const ephemeralPort = 32768

// rollUp aggregates r's flows into the three rollups: bytes and packets
// scaled by the sampling rate; the minute and hour rollups fold the
// client port.
func rollUp(r *flowRows) *flowRollups {
	n := r.len()
	out := &flowRollups{minute: newAggregate(n, func(row int32) conversationKey { return r.conversation(row, 60) })}
	hourKey := func(row int32) conversationKey { return r.conversation(row, 3600) }
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range int32(n) {
		s := sums{bytes: r.bytes[i] * r.samplingRate[i], packets: r.packets[i] * r.samplingRate[i], flows: 1}
		out.minute.add(i, s)
		first, last = min(first, r.timeReceived[i]), max(last, r.timeReceived[i])
	}
	// Minute rows roll up into hours and interfaces: fewer than flows.
	// A batch is mostly a second or less of traffic: when all of it is
	// in one minute, its hour rows are its minute rows, each with the
	// hour as time, and need no table.
	minutes := out.minute.refs
	if first/60000 == last/60000 {
		out.hour = &aggregate[conversationKey]{key: hourKey, refs: minutes, sums: out.minute.sums}
	} else {
		out.hour = newAggregate(len(minutes), hourKey)
		for j, row := range minutes {
			out.hour.add(row, out.minute.sums[j])
		}
	}
	// An interface entry's ref is the minute entry's twice, plus 1 for
	// the output interface.
	out.interfaces = newAggregate(0, func(ref int32) interfaceKey {
		row := minutes[ref/2]
		t := r.timeReceived[row] / 1000
		k := interfaceKey{t: t - t%300, exporter: r.exporterIP[row], ifIndex: r.inIf[row], dir: 1}
		if ref%2 == 1 {
			k.ifIndex, k.dir = r.outIf[row], 2
		}
		return k
	})
	for j, row := range minutes {
		s := out.minute.sums[j]
		if r.inIf[row] != 0 {
			out.interfaces.add(int32(2*j), s)
		}
		if r.outIf[row] != 0 {
			out.interfaces.add(int32(2*j+1), s)
		}
	}
	return out
}

// conversation is the key of row's flow in flows_1m (period 60) or
// flows_1h (3600).
func (r *flowRows) conversation(row int32, period int64) conversationKey {
	t := r.timeReceived[row] / 1000
	sport, dport := r.srcPort[row], r.dstPort[row]
	if sport >= ephemeralPort && dport < ephemeralPort {
		sport = 0
	} else if dport >= ephemeralPort && sport < ephemeralPort {
		dport = 0
	}
	return conversationKey{t: t - t%period, exporter: r.exporterIP[row], src: r.srcIP[row], dst: r.dstIP[row],
		inIf: r.inIf[row], outIf: r.outIf[row], srcPort: sport, dstPort: dport, direction: r.direction[row],
		proto: r.proto[row], application: r.application[row]}
}

// pick returns the values of the given rows.
func pick[T any](values []T, rows []int32) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = values[r]
	}
	return out
}

// conversationColumns are the columns of flows_1m or flows_1h.
func conversationColumns(a *aggregate[conversationKey], r *flowRows) []column {
	n := a.len()
	t := make([]int64, n)
	exporter, src, dst := make([][16]byte, n), make([][16]byte, n), make([][16]byte, n)
	inIf, outIf := make([]uint32, n), make([]uint32, n)
	sport, dport := make([]uint16, n), make([]uint16, n)
	direction, proto, app := make([]int8, n), make([]uint8, n), make([]string, n)
	for i, ref := range a.refs {
		k := a.key(ref)
		t[i], exporter[i], src[i], dst[i] = k.t, k.exporter, k.src, k.dst
		inIf[i], outIf[i], sport[i], dport[i] = k.inIf, k.outIf, k.srcPort, k.dstPort
		direction[i], proto[i], app[i] = k.direction, k.proto, k.application
	}
	f := a.refs
	c := []column{
		{schema.RollupTime, t}, {schema.FlowExporterIP, exporter}, {schema.FlowExporterName, pick(r.exporterName, f)},
		{schema.FlowInIf, inIf}, {schema.FlowInIfName, pick(r.inIfName, f)},
		{schema.FlowOutIf, outIf}, {schema.FlowOutIfName, pick(r.outIfName, f)},
		{schema.FlowDirection, direction}, {schema.FlowProto, proto}, {schema.FlowApplication, app},
		{schema.FlowSrcPort, sport}, {schema.FlowDstPort, dport}, {schema.FlowSrcIP, src}, {schema.FlowDstIP, dst},
	}
	for _, p := range []*podCols{&r.src, &r.dst} {
		c = appendSet(c, p.names.pod, p.pod, f)
		c = appendSet(c, p.names.namespace, p.namespace, f)
		c = appendSet(c, p.names.workload, p.workload, f)
		c = appendSet(c, p.names.node, p.node, f)
	}
	for _, as := range []*asCols{&r.srcNet, &r.dstNet} {
		c = appendSet(c, as.names.asn, as.asn, f)
		c = appendSet(c, as.names.name, as.name, f)
		c = appendSet(c, as.names.country, as.country, f)
	}
	return append(c, a.sumColumns()...)
}

// appendSet appends the column of the rows' values, unless the batch has
// none (no pods, no IP database): the table's default, the same empty
// value, then costs the INSERT nothing to send and convert.
func appendSet[T comparable](c []column, name string, values []T, rows []int32) []column {
	if onlyZero(values) {
		return c
	}
	return append(c, column{name, pick(values, rows)})
}

// interfaceColumns are the columns of interface_flows_5m.
func interfaceColumns(a *aggregate[interfaceKey]) []column {
	n := a.len()
	t, exporter, ifIndex, dir := make([]int64, n), make([][16]byte, n), make([]uint32, n), make([]int8, n)
	for i, ref := range a.refs {
		k := a.key(ref)
		t[i], exporter[i], ifIndex[i], dir[i] = k.t, k.exporter, k.ifIndex, k.dir
	}
	c := []column{
		{schema.RollupTime, t}, {schema.FlowExporterIP, exporter},
		{schema.InterfaceFlowsIfIndex, ifIndex}, {schema.InterfaceFlowsDirection, dir},
	}
	return append(c, a.sumColumns()...)
}

// tables are the rollups' INSERTs (made concurrently with the raw
// flows', see insertBatch).
func (f *flowRollups) tables(r *flowRows) []tableRows {
	return []tableRows{
		{schema.TableInterfaceFlows5m, f.interfaces.len(), func() []column { return interfaceColumns(f.interfaces) }},
		{schema.TableFlows1h, f.hour.len(), func() []column { return conversationColumns(f.hour, r) }},
		{schema.TableFlows1m, f.minute.len(), func() []column { return conversationColumns(f.minute, r) }},
	}
}

// tableRows is one INSERT: its table, row count and columns (built when
// inserted).
type tableRows struct {
	table   string
	n       int
	columns func() []column
}
