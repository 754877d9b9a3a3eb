# The SNMP poller against simulated fleets: the shortest interval 1,000
# 48-port switches sustain, then the fleets of issue #22 every 60 s:
# 10,000 48-port switches, and 1,000 devices of 1,000 interfaces. Each
# reports CPU, RSS, failed polls, skipped slots and walk time p99.
go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./snmp-poller/
BENCH_SNMP_DEVICES=10000 BENCH_SNMP_INTERVALS=60s \
  go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./snmp-poller/
BENCH_SNMP_DEVICES=1000 BENCH_SNMP_INTERFACES=1000 BENCH_SNMP_INTERVALS=60s \
  go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./snmp-poller/
