#!/bin/sh
# Flow collector benchmarks, run by `make bench`:
#  - BenchmarkDecode: decode → record → marshal per record, in process;
#  - BenchmarkLoopback: 10k-flow captures of softflowd (v5, v9, IPFIX) and
#    pmacct sfprobe (sFlow) replayed over loopback into netstrata's
#    collector (publishing to the embedded Kafka) and into goflow2 v2.2.6
#    (binary output to a file), same machine, same run: records/s per
#    core of CPU and loss;
#  - each fuzz target for FUZZTIME.
# Environment: NETSTRATA_BENCH_SECONDS (replay length, default 5),
# NETSTRATA_BENCH_RATE (records/s, default 0: as fast as possible),
# NETSTRATA_BENCH_PROTOCOLS (e.g. v9,sflow), NETSTRATA_BENCH_COMPRESSION
# (Kafka compression, default the bus's zstd), FUZZTIME (default 60s).
set -eu
cd "$(dirname "$0")/.."

gobin=$(mktemp -d)
trap 'rm -rf "$gobin"' EXIT
GOBIN="$gobin" GOFLAGS=-mod=mod go install github.com/netsampler/goflow2/v2/cmd/goflow2@v2.2.6

go test -run '^$' -bench 'BenchmarkDecode' -benchtime 3s .
NETSTRATA_GOFLOW2="$gobin/goflow2" go test -run '^$' -bench 'BenchmarkLoopback' -benchtime 1x -timeout 30m -v . 2>&1 \
	| grep -E '^(Benchmark|PASS|FAIL|ok)|netstrata:|goflow2:'

for target in FuzzNetFlowDatagram FuzzSFlowDatagram FuzzSampledHeader; do
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-60s}" .
done
