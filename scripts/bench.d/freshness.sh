# Freshness of the whole flow path at a steady 100k flows/s (issue #19):
# IPFIX datagrams over loopback UDP into the flow collector, the embedded
# Kafka, the correlator and the embedded ClickHouse in one process; a
# flow's age from its datagram received to its row queryable (p50/p99)
# and where the time goes (received -> polled by the correlator, polled
# -> INSERT, the INSERT; the producer's publish -> acknowledged).
# Alternating runs: the defaults, then the settings before the freshness
# tuning (no catch-up poll, 1 s fetch wait): the spread between runs of
# one kind is the machine's.
for run in 1 2 3; do
	for settings in '{}' '{batch_catch_up_wait: 0s, batch_max_wait: 1s}'; do
		echo "# run $run, correlator $settings: $(uptime)"
		NETSTRATA_BENCH_CORRELATOR=$settings NETSTRATA_BENCH_RATE=${NETSTRATA_BENCH_RATE:-100000} NETSTRATA_BENCH_SECONDS=${NETSTRATA_BENCH_SECONDS:-20} \
			go test -run '^$' -bench '^BenchmarkFreshness$' -benchtime 1x -timeout 20m ./cmd/netstrata/benchpipeline/
	done
done
