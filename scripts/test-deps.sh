#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: real peers
# (net-snmp, softflowd, pmacct, nfdump, kcat), ground-truth tools (tshark,
# tcpdump, tcpreplay, iperf3), Chromium for the console's browser test,
# Prometheus and Alertmanager (alerting and the shipped rules), the eBPF
# toolchain for `make generate`, and the embedded ClickHouse engine.
# Idempotent and quiet when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(protobuf-compiler clang llvm bpftool libbpf-dev snmpd snmp snmpsim
  softflowd pmacct nfdump tshark tcpdump tcpreplay iperf3 kcat iproute2
  ethtool procps psmisc chromium prometheus prometheus-alertmanager)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer for it.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts snmpd, Prometheus and Alertmanager on install; tests run
# their own.
if command -v systemctl >/dev/null 2>&1; then
  systemctl stop snmpd prometheus prometheus-alertmanager >/dev/null 2>&1 || true
fi
pkill -x snmpd >/dev/null 2>&1 || true

# The embedded ClickHouse engine and the IP (AS, country) databases
# (downloaded and verified, never committed).
bash scripts/fetch-chdb.sh >/dev/null
bash scripts/fetch-ipdb.sh >/dev/null
