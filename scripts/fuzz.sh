#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (go test
# can fuzz one target of one package at a time).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-5s}
n=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz: $pkg $target for $fuzztime"
    go test -vet=off -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/fuzz.$$.log 2>&1 || { cat /tmp/fuzz.$$.log; exit 1; }
    n=$((n+1))
  done
done
rm -f /tmp/fuzz.$$.log
echo "fuzz: $n targets ran without a failure"
