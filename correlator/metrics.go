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
	deadLetter    *prometheus.CounterVec   // topic, reason, exporter
	zeroedFields  *prometheus.CounterVec   // exporter, field
	lookups       *prometheus.CounterVec   // kind, result
	freshness     *prometheus.HistogramVec // table
	staleProgress prometheus.Counter
	cacheFull     *prometheus.CounterVec // cache
}

func newMetrics(reg prometheus.Registerer, caches func() (ifs, pods float64)) (*metrics, error) {
	name := func(n string) string { return telemetry.Name("correlator", n) }
	m := &metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("rows_total"),
			Help: "Rows inserted into ClickHouse, per table (rate: rows/s)."}, []string{"table"}),
		batchRows: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name("batch_rows"),
			Help: "Rows per INSERT.", Buckets: prometheus.ExponentialBuckets(1, 4, 11)}, []string{"table"}),
		insertSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name("insert_duration_seconds"),
			Help: "Latency of successful INSERTs.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{"table"}),
		insertErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("insert_errors_total"),
			Help: "Failed INSERTs (retried with backoff, nothing dropped)."}, []string{"table"}),
		tokenRetries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("dedup_token_retries_total"),
			Help: "INSERTs sent again with the deduplication token of a failed attempt: ClickHouse drops the block if the first attempt landed."}, []string{"table"}),
		replayed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("replayed_records_total"),
			Help: "Records skipped because ingest_progress shows them stored already (redelivery after a crash or rebalance)."}, []string{"topic"}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("dead_letter_records_total"),
			Help: "Records sent to the dead-letter topic, by reason; exporter names a flow's exporter (its address, or unknown; empty for other topics)."}, []string{"topic", "reason", "exporter"}),
		zeroedFields: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("flow_fields_zeroed_total"),
			Help: "Flows stored with an optional field set to 0 (unknown) because its value was out of range, per exporter and field."}, []string{"exporter", "field"}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("enrichment_lookups_total"),
			Help: "Enrichment lookups by kind (interface, pod) and result (hit, miss)."}, []string{"kind", "result"}),
		freshness: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name("freshness_seconds"),
			Help: "From a record's Kafka timestamp to its row being queryable.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{"table"}),
		staleProgress: prometheus.NewCounter(prometheus.CounterOpts{Name: name("stale_progress_total"),
			Help: "Stored progress ignored because it lies beyond the partition's end (the topic was recreated)."}),
		cacheFull: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("cache_full_total"),
			Help: "Entries not cached because a cache reached its bound."}, []string{"cache"}),
	}
	sizes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name("cached_interfaces"), Help: "Interfaces in the enrichment cache."},
		func() float64 { i, _ := caches(); return i })
	spans := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name("cached_pod_ips"), Help: "IP-to-pod spans in the enrichment cache."},
		func() float64 { _, p := caches(); return p })
	if err := telemetry.Register(reg, m.rows, m.batchRows, m.insertSeconds, m.insertErrors, m.tokenRetries,
		m.replayed, m.deadLetter, m.zeroedFields, m.lookups, m.freshness, m.staleProgress, m.cacheFull, sizes, spans); err != nil {
		return nil, err
	}
	return m, nil
}
