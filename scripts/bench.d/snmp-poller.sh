# A fleet of 1,000 simulated 48-port switches: the shortest interval the
# poller sustains, its CPU and memory.
go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./snmp-poller/
