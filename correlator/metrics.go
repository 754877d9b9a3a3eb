package correlator

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// metrics of the correlator. Consumer lag per partition is the bus's
// netstrata_kafka_consumer_lag_records{group,topic,partition}.
type metrics struct {
	rows          *prometheus.CounterVec   // table
	batchRows     *prometheus.HistogramVec // table
	insertSeconds *prometheus.HistogramVec // table
	insertErrors  *prometheus.CounterVec   // table
	tokenRetries  *prometheus.CounterVec   // table
	replayed      *prometheus.CounterVec   // topic
	claims        prometheus.Counter
	fenced        *prometheus.CounterVec   // topic
	unfinished    *prometheus.CounterVec   // outcome: finished, unreadable
	deadLetter    *prometheus.CounterVec   // topic, reason, exporter
	zeroedFields  *prometheus.CounterVec   // exporter, field
	lookups       *prometheus.CounterVec   // kind, result
	freshness     *prometheus.HistogramVec // table
	staleProgress prometheus.Counter
	cacheFull     *prometheus.CounterVec // cache
}

func newMetrics(reg prometheus.Registerer, caches func() (ifs, pods float64)) (*metrics, error) {
	f := telemetry.NewMetrics(reg, "correlator")
	m := &metrics{
		rows:          f.CounterVec("rows_total", "Rows inserted into ClickHouse, per table (rate: rows/s).", "table"),
		batchRows:     f.HistogramVec("batch_rows", "Rows per INSERT.", prometheus.ExponentialBuckets(1, 4, 11), "table"),
		insertSeconds: f.HistogramVec("insert_duration_seconds", "Latency of successful INSERTs.", prometheus.ExponentialBuckets(0.001, 2, 16), "table"),
		insertErrors:  f.CounterVec("insert_errors_total", "Failed INSERTs (retried with backoff, nothing dropped).", "table"),
		tokenRetries:  f.CounterVec("dedup_token_retries_total", "INSERTs sent again with the deduplication token of a failed attempt: ClickHouse drops the block if the first attempt landed.", "table"),
		claims:        f.Counter("partition_claims_total", "Partitions this member claimed (stored a fencing epoch for) on first handling them in a group generation."),
		unfinished:    f.CounterVec("unfinished_batches_total", "Batches of flows a stopped member left unfinished, found on claiming their partitions: finished (read again from Kafka and inserted as they were, exactly) or unreadable (Kafka no longer has their records: left to other batches, and the rollups may count twice what the first try stored).", "outcome"),
		fenced:        f.CounterVec("fenced_batches_total", "Batches dropped uncommitted because another member claimed one of their partitions later (this member was paused or cut off past its session timeout).", "topic"),
		replayed:      f.CounterVec("replayed_records_total", "Records skipped because ingest_progress shows them stored already (redelivery after a crash or rebalance).", "topic"),
		deadLetter:    f.CounterVec("dead_letter_records_total", "Records sent to the dead-letter topic, by reason; exporter names a flow's exporter (its address, or unknown; empty for other topics).", "topic", "reason", "exporter"),
		zeroedFields:  f.CounterVec("flow_fields_zeroed_total", "Flows stored with an optional field set to 0 (unknown) because its value was out of range, per exporter and field.", "exporter", "field"),
		lookups:       f.CounterVec("enrichment_lookups_total", "Enrichment lookups by kind (interface, pod) and result (hit, miss).", "kind", "result"),
		freshness:     f.HistogramVec("freshness_seconds", "From a record's Kafka timestamp to its row being queryable.", prometheus.ExponentialBuckets(0.05, 2, 14), "table"),
		staleProgress: f.Counter("stale_progress_total", "Stored progress ignored because it lies beyond the partition's end (the topic was recreated)."),
		cacheFull:     f.CounterVec("cache_full_total", "Entries not cached because a cache reached its bound.", "cache"),
	}
	f.GaugeFunc("cached_interfaces", "Interfaces in the enrichment cache.", func() float64 { i, _ := caches(); return i })
	f.GaugeFunc("cached_pod_ips", "IP-to-pod spans in the enrichment cache.", func() float64 { _, p := caches(); return p })
	return m, f.Err()
}
