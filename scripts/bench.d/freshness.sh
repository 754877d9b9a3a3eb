# Freshness of the whole flow path at a steady 100k flows/s (issue #19):
# IPFIX datagrams over loopback UDP into the flow collector, the embedded
# Kafka, the correlator and the embedded ClickHouse in one process; a
# flow's age from its datagram received to its row queryable (p50/p99)
# and where the time goes (received -> polled by the correlator, polled
# -> its INSERTs, the INSERTs; the producer's publish -> acknowledged).
# Alternating runs: the defaults (the engine's background merges niced,
# embedded.clickhouse.merge_nice 10), then merges at the process's
# priority (merge_nice -1, as before): the spread between runs of one
# kind is the machine's. With NETSTRATA_BENCH_BASE_REF=<commit>, the
# runs alternate instead this tree with that commit (built in a
# temporary worktree), both with the default merge_nice.
bench() { # test binary, merge_nice
	(cd cmd/netstrata/benchpipeline && NETSTRATA_TEST_MERGE_NICE=$2 NETSTRATA_BENCH_RATE=${NETSTRATA_BENCH_RATE:-100000} \
		NETSTRATA_BENCH_SECONDS=${NETSTRATA_BENCH_SECONDS:-20} \
		"$1" -test.run '^$' -test.bench '^BenchmarkFreshness$' -test.benchtime 1x -test.timeout 20m)
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/now.test" ./cmd/netstrata/benchpipeline/
if [ -n "${NETSTRATA_BENCH_BASE_REF:-}" ]; then
	git worktree add --detach "$tmp/base" "$NETSTRATA_BENCH_BASE_REF" >/dev/null
	trap 'git worktree remove --force "$tmp/base"; rm -rf "$tmp"' EXIT
	(cd "$tmp/base" && go test -c -o "$tmp/base.test" ./cmd/netstrata/benchpipeline/)
fi
for run in 1 2 3; do
	if [ -n "${NETSTRATA_BENCH_BASE_REF:-}" ]; then
		echo "# run $run, this tree: $(uptime)"
		bench "$tmp/now.test" 10
		echo "# run $run, $NETSTRATA_BENCH_BASE_REF: $(uptime)"
		bench "$tmp/base.test" 10
		continue
	fi
	for nice in 10 -1; do
		echo "# run $run, merge_nice $nice: $(uptime)"
		bench "$tmp/now.test" $nice
	done
done
