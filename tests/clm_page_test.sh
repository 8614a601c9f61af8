#!/usr/bin/env bash
# ers-clm's page for administrators (GET /), inside a network namespace of
# the test's own (loopback only; the browser reaches nothing else):
# - no credentials: 401 with a Basic challenge; a client's token: 403; an
#   admin token (bearer, or HTTP Basic with the token as password): the
#   page, with a Content-Security-Policy;
# - headless Chromium logs in with Basic credentials and the DOM lists
#   every client and one row per stored sighting, with findings; no console
#   error; a screenshot is kept as a test artefact.
set -uo pipefail
if [ -z "${ERS_IN_NETNS:-}" ]; then
  ERS_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
farm_net=127.0.56
source tests/clm_test_env.sh
export HOME="$work"
admin_token=tok-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'auditor %s admin\n' "$admin_token" >>"$work/tokens"
start_clm
base="https://127.0.0.1:$port"
"$ers" discover --ips "$farm_net.0/29" --ports 8443,9443,10993 >/dev/null
"$ers" login --url "$base" --token-file "$work/token" --ca-file "$work/pki/ca.pem" >/dev/null
"$ers" scan --roots "$work/farm/roots.pem" 2>"$work/err"
check $? "a scan pushed to the CLM: $(cat "$work/err")"

get() {  # get [curl args...]: the page's status; headers in $work/h, body in $work/page
  curl -s --cacert "$work/pki/ca.pem" -D "$work/h" -o "$work/page" -w '%{http_code}' "$@" "$base/"
}
code=$(get)
[ "$code" = 401 ] && grep -qi '^WWW-Authenticate: Basic realm="ers-clm"' "$work/h"
check $? "no credentials: 401 with a Basic challenge ($code)"
code=$(get -H "Authorization: Bearer $token")
[ "$code" = 403 ]
check $? "a client's own token: 403 ($code)"
code=$(get -H "Authorization: Bearer $admin_token")
[ "$code" = 200 ] && grep -qi "^Content-Type: text/html" "$work/h" &&
  grep -qi "^Content-Security-Policy: default-src 'none'" "$work/h"
check $? "an admin token: the page, text/html under a CSP ($code)"
code=$(get -u "auditor:$admin_token")
[ "$code" = 200 ]
check $? "HTTP Basic with the admin token as password ($code)"
code=$(get -u "someone-else:$admin_token")
[ "$code" = 401 ]
check $? "HTTP Basic under another name: 401 ($code)"

timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$work/profile" --ignore-certificate-errors --enable-logging=stderr --v=0 \
  --dump-dom "https://auditor:$admin_token@127.0.0.1:$port/" >"$work/dom.html" 2>"$work/dom.err"
check $? "Chromium loads the page"
sightings=$(clm_count "select count(*) from sightings")
rows=$(sed -n '/<table id="sightings">/,/<\/table>/p' "$work/dom.html" | grep -c '^<tr><td>')
[ "$sightings" -ge 7 ] && [ "$rows" -eq "$sightings" ]
check $? "one row per stored sighting ($rows rows, $sightings sightings)"
grep -q '<td>token:scanner1</td><td>token</td>' "$work/dom.html" &&
  grep -q '<td>token:auditor</td>' "$work/dom.html"
check $? "the clients with their kind"
grep -q 'class="finding">expired (critical)' "$work/dom.html"
check $? "findings shown on their sightings"
! grep -Eiq 'CONSOLE.*(error|uncaught)|Refused to|Uncaught' "$work/dom.err"
check $? "no console error: $(grep -Ei 'console|refused' "$work/dom.err" | head -3)"
shots="${TEST_UNDECLARED_OUTPUTS_DIR:-$work}"
timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$work/profile" --ignore-certificate-errors --hide-scrollbars \
  --window-size=1200,1400 --screenshot="$shots/clm_page.png" \
  "https://auditor:$admin_token@127.0.0.1:$port/" >/dev/null 2>&1
[ -s "$shots/clm_page.png" ]
check $? "a screenshot of the page ($shots/clm_page.png)"

cleanup
finish
