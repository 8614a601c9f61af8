#!/usr/bin/env bash
# endpoint_cpu_in_netns.sh: the body of endpoint_cpu.sh, inside a fresh
# network namespace (only loopback exists here).
set -uo pipefail
prefix=$1
runs=$2
ip link set lo up
root=$PWD
work=$(mktemp -d /tmp/ers-endpoint-cpu.XXXXXX)
ports=8443,8444,8445,10443
endpoints=$(( (1 << (32 - prefix)) * 4 ))
truth=$(( (1 << (32 - prefix)) * 3 ))

"$root/.bazel/bin/tests/clm_pki" "$work" bench-client >/dev/null
source "$root/bench/nginx_farm.sh"
start_nginx_farm "$work" "8443:$work/server.pem:$work/server.key 8444:$work/server.pem:$work/server.key 8445:$work/server.pem:$work/server.key" || exit 1
trap 'kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT

rows=()
# measure NAME -- command...: the median run by CPU; the command prints the
# number of TLS endpoints it found.
measure() {
  local name=$1
  shift 2
  local results=()
  for ((i = 0; i < runs; i++)); do
    local found
    found=$(/usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" 2>/dev/null | tail -1)
    read -r wall user sys rss_kb <"$work/time"
    local cpu_us
    cpu_us=$(awk -v u="$user" -v s="$sys" -v n="$endpoints" 'BEGIN { printf "%.0f", (u + s) / n * 1e6 }')
    results+=("$cpu_us $wall $user $sys $((rss_kb / 1024)) ${found:-0}")
  done
  local median
  median=$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  read -r cpu_us wall user sys rss found <<<"$median"
  local eps
  eps=$(awk -v n="$endpoints" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')
  rows+=("| $name | $endpoints | $wall | $eps | $user | $sys | **$cpu_us** | $rss | $found / $truth |")
  echo "$name: $cpu_us us CPU per endpoint (user $user s, sys $sys s, wall $wall s), found $found of $truth" >&2
}

ers_scan() {  # ers_scan BINARY [flags...]
  local bin=$1
  shift
  rm -f "$work/ers.db"* "$work/out.jsonl"
  ERS_DB=$work/ers.db "$bin" scan --ips "127.1.0.0/$prefix" --ports $ports \
    --concurrency 4000 --handshake-timeout 5s --no-system-roots --roots "$work/ca.pem" \
    --output "$work/out.jsonl" --quiet --no-push "$@"
  grep -c '"outcome":"tls"' "$work/out.jsonl"
}
export -f ers_scan
export work ports prefix

ers=$root/.bazel/bin/cli/ers
measure "ers scan (default: certs, analysis, inventory, --output)" -- bash -c "ers_scan $ers"
measure "ers scan --no-analysis" -- bash -c "ers_scan $ers --no-analysis"
if [ -n "${ERS_BASELINE:-}" ]; then
  measure "baseline ers scan (default)" -- bash -c "ers_scan $ERS_BASELINE"
  measure "baseline ers scan --no-analysis" -- bash -c "ers_scan $ERS_BASELINE --no-analysis"
fi
# The floors under those rows, same farm: a bare libuv connect-and-close
# (the kernel's TCP and the loop), and ers's probes alone through the public
# API (adds BoringSSL's handshake and the engine; no analysis, no sinks).
floor=$root/.bazel/bin/bench/probe_floor
measure "floor: TCP connect + close (libuv, no TLS)" -- \
  "$floor" tcp "127.1.0.0/$prefix" "${ports// /,}" 4000
measure "floor: ers probes only (public API, no analysis, no sinks)" -- \
  "$floor" probe "127.1.0.0/$prefix" "${ports// /,}" 4000
measure "python asyncio (500)" -- python3 "$root/bench/asyncio_sweeper.py" "127.1.0.0/$prefix" $ports 500

if [ "${PERF:-0}" = 1 ]; then
  rm -f "$work/ers.db"* "$work/out.jsonl"
  ERS_DB=$work/ers.db perf record -q --call-graph "${PERF_CALLGRAPH:-fp}" -o "$work/perf.data" -- "$ers" scan --ips "127.1.0.0/$prefix" \
    --ports $ports --concurrency 4000 --no-system-roots --roots "$work/ca.pem" \
    --output "$work/out.jsonl" --quiet --no-push >/dev/null 2>&1
  cp "$work/perf.data" "$root/.bench/endpoint_cpu.perf.data"
  echo "== perf: share of samples by where they ran (ers scan, default)"
  perf report -i "$work/perf.data" --no-children --sort dso -g none --stdio 2>/dev/null | grep -E "^ +[0-9]" | head -12
  echo "== perf: top symbols"
  perf report -i "$work/perf.data" --no-children --sort dso,sym -g none --stdio 2>/dev/null | grep -E "^ +[0-9]" | head -30
fi

{
  echo "| sweeper | endpoints | wall s | endpoints/s | user s | sys s | CPU us per endpoint | peak RSS MiB | TLS found / truth |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$root/.bench/endpoint_cpu.md"
