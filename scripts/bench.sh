#!/usr/bin/env bash
# Benchmarks with figures, all on this machine in one run. Each section
# prints its own figures; the output is meant to be pasted into notes.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-var/bench}
mkdir -p "$out"
status=0
section() { echo; echo "=== $*"; }
bench() { # package, regexp, extra args...
  local pkg=$1 re=$2; shift 2
  go test -run '^$' -bench "$re" -benchmem "$@" "$pkg" 2>&1 | tee -a "$out/bench.txt" | grep -E '^(Benchmark|ok|FAIL|---)' || status=1
}
: >"$out/bench.txt"

section "Kafka producer into embedded kfake (zstd)"
bench ./internal/bus/ ProducerZstd -benchtime 2000000x

section "Batch insert into embedded ClickHouse via clickhouse-go"
bench ./internal/chdb/ BatchInsert -benchtime 3000000x

for extra in scripts/bench.d/*.sh; do
  [ -e "$extra" ] || continue
  section "$(basename "$extra" .sh)"
  bash "$extra" 2>&1 | tee -a "$out/bench.txt" || status=1
done
echo
echo "bench: figures in $out/bench.txt"
exit $status
