#!/bin/sh
# Flow collector benchmarks, run by `make bench`:
#  - BenchmarkDecode: decode → record → marshal per record, in process;
#  - BenchmarkLoopback: 10k-flow captures of softflowd (v5, v9, IPFIX) and
#    pmacct sfprobe (sFlow) replayed over loopback into netstrata's
#    collector (a child process with one worker, publishing to the
#    embedded Kafka) and into goflow2 v2.2.6 (one worker, binary output),
#    same machine, same run, each replay into fresh processes:
#      1. as fast as possible: records/s per core of CPU, loss, and our
#         maximum (records/s decoded, wall time);
#      2. a sweep at 25/50/80/100/150% of that maximum into both:
#         records/s decoded, loss (sent vs decoded), kernel drops;
#      3. 3× our maximum for 20 s into both: RSS every second (and our Go
#         heap), drops;
#  - each fuzz target for FUZZTIME.
# BenchmarkLoopback takes about 3 minutes per protocol.
# Environment: NETSTRATA_BENCH_SECONDS (each replay, default 5),
# NETSTRATA_BENCH_RATE (records/s of the first replay, default 0: as fast
# as possible), NETSTRATA_BENCH_SWEEP (fractions of our maximum, default
# 0.25,0.5,0.8,1,1.5; "none" skips), NETSTRATA_BENCH_OVERLOAD_SECONDS
# (default 20; 0 skips), NETSTRATA_BENCH_PROTOCOLS (e.g. v9,sflow),
# NETSTRATA_BENCH_COMPRESSION (Kafka compression, default the bus's zstd),
# FUZZTIME (default 60s).
set -eu
cd "$(dirname "$0")/.."

gobin=$(mktemp -d)
trap 'rm -rf "$gobin"' EXIT
GOBIN="$gobin" GOFLAGS=-mod=mod go install github.com/netsampler/goflow2/v2/cmd/goflow2@v2.2.6

go test -run '^$' -bench 'BenchmarkDecode' -benchtime 3s .
NETSTRATA_GOFLOW2="$gobin/goflow2" go test -run '^$' -bench 'BenchmarkLoopback' -benchtime 1x -timeout 60m -v . 2>&1 \
	| grep -E '^(Benchmark|PASS|FAIL|ok|---)|netstrata:|goflow2:|panic|Error'

for target in FuzzNetFlowDatagram FuzzSFlowDatagram FuzzPacketHeader; do
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-60s}" .
done
