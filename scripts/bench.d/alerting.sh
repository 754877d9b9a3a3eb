# alerting: one evaluation of the shipped rules over 10,000 interfaces and
# 5,000 services (35 minutes of each in the embedded ClickHouse): wall
# time, CPU (Go side; whole process = alerting + the in-process engine),
# queries, per-kind query time and the engine's SELECT work (rows and MB
# read, system.events), as a 30-second tick would cost.
echo "# $(uptime)"
go test -run '^$' -bench 'DefaultRules' -benchtime 5x -timeout 30m ./alerting/
# Ingest freshness with and without alerting: the whole flow path
# (IPFIX over loopback -> flow collector -> embedded Kafka -> correlator ->
# embedded ClickHouse, one process) at a steady rate over a database that
# also holds that fleet, in 4 alternated pairs of 30-second phases without and with
# the alerting component evaluating the shipped rules every 30 s against
# the same engine: freshness p50/p99/max of each, and per evaluation the
# engine's SELECT work and the process CPU the phases with alerting cost.
for rate in 10000 20000 100000; do
	echo "# $rate flows/s: $(uptime)"
	NETSTRATA_BENCH_RATE=$rate NETSTRATA_BENCH_SECONDS=${NETSTRATA_BENCH_SECONDS:-30} NETSTRATA_BENCH_ROUNDS=${NETSTRATA_BENCH_ROUNDS:-4} \
		go test -run '^$' -bench 'BenchmarkFreshnessWhileAlerting' -benchtime 1x -timeout 30m ./cmd/netstrata/benchpipeline/
done
