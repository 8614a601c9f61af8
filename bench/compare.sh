#!/usr/bin/env bash
# compare.sh: ers side by side with the tools users pick instead, on one
# machine, one farm, one run. It installs what it needs (nmap, python3, GNU
# time, iproute2), then runs everything inside a private network namespace:
# nginx answers on 0.0.0.0 there (so every address of 127.1.0.0/16 serves
# TLS on ports 8443 (ECDSA P-256) and 9443 (RSA-2048), and 10443 refuses),
# and no packet can leave the machine. Needs root.
#   bench/compare.sh [PEER-PREFIX (default 20)] [ERS-PREFIXES (default "24 20 16")]
# (openssl s_client, one process per handshake, always sweeps a /24.)
# Writes .bench/compare.md and .bench/compare.json and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
missing=()
for pkg in nmap python3 time iproute2 openssl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bazel build //cli:ers //tests:clm_pki >/dev/null 2>&1
mkdir -p .bench
exec unshare --net -- bash bench/compare_in_netns.sh "${1:-20}" "${2:-24 20 16}"
