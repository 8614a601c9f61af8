#!/usr/bin/env bash
# The product spec's five listings, verbatim, end to end. The names of the
# listings are mapped onto a loopback nginx farm with ers's own resolver
# (ers discover --resolve); 198.51.100.0/24 belongs to someone else, so it is
# checked as configuration only, excluded as a safety net, and replaced by
# the equivalent 127.0.44.0/24 before anything is scanned.
set -uo pipefail
ers="$PWD/$1"
farm_bin="$PWD/$2"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-listings.XXXXXX")
export ERS_DB="$work/ers.db"
source tests/shell_checks.sh

mkdir -p "$work/farm"
"$farm_bin" "$work/farm" 127.0.44 >/dev/null || { echo "FAIL: demo_farm"; exit 1; }
/usr/sbin/nginx -p "$work/farm/" -c "$work/farm/nginx.conf" || { echo "FAIL: nginx"; exit 1; }
trap 'kill "$(cat "$work/farm/nginx.pid")" 2>/dev/null' EXIT

# Safety net first: 198.51.100.0/24 can never be a target.
printf '198.51.100.0/24  # documentation range: never scan\n' >"$work/exclude.txt"
"$ers" discover --exclude-file "$work/exclude.txt" >/dev/null

# Listings 1 to 4, verbatim.
ers() { "$ers" "$@"; }
ers discover --servers mail.example.com >/dev/null
check $? "listing 1"
ers discover --servers "mail.example.com,web.example.com" --ports "8443,9443" >/dev/null
check $? "listing 2"
ers discover --servers server1.example.com --ports "8000-9000,9443" >/dev/null
check $? "listing 3"
ers discover --ips 198.51.100.0/24 --ports "8000-9000" >/dev/null
check $? "listing 4"

# As configuration: 2 + 2 + 1,002 + 256 x 1,001 targets (the exclusion is
# set aside for this dry run only; it sends nothing).
ers scan --dry-run --exclude-file /dev/null | grep -q "targets: *257,262 "
check $? "the listings configure 257,262 targets"
ers scan --dry-run | grep -q "targets: *1,006 "
check $? "with the exclusion, 198.51.100.0/24 is cut out of the plan"

# Swap the documentation range for a loopback one, map the names, and run
# listing 5 verbatim. Under the sanitizers (20 times slower) the range is a
# /29 instead of a /24: the same endpoints, 8,000 targets instead of 256,256.
range=127.0.44.0/24
[ -n "${ERS_SANITIZED:-}" ] && range=127.0.44.0/29
ers discover --remove 198.51.100.0/24 >/dev/null
ers discover --ips "$range" --ports "8000-9000" >/dev/null
ers discover --resolve "mail.example.com=127.0.44.1,web.example.com=127.0.44.2,server1.example.com=127.0.44.4" >/dev/null
ers discover --list | grep -q "resolve: mail.example.com=127.0.44.1"
check $? "the name mapping is stored"

ers scan >"$work/scan.out" 2>"$work/scan.err"
check $? "listing 5 (ers scan) exits 0: $(cat "$work/scan.err")"
[ ! -s "$work/scan.out" ] && [ ! -s "$work/scan.err" ]
check $? "ers scan is silent without a terminal, as cron needs"

tls=$(sqlite3 "$ERS_DB" "select count(*) from endpoint_results where run_id = (select max(id) from scan_runs)")
[ "$tls" -eq 7 ]
check $? "seven TLS endpoints found (got $tls)"
for endpoint in "127.0.44.1|8443|mail.example.com" "127.0.44.1|9443|mail.example.com" \
                "127.0.44.2|8443|web.example.com" "127.0.44.4|9443|server1.example.com" \
                "127.0.44.1|8443|" "127.0.44.2|8443|" "127.0.44.6|8443|"; do
  sqlite3 "$ERS_DB" "select ip || '|' || port || '|' || name from endpoint_results" | grep -qx "$endpoint"
  check $? "found $endpoint"
done
sqlite3 "$ERS_DB" "select sni from endpoint_results where name = 'web.example.com'" | grep -qx "web.example.com"
check $? "names are sent as SNI"
[ "$(sqlite3 "$ERS_DB" "select count(*) from endpoint_results where ip like '198.51.100.%'")" -eq 0 ]
check $? "nothing of 198.51.100.0/24"
ers report | grep -q "expired *1"
check $? "ers report sees the expired certificate"

finish
