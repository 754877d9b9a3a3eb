#!/usr/bin/env bash
# demo.sh [netstrata demo flags]
#
# `make demo`: the whole pipeline on this machine. bin/netstrata demo builds
# a lab of network namespaces that play pods on node worker-1, starts
# `netstrata standalone`, net-snmp's snmpd and softflowd around it, sends a
# baseline then a spike to one port, waits until every layer is in
# ClickHouse and prints `netstrata investigate --node worker-1`. It says
# which layers could not run here (no snmpd, no softflowd, no BPF) instead
# of failing, and removes everything it made on exit, failure or Ctrl-C.
# About three minutes. Needs root (namespaces, eBPF).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=bin/netstrata
[ -x "$BIN" ] || { echo "demo: $BIN is missing; run make build (or make demo)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    echo "demo: needs root for network namespaces and eBPF; re-running with sudo" >&2
    exec sudo --preserve-env=NETSTRATA_CACHE,NETSTRATA_CHDB_LIB,NETSTRATA_CHDB_TARBALL "$0" "$@"
  fi
  echo "demo: needs root for network namespaces and eBPF" >&2
  exit 1
fi
for tool in ip snmpd softflowd; do
  command -v "$tool" >/dev/null 2>&1 || echo "demo: $tool is not installed: its layer will be missing (scripts/test-deps.sh installs it)" >&2
done
# The embedded ClickHouse engine, fetched and verified once.
bash scripts/fetch-chdb.sh >/dev/null
exec "$BIN" demo "$@"
