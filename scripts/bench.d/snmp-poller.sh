# The SNMP poller against simulated fleets: the shortest interval 1,000
# 48-port switches sustain, then the fleets of issues #22 and #19 every
# 60 s: 10,000 48-port switches, and 1,000 devices of 1,000 interfaces
# (agents in a child test process), then a fleet of real agents, snmpsimd
# processes of 20 devices each (one loopback address per device), scaled
# down to what snmpsim itself can answer on 2 cores (set
# BENCH_SNMP_SNMPSIM_DEVICES for more). Each reports the poller's CPU,
# RSS (also per device), the share of polls on time, failed polls,
# skipped slots and walk time p99.
go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./snmp-poller/
BENCH_SNMP_DEVICES=10000 BENCH_SNMP_INTERVALS=60s \
  go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./snmp-poller/
BENCH_SNMP_DEVICES=1000 BENCH_SNMP_INTERFACES=1000 BENCH_SNMP_INTERVALS=60s \
  go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./snmp-poller/
BENCH_SNMP_FLEET=snmpsim BENCH_SNMP_SIM_AGENTS=20 BENCH_SNMP_DEVICES="${BENCH_SNMP_SNMPSIM_DEVICES:-300}" BENCH_SNMP_INTERVALS=60s \
  go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./snmp-poller/
