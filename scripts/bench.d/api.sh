# investigate, topn, explore and filter completion latency (and the console in Chromium: the
# investigate page from navigation to every chart drawn, ms-drawn-median, and a 10,000-point
# chart's frame times) over 24 h of 50M flow
# rows and 10M socket rows in the embedded ClickHouse (NETSTRATA_BENCH_FLOWS/_SOCKETS resize).
# The console alone: go test -run '^$' -bench Console -benchtime 1x -timeout 90m ./api/
# The console against a base build (its dist/app copied aside), in alternation over the same data
# (NETSTRATA_BENCH_CONSOLE_RUNS page loads each, default 5):
#   NETSTRATA_BENCH_CONSOLE_BASE=/tmp/base-app go test -run '^$' -bench Console -benchtime 1x -timeout 90m ./api/
go test -run '^$' -bench 'Investigate|TopN|Explore|FilterComplete|Console' -benchtime 5x -timeout 60m ./api/
