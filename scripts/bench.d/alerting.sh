# alerting: one evaluation of the shipped rules over 10,000 interfaces and
# 5,000 services (35 minutes of each in the embedded ClickHouse): wall
# time, CPU (Go side; whole process = alerting + the in-process engine),
# queries and per-kind query time, as a 30-second tick would cost.
go test -run '^$' -bench 'DefaultRules' -benchtime 5x -timeout 30m ./alerting/
