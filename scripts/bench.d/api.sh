# investigate and topn latency (and the console in Chromium) over 24 h of 50M flow rows and 10M socket
# rows in the embedded ClickHouse (NETSTRATA_BENCH_FLOWS/_SOCKETS resize).
go test -run '^$' -bench 'Investigate|TopN|Console' -benchtime 5x -timeout 60m ./api/
