# eBPF agent overhead: throughput and connections/s with and without it,
# BPF run time per program, RSS and CPU at 100k sockets (needs root), once
# per strategy this kernel runs.
go test -run '^$' -bench BenchmarkAgentOverhead -benchtime 1x -timeout 60m ./npm-agent/
