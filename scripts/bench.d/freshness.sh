# Freshness of the whole flow path at a steady 100k flows/s (issue #19):
# IPFIX datagrams over loopback UDP into the flow collector, the embedded
# Kafka, the correlator and the embedded ClickHouse in one process; a
# flow's age from its datagram received to its row queryable (p50/p99)
# and where the time goes (received -> polled by the correlator, polled
# -> INSERT, the INSERT; the producer's publish -> acknowledged).
# Alternating runs: the defaults (the engine's background merges niced,
# embedded.clickhouse.merge_nice 10), then merges at the process's
# priority (merge_nice -1, as before): the spread between runs of one
# kind is the machine's.
for run in 1 2 3; do
	for nice in 10 -1; do
		echo "# run $run, merge_nice $nice: $(uptime)"
		NETSTRATA_TEST_MERGE_NICE=$nice NETSTRATA_BENCH_RATE=${NETSTRATA_BENCH_RATE:-100000} NETSTRATA_BENCH_SECONDS=${NETSTRATA_BENCH_SECONDS:-20} \
			go test -run '^$' -bench '^BenchmarkFreshness$' -benchtime 1x -timeout 20m ./cmd/netstrata/benchpipeline/
	done
done
