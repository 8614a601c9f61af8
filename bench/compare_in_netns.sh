#!/usr/bin/env bash
# compare_in_netns.sh: the body of compare.sh, run inside a fresh network
# namespace (only loopback exists here).
set -uo pipefail
peer_prefix=$1
ers_prefixes=$2
ip link set lo up
root=$PWD
work=$(mktemp -d /tmp/ers-compare.XXXXXX)
ers=$root/.bazel/bin/cli/ers
ports=8443,9443,10443

# The farm: nginx, 2 workers, ECDSA on 8443, RSA on 9443, on 0.0.0.0 of this
# namespace.
"$root/.bazel/bin/tests/clm_pki" "$work" bench-client >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/rsa.key" -out "$work/rsa.pem" \
  -days 30 -subj /CN=bench-rsa >/dev/null 2>&1
source "$root/bench/nginx_farm.sh"
start_nginx_farm "$work" "8443:$work/server.pem:$work/server.key 9443:$work/rsa.pem:$work/rsa.key" || exit 1
trap 'kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT

rows=()
json="["
# measure NAME PREFIX TRUTH -- command...: runs the command under GNU time,
# expects it to print the number of TLS endpoints it found.
measure() {
  local name=$1 prefix=$2 truth=$3
  shift 4
  local found
  found=$(/usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" 2>/dev/null | tail -1)
  read -r wall user sys rss_kb <"$work/time"
  found=${found:-0}
  local targets=$(( (1 << (32 - prefix)) * 3 ))
  local eps hps cpu
  eps=$(awk -v t="$targets" -v w="$wall" 'BEGIN { printf "%.0f", t / w }')
  hps=$(awk -v f="$found" -v w="$wall" 'BEGIN { printf "%.0f", f / w }')
  cpu=$(awk -v u="$user" -v s="$sys" -v f="$found" 'BEGIN { printf "%.2f", f ? (u + s) / f * 1000 : 0 }')
  rows+=("| $name | /$prefix | $targets | $wall | $eps | $hps | $cpu | $((rss_kb / 1024)) | $found / $truth |")
  json+="{\"tool\":\"$name\",\"prefix\":$prefix,\"targets\":$targets,\"wall_s\":$wall,\"endpoints_per_s\":$eps,\"handshakes_per_s\":$hps,\"cpu_s_per_1000\":$cpu,\"peak_rss_mib\":$((rss_kb / 1024)),\"found\":$found,\"truth\":$truth},"
  echo "$name /$prefix: ${wall}s, $hps handshakes/s, $cpu CPU s per 1000, found $found of $truth" >&2
}

ers_count() {  # ers_count PREFIX MODE [analysis]
  rm -f "$work/ers.db"*
  local analysis=--no-analysis
  [ "${3:-}" = analysis ] && analysis=
  ERS_DB=$work/ers.db "$ers" scan --ips "127.1.0.0/$1" --ports $ports --mode "$2" \
    $analysis --concurrency 4000 --handshake-timeout 5s --output "$work/out.jsonl" --quiet
  grep -c '"outcome":"tls"' "$work/out.jsonl"
}
export -f ers_count
export ers work ports

for prefix in $ers_prefixes; do
  truth=$(( (1 << (32 - prefix)) * 2 ))
  measure "ers (certs)" "$prefix" "$truth" -- bash -c "ers_count $prefix certs"
  measure "ers (full)" "$prefix" "$truth" -- bash -c "ers_count $prefix full"
  if [ "$prefix" = 20 ]; then
    # With the chain analysis (parse, validate, findings) and the inventory.
    measure "ers (certs + analysis)" "$prefix" "$truth" -- bash -c "ers_count $prefix certs analysis"
  fi
done
truth=$(( (1 << (32 - peer_prefix)) * 2 ))
measure "python asyncio (500)" "$peer_prefix" "$truth" -- \
  python3 "$root/bench/asyncio_sweeper.py" "127.1.0.0/$peer_prefix" $ports 500
s_prefix=24  # one process per handshake: a /24 already takes a while
truth=$(( (1 << (32 - s_prefix)) * 2 ))
measure "openssl s_client via xargs -P 32" "$s_prefix" "$truth" -- bash -c "
  python3 -c 'import ipaddress,sys
for h in ipaddress.ip_network(sys.argv[1]):
  for p in sys.argv[2].split(\",\"): print(f\"{h}:{p}\")' 127.1.0.0/$s_prefix $ports |
  xargs -P 32 -I{} sh -c 'timeout 5 openssl s_client -connect {} </dev/null 2>/dev/null | grep -q \"BEGIN CERTIFICATE\" && echo ok' |
  wc -l"
truth=$(( (1 << (32 - peer_prefix)) * 2 ))
measure "nmap -sT --script ssl-cert" "$peer_prefix" "$truth" -- bash -c "
  nmap -n -Pn -sT -T4 -p $ports --script ssl-cert 127.1.0.0/$peer_prefix -oN $work/nmap.txt >/dev/null 2>&1
  grep -c 'ssl-cert: Subject' $work/nmap.txt"

{
  echo "| tool | range | targets | wall s | endpoints/s | TLS handshakes/s | CPU s per 1000 handshakes | peak RSS MiB | found / truth |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$root/.bench/compare.md"
echo "${json%,}]" >"$root/.bench/compare.json"
