# Sustained flows/s from Kafka into the embedded ClickHouse with rollups,
# freshness (produced -> queryable) and bytes per stored flow.
go test -run '^$' -bench 'BenchmarkIngestFlows|BenchmarkDecodeFlows' -benchtime 1x -timeout 60m ./correlator/
