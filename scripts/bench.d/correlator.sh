# Sustained flows/s from Kafka into the embedded ClickHouse with rollups,
# freshness (produced -> queryable) and bytes per stored flow, for a
# 3M-flow backlog of three kinds of traffic: 5000 recurring conversations
# (what the rollups are made for; the api benchmark's model too), with
# freshness measured at a steady 200k flows/s, 50,000 conversations, with
# freshness at 100k flows/s, and every flow a new conversation (the worst
# case, a scan or a flood), with freshness at 20k flows/s. Each run also
# reports the same run's ceilings (decode_flows/s: the correlator's
# decoding alone on one goroutine; bare_insert_flows/s: its INSERTs of the
# same rows into a flows table without views) and the process's CPU per
# flow (cpu_us/flow, steadier than flows/s on a shared machine).
run() { # conversations, steady rate
	echo "# traffic: $1 conversations (0: every flow new), 3M flows; freshness at $2 flows/s"
	NETSTRATA_BENCH_FLOWS=${NETSTRATA_BENCH_FLOWS:-3000000} NETSTRATA_BENCH_CONVERSATIONS=$1 NETSTRATA_BENCH_STEADY_RATE=$2 \
		go test -run '^$' -bench 'BenchmarkIngestFlows' -benchtime 1x -timeout 60m ./correlator/
}
run 5000 200000
run 50000 100000
run 0 20000
go test -run '^$' -bench 'BenchmarkDecodeFlows' -timeout 10m ./correlator/
# Ingest freshness at 100k flows/s while 16 heavy TopN queries run at once
# as the API's read-only user (bounded per query, at most half the
# engine's connections): freshness p99, query p95, failures, peak RSS.
echo "# 16 concurrent heavy queries while ingesting 100k flows/s"
NETSTRATA_BENCH_FLOWS=${NETSTRATA_BENCH_FLOWS:-3000000} NETSTRATA_BENCH_CONVERSATIONS=5000 NETSTRATA_BENCH_STEADY_RATE=100000 NETSTRATA_BENCH_QUERIES=16 \
	go test -run '^$' -bench 'BenchmarkIngestFlows' -benchtime 1x -timeout 60m ./correlator/
# One exporter's 1M flows over 12 partitions, drained by 2 and 4 members
# in one group: keyed by exporter (one partition) against spread batch by
# batch as the flow collector publishes them.
for members in 2 4; do
	for keyed in 1 0; do
		echo "# one exporter, $members members, keyed=$keyed"
		NETSTRATA_BENCH_FLOWS=1000000 NETSTRATA_BENCH_MEMBERS=$members NETSTRATA_BENCH_KEYED=$keyed \
			go test -run '^$' -bench 'BenchmarkOneExporterMembers' -benchtime 1x -timeout 30m ./correlator/
	done
done
