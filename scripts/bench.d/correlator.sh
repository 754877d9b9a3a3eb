# Sustained flows/s from Kafka into the embedded ClickHouse with rollups,
# freshness (produced -> queryable) and bytes per stored flow, for a
# 3M-flow backlog of two kinds of traffic: 5000 recurring conversations
# (what the rollups are made for; the api benchmark's model too) and
# every flow a new conversation (the worst case, a scan or a flood).
for conversations in 5000 0; do
	echo "# traffic: ${conversations} conversations (0: every flow new), 3M flows"
	NETSTRATA_BENCH_FLOWS=${NETSTRATA_BENCH_FLOWS:-3000000} NETSTRATA_BENCH_CONVERSATIONS=$conversations \
		go test -run '^$' -bench 'BenchmarkIngestFlows' -benchtime 1x -timeout 60m ./correlator/
done
go test -run '^$' -bench 'BenchmarkDecodeFlows' -timeout 10m ./correlator/
