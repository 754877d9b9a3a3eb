# NetFlow v5/v9, IPFIX, sFlow replayed over loopback: netstrata vs goflow2.
FUZZTIME=${FUZZTIME:-30s} bash flow-collector/bench/run.sh
