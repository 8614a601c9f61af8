#!/usr/bin/env bash
# demo.sh: installs what is missing, builds ers, starts a demo TLS farm
# (nginx on 127.0.42.0/29, loopback only), configures ers with `ers discover`
# and sweeps the farm with `ers scan`, then shows the results.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
bazel build -c opt //cli:ers //tests:demo_farm
ers=$PWD/.bazel/bin/cli/ers

demo=$PWD/.demo
if [ -f "$demo/farm/nginx.pid" ]; then
  kill "$(cat "$demo/farm/nginx.pid")" 2>/dev/null || true
fi
rm -rf "$demo"
mkdir -p "$demo/farm"
export ERS_DB="$demo/ers.db"

echo "== the demo farm (nginx on loopback):"
.bazel/bin/tests/demo_farm "$demo/farm"
/usr/sbin/nginx -p "$demo/farm/" -c "$demo/farm/nginx.conf"
trap 'kill "$(cat "$demo/farm/nginx.pid")" 2>/dev/null || true' EXIT

run() {
  echo
  echo "\$ $*"
  "$ers" "${@:2}"
}
echo
echo "== configure (the product spec's listings use example names; the demo"
echo "   points the same commands at the loopback farm):"
run ers discover --ips 127.0.42.0/29 --ports "8443,9443,10993"
run ers discover --servers www.demo.test --ports 8443
run ers discover --resolve www.demo.test=127.0.42.1
run ers discover --list
run ers scan --dry-run --show 5

echo
echo "== sweep:"
echo "(the farm's private roots are trusted with --roots, as an enterprise PKI would be;"
echo " --summary prints the summary that a terminal would show)"
echo "\$ ers scan --roots $demo/farm/roots.pem --output $demo/scan.jsonl --summary"
"$ers" scan --roots "$demo/farm/roots.pem" --output "$demo/scan.jsonl" --summary
echo
echo "== JSON Lines written to $demo/scan.jsonl ($(wc -l <"$demo/scan.jsonl") results); the TLS ones, shortened:"
grep '"outcome":"tls"' "$demo/scan.jsonl" | cut -c1-220 | sed 's/$/ .../'
echo
echo "== findings per endpoint (from the \"analysis\" of each result):"
grep '"outcome":"tls"' "$demo/scan.jsonl" |
  sed -E 's/.*"ip":"([^"]*)","port":([0-9]*),"name":"([^"]*)".*"findings":\[(.*)\]\}\}$/\1:\2 \3|\4/' |
  while IFS='|' read -r endpoint findings; do
    ids=$(grep -o '"id":"[a-z_]*"' <<<"$findings" | cut -d'"' -f4 | tr '\n' ' ' || true)
    printf '  %-36s %s\n' "$endpoint" "${ids:-(none)}"
  done

run ers report
