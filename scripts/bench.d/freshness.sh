# Freshness of the whole flow path at a steady 100k flows/s (issue #19):
# IPFIX datagrams over loopback UDP into the flow collector, the embedded
# Kafka, the correlator and the embedded ClickHouse in one process, all
# with their defaults; a flow's age from its datagram received to its row
# queryable (p50/p99) and where the time goes (received -> polled by the
# correlator, polled -> INSERT, the INSERT; the producer's publish ->
# acknowledged). Three runs: the spread between them is the machine's.
for run in 1 2 3; do
	echo "# run $run: $(uptime)"
	NETSTRATA_BENCH_RATE=${NETSTRATA_BENCH_RATE:-100000} NETSTRATA_BENCH_SECONDS=${NETSTRATA_BENCH_SECONDS:-20} \
		go test -run '^$' -bench 'BenchmarkFreshness' -benchtime 1x -timeout 20m ./cmd/netstrata/benchpipeline/
done
