// Package correlator moves netstrata's records from Kafka to ClickHouse:
// a consumer-group member over the ifstats, flows, sockets and pods topics
// that decodes, enriches, batches and inserts them, and commits offsets
// only after the insert succeeded. The schema (tables, rollups, joins) is
// package internal/schema.
//
// # Exactly-once effect
//
// Kafka delivers at least once: after a crash between an INSERT and the
// offset commit, the records are delivered again, to this process or to
// another member, and not necessarily in the same batches (a poll returns
// whatever has arrived). Two mechanisms make the stored result exact:
//
//  1. Every raw row carries its Kafka partition and offset, and a
//     materialized view on each raw table keeps, in the same INSERT, the
//     highest stored offset per topic partition and writer group (for
//     flows, the correlator's own INSERT after the batch's; see 3) (table
//     ingest_progress; the INSERT names its consumer group in its
//     log_comment setting, so groups sharing a database do not skip each
//     other's offsets).
//     Before each batch, the correlator reads ingest_progress and skips the
//     records at or below the stored offset. Within a partition, records
//     are inserted in offset order, in one INSERT per table, and an
//     INSERT is applied whole or not at all (one block; a client that dies
//     mid-request sends an incomplete body, which the server discards), so
//     "offset <= stored maximum" means "stored". This covers redelivery in
//     any batch shape, after a crash or a rebalance.
//  2. Each INSERT carries a deterministic insert_deduplication_token made
//     of the group, the table and the partition offset ranges it holds, and every
//     table has non_replicated_deduplication_window (with
//     deduplicate_blocks_in_dependent_materialized_views for the rollups):
//     when the bus hands the same batch again after a failed attempt whose
//     INSERT did land (a lost response, a timeout), ClickHouse drops it.
//  3. The flow rollups that aggregate (flows_1m, flows_1h,
//     interface_flows_5m) are built here, over the whole batch
//     (rollups.go), and inserted each with its own token beside the raw
//     flows; the progress of flows is the correlator's own INSERT into
//     ingest_progress once all of them are written, the raw INSERT's
//     views included (progress.go): a batch is "stored" only once every
//     table of it is. (The views of an INSERT do not run atomically with
//     it; the rollups' views and the progress view of flows skip the
//     correlator's INSERTs; flows_5tuple_1h, a row per flow, is still the
//     raw INSERT's view, which an INSERT retried under the same token
//     fills in if it was left out.) A member killed
//     among those INSERTs leaves some landed and no progress; the records
//     come again, maybe in other batches whose tokens differ. So the
//     member first records the batch's offset ranges (ingest_batches),
//     and a member that claims one of its partitions reads a batch left
//     unfinished there again from Kafka, all of it, and inserts it as it
//     was, with the same tokens, before its own (unfinished.go).
//
// # Fencing
//
// A member paused (a stopped process, a long GC or VM pause, a cut
// network) past its session timeout loses its partitions to another
// member, but may wake up holding a decoded batch whose progress it read
// before: inserted now, it would duplicate what the new owner stored
// meanwhile. Every member claims each partition the first time it
// handles it in a group generation, by storing in ingest_progress an
// epoch above every stored one; before its INSERTs (and again before any
// INSERT that starts more than a second after the check) it verifies
// that the partitions' highest epoch is still its own. A member that lost
// a partition drops the batch uncommitted and rewinds
// (netstrata_correlator_fenced_batches_total,
// netstrata_kafka_handler_fenced_total); the owner stores it once. The
// check and the INSERT are separate statements: a member stopped inside
// a flows INSERT's request is covered by the unfinished batches (the
// owner inserts the batch first under the same tokens); see fence.go.
//
// Progress beyond a partition's end, or a record stamped well after the
// progress at an offset below it, means the topic was recreated and the
// offsets restarted: the stored progress is then ignored (counted in
// netstrata_correlator_stale_progress_total).
//
// Poison records (not decodable, or a flow without a usable exporter,
// source or destination address) go to the dead-letter topic with the
// reason and origin in headers, counted in
// netstrata_correlator_dead_letter_records_total{topic,reason,exporter},
// and their offsets are committed with the batch: they never block a
// partition. The dead-letter topic is at least once. An optional flow
// field out of its range (a VLAN above 4095, a port above 65535, a
// malformed next hop or NAT address, a time beyond 2200, ...) costs only
// that field: it is stored as 0 (unknown) and counted in
// netstrata_correlator_flow_fields_zeroed_total{exporter,field}; a
// time_received beyond 2200 is replaced by the Kafka timestamp.
//
// # Concurrency
//
// ClickHouse writes one INSERT, with the materialized views it feeds, on
// one core. A batch's partitions are therefore split into
// insert_concurrency groups (partition modulo the count), decoded and
// inserted concurrently, one INSERT per table and group; a partition is
// always in a single INSERT of a batch, which is what the skip above
// needs. The batch is handled, and its offsets committed, once every
// group is stored; a failed group fails the batch, and the redelivery
// skips what the other groups stored.
//
// Nothing here needs one exporter's flows in order or on one partition:
// the flow collector spreads each exporter's flows over the partitions,
// batch by batch (its sequence accounting and templates are done before
// publishing), so one big exporter loads every member, not one.
//
// # Freshness
//
// A flow's age when it becomes queryable is the producer's linger and
// request (kafka.linger), the wait for a fetch (batch_min_bytes or
// batch_max_wait, whichever comes first), decoding, and the INSERT. The
// consumer fetches while a batch is being stored and keeps one answer,
// which is taken when the batch is done: when it had been waiting, what
// arrived since is fetched at once and joins it (batch_catch_up_wait;
// counted in netstrata_kafka_consumer_catch_ups_total), so that while
// the INSERTs are busy a flow waits about one batch's handling, not two.
// The database's background merges compete with all of it for the
// cores: the embedded engine runs them niced
// (embedded.clickhouse.merge_nice).
// BenchmarkFreshness (cmd/netstrata/benchpipeline,
// scripts/bench.d/freshness.sh) measures each stage from the datagram
// received to the row queryable; netstrata_kafka_produce_latency_seconds
// and netstrata_correlator_freshness_seconds are the same in production.
//
// # Enrichment
//
// Flows get the exporter's device name and the in/out interface name,
// alias and speed from the latest SNMP poll of (exporter address =
// device_ip, ifIndex); flows and sockets get pod, namespace, workload and
// node for both addresses from the pod records, by time: an IP reused by a
// new pod maps to the pod that had it at the record's time. Each member
// feeds its caches from the SNMP and pod records it consumes (before the
// flows and sockets of the same batch) and reloads every
// enrichment_refresh what other members stored (interfaces_latest,
// pod_ips), so a record can miss enrichment for that long when its SNMP or
// pod record went to another member.
//
// # Backpressure
//
// When ClickHouse is down or slow, Handle fails and the bus hands the same
// batch again with backoff without fetching more: consumption stops,
// nothing is dropped, the lag grows (netstrata_kafka_consumer_lag_records)
// and /healthz reports it.
package correlator
