#!/usr/bin/env bash
# sni_discovery_bench.sh: what SNI discovery costs on a farm where every
# address has a single certificate. In a private network namespace nginx
# serves, on 8443 of every address of 127.1.0.0/PREFIX, one ECDSA P-256
# certificate issued for two names (farm.test and www.farm.test), so that
# discovery probes each endpoint twice more and finds nothing new. ers scan
# (default: certs, analysis, inventory, --output) runs with
# --sni-discovery off and on; each row is the median of RUNS runs, CPU is
# user + system of ers (GNU time). Needs root.
#   bench/sni_discovery_bench.sh [PREFIX (default 20)] [RUNS (default 3)]
# Writes .bench/sni_discovery.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ERS_IN_NETNS:-}" ]; then
  tools/setup.sh
  bazel build //cli:ers >/dev/null 2>&1
  mkdir -p .bench
  ERS_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
prefix=${1:-20}
runs=${2:-3}
root=$PWD
ers=$root/.bazel/bin/cli/ers
work=$(mktemp -d /tmp/ers-sni-bench.XXXXXX)
endpoints=$(( 1 << (32 - prefix) ))
cd "$work"
source "$root/tests/openssl_pki.sh"
openssl_ca "ers SNI bench CA"
openssl_leaf farm.test 'subjectAltName=DNS:farm.test,DNS:www.farm.test'
source "$root/bench/nginx_farm.sh"
start_nginx_farm "$work" "8443:$work/farm.test.pem:$work/farm.test.key"
trap 'kill "$(cat "$work/nginx.pid")" 2>/dev/null; cd /; rm -rf "$work"' EXIT

rows=()
for mode in off on; do
  results=()
  for ((i = 0; i < runs; i++)); do
    rm -f "$work/ers.db"* "$work/out.jsonl"
    ERS_DB=$work/ers.db /usr/bin/time -f "%e %U %S" -o "$work/time" "$ers" scan \
      --ips "127.1.0.0/$prefix" --ports 8443 --sni-discovery $mode --concurrency 4000 \
      --handshake-timeout 5s --no-system-roots --roots "$work/ca.pem" \
      --output "$work/out.jsonl" --summary --no-push 2>"$work/summary" >/dev/null || true
    read -r wall user sys <"$work/time"
    probes=$(sed -n 's/^SNI discovery: \([0-9]*\) probes.*/\1/p' "$work/summary")
    cpu_us=$(awk -v u="$user" -v s="$sys" -v n="$endpoints" 'BEGIN { printf "%.0f", (u + s) / n * 1e6 }')
    results+=("$cpu_us $wall $(wc -l <"$work/out.jsonl") ${probes:-0}")
  done
  read -r cpu_us wall records probes <<<"$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")"
  eps=$(awk -v n="$endpoints" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')
  echo "--sni-discovery $mode: $cpu_us us CPU per endpoint, $wall s, $records records, $probes discovery probes" >&2
  rows+=("| --sni-discovery $mode | $endpoints | $probes | $records | $wall | $eps | $cpu_us |")
done
{
  echo "| ers scan | endpoints | discovery probes | records | wall s | endpoints/s | ers CPU us per endpoint |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$root/.bench/sni_discovery.md"
