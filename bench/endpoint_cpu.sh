#!/usr/bin/env bash
# endpoint_cpu.sh: client CPU per endpoint of a default `ers scan` (certs
# mode, chain analysis, inventory, --output) and of --no-analysis, next to a
# Python asyncio sweeper, on an nginx farm in a private network namespace:
# every address of 127.1.0.0/PREFIX serves ECDSA P-256 on 8443, 8444 and
# 8445, and 10443 refuses, so 3/4 of the endpoints speak TLS. Each row is
# the median of RUNS runs; CPU is user + system of the whole process tree
# (workers and analysis threads included), from GNU time. Needs root.
#   bench/endpoint_cpu.sh [PREFIX (default 20)] [RUNS (default 3)]
# ERS_BASELINE=/path/to/an/older/ers adds rows for that binary, for
# before/after figures. PERF=1 also records a perf profile of one default
# scan and prints its top symbols and the kernel's share.
# Writes .bench/endpoint_cpu.md.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
missing=()
for pkg in python3 time iproute2 openssl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${PERF:-0}" = 1 ] && ! command -v perf >/dev/null; then missing+=(linux-perf); fi
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bazel build //cli:ers //bench:probe_floor //tests:clm_pki >/dev/null 2>&1
mkdir -p .bench
exec unshare --net -- bash bench/endpoint_cpu_in_netns.sh "${1:-20}" "${2:-3}"
