#!/usr/bin/env bash
# demo.sh: installs what is missing, builds ers, starts a demo TLS farm
# (nginx on 127.0.42.0/29, loopback only), configures ers with `ers discover`
# and sweeps the farm with `ers scan`, then shows the results, and ends by
# requesting a certificate for one of the farm's names from the demo CLM.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
bazel build -c opt //cli:ers //clm:ers-clm //tests:demo_farm //tests:clm_pki
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
clm_pid=""
trap 'kill "$(cat "$demo/farm/nginx.pid")" 2>/dev/null || true; [ -n "$clm_pid" ] && kill "$clm_pid" 2>/dev/null || true' EXIT

echo
echo "== the reference CLM (ers-clm, HTTPS on 127.0.0.1, a token for this client;"
echo "   it issues certificates under demo.test from its own CA):"
mkdir -p "$demo/clm"
.bazel/bin/tests/clm_pki "$demo/clm" demo-cert
token=demo-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'demo-scanner %s\n' "$token" >"$demo/clm/tokens"
(umask 077; printf '%s\n' "$token" >"$demo/clm/token")
(umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=ers demo issuing CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$demo/clm/issuing-ca.key" -out "$demo/clm/issuing-ca.pem" 2>/dev/null)
printf 'token:demo-scanner dns=demo.test ip=127.0.42.0/29 days=90 approval=auto\n' \
  >"$demo/clm/issuing.policy"
.bazel/bin/clm/ers-clm --listen 127.0.0.1:0 --db "$demo/clm/clm.db" \
  --cert "$demo/clm/server.pem" --key "$demo/clm/server.key" \
  --tokens-file "$demo/clm/tokens" --port-file "$demo/clm/port" \
  --issuing-ca "$demo/clm/issuing-ca.pem,$demo/clm/issuing-ca.key" \
  --issuing-policy "$demo/clm/issuing.policy" 2>"$demo/clm/log" &
clm_pid=$!
for _ in $(seq 1 100); do [ -s "$demo/clm/port" ] && break; sleep 0.1; done
clm_url="https://127.0.0.1:$(cat "$demo/clm/port")"
echo "listening on $clm_url"

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
run ers login --url "$clm_url" --token-file "$demo/clm/token" --ca-file "$demo/clm/ca.pem"
run ers scan --dry-run --show 5

echo
echo "== sweep:"
echo "(the farm's private roots are trusted with --roots, as an enterprise PKI would be;"
echo " --summary prints the summary that a terminal would show; the results are"
echo " pushed to the CLM at the end of the scan)"
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
run ers status --remote
echo
echo "\$ ers report --html $demo/report.html --prometheus $demo/ers.prom > /dev/null"
"$ers" report --html "$demo/report.html" --prometheus "$demo/ers.prom" >/dev/null
echo "== the report as a page: $demo/report.html (self-contained: open it in any browser);"
echo "   metrics for node_exporter's textfile collector: $demo/ers.prom"

echo
echo "== what expires within 30 days, and a new certificate for soon.demo.test"
echo "   from the demo CLM (the key is made here, 0600, and never sent):"
run ers renew --within 30d --dry-run
run ers request --cn soon.demo.test --out "$demo/certs"
ls -l "$demo/certs"
