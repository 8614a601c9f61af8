#!/usr/bin/env bash
# ers report --html in a real browser: headless Chromium, run inside a
# network namespace of its own with no network at all (the page must need
# none, and the browser's own background requests go nowhere), loads the
# report of a real nginx farm sweep on 127.0.55.0/29 and the test reads the
# DOM after the page's script ran:
# - the timeline has one point per leaf expired or expiring within 90 days;
# - the table has one row per TLS endpoint; "#filter=" filters it and
#   "#sort=" sorts it (the script ran); no console error, no CSP violation;
# - the page references nothing outside itself;
# a screenshot is kept as a test artefact (report.png).
set -uo pipefail
ers="$PWD/$1"
farm_bin="$PWD/$2"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-html.XXXXXX")
export ERS_DB="$work/ers.db"
export HOME="$work"  # Chromium's profile and caches
mkdir -p "$work/farm"
"$farm_bin" "$work/farm" 127.0.55 >/dev/null || { echo "FAIL: demo_farm"; exit 1; }
/usr/sbin/nginx -p "$work/farm/" -c "$work/farm/nginx.conf" || { echo "FAIL: nginx"; exit 1; }
trap 'kill "$(cat "$work/farm/nginx.pid")" 2>/dev/null' EXIT

"$ers" discover --ips 127.0.55.0/29 --ports 8443,9443,10993 >/dev/null
"$ers" scan --roots "$work/farm/roots.pem" 2>/dev/null
"$ers" report --html "$work/report.html" >/dev/null
check $? "ers report --html writes the page"
[ "$(stat -c %a "$work/report.html")" = 644 ]
check $? "the page is readable by others (0644)"
! grep -Eq '(src|href)="[^"#]|https?://|url\(' "$work/report.html"
check $? "the page references nothing outside itself"

# browser URL-FRAGMENT OUT: the DOM after the script ran, console on stderr.
browser() {
  timeout 120 unshare -n chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
    --virtual-time-budget=3000 --dump-dom "file://$work/report.html$1" >"$2" 2>"$2.err"
}
browser "" "$work/dom.html"
check $? "Chromium loads the page"
tls=$(sqlite3 "$ERS_DB" "select count(*) from endpoint_results where run_id = (select max(id) from scan_runs)")
rows=$(grep -c '^<tr><td data-sort=' "$work/dom.html")
[ "$tls" -eq 7 ] && [ "$rows" -eq "$tls" ]
check $? "one table row per TLS endpoint ($rows rows, $tls endpoints)"
grep -q "$tls of $tls endpoints shown" "$work/dom.html"
check $? "the script ran: '$(grep -o '[0-9]* of [0-9]* endpoints shown' "$work/dom.html")'"
# Expired or within 90 days: old.demo.test (expired) and soon.demo.test (12 days).
points=$(grep -o '<circle class="leaf ' "$work/dom.html" | wc -l)
[ "$points" -eq 2 ] && grep -q 'data-timeline-points="2"' "$work/dom.html"
check $? "the timeline has a point per leaf expired or expiring within 90 days ($points)"
[ "$(grep -o '<svg [^>]*role="img"' "$work/dom.html" | wc -l)" -eq 5 ] &&
  [ "$(grep -o '<desc id=' "$work/dom.html" | wc -l)" -eq 5 ]
check $? "five charts, each with a text description for screen readers"
! grep -Eiq 'CONSOLE.*(error|uncaught)|Refused to|Uncaught' "$work/dom.html.err"
check $? "no console error and no CSP violation: $(grep -Ei 'console|refused' "$work/dom.html.err" | head -3)"

browser "#filter=expired" "$work/filtered.html"
grep -q "1 of $tls endpoints shown" "$work/filtered.html" &&
  [ "$(grep -c '^<tr hidden=""' "$work/filtered.html")" -eq $((tls - 1)) ]
check $? "#filter=expired leaves the one expired endpoint: $(grep -o '[0-9]* of [0-9]* endpoints shown' "$work/filtered.html")"
browser "#sort=5" "$work/sorted.html"
first=$(grep -m1 '^<tr' "$work/sorted.html" | grep -o '<td>[a-z.]*demo.test</td>' | head -1)
[ "$first" = "<td>old.demo.test</td>" ]
check $? "#sort=5 (days left) puts the expired certificate first ($first)"

# The screenshot, kept by Bazel as an artefact of the test.
shots="${TEST_UNDECLARED_OUTPUTS_DIR:-$work}"
timeout 120 unshare -n chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size=1200,2400 \
  --screenshot="$shots/report.png" "file://$work/report.html" >/dev/null 2>&1
[ -s "$shots/report.png" ]
check $? "a screenshot of the page ($shots/report.png)"

rm -rf "$work/profile"
finish
