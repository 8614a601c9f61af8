#!/usr/bin/env bash
# Exit codes cron can use, through the real binary against a real nginx farm
# on 127.0.53.0/29 (an expired certificate, refused ports):
# - findings alone exit 0; --fail-on critical exits 4 and names them (scan
#   and report); a bad severity is a usage error;
# - targets lost to local errors (no network in a fresh namespace) exit 3;
#   an unreachable host is a result (outcome unreachable), exit 0;
# - --resume with nothing to resume is an error, --resume=auto starts afresh
#   and says so; after an interrupted sweep it resumes, and after the
#   configuration changed it starts afresh;
# - every command answers an unknown flag with 2;
# - ers import of a file with no result line is exit 2, with bad lines 3.
set -uo pipefail
ers="$PWD/$1"
farm_bin="$PWD/$2"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-exit.XXXXXX")
export ERS_DB="$work/ers.db"
source tests/shell_checks.sh

mkdir -p "$work/farm"
"$farm_bin" "$work/farm" 127.0.53 >/dev/null || { echo "FAIL: demo_farm"; exit 1; }
/usr/sbin/nginx -p "$work/farm/" -c "$work/farm/nginx.conf" || { echo "FAIL: nginx"; exit 1; }
trap 'kill "$(cat "$work/farm/nginx.pid")" 2>/dev/null' EXIT

for cmd in discover scan report runs export import login logout status push; do
  "$ers" "$cmd" --no-such-flag >/dev/null 2>&1
  status=$?
  [ "$status" -eq 2 ]
  check $? "ers $cmd --no-such-flag exits 2 (got $status)"
done

"$ers" discover --ips 127.0.53.0/29 --ports "8443,9443" >/dev/null
"$ers" scan --roots "$work/farm/roots.pem" 2>"$work/err"
status=$?
[ "$status" -eq 0 ] && [ ! -s "$work/err" ]
check $? "a sweep with an expired certificate and refused ports: exit 0, silent without a terminal ($status: $(cat "$work/err"))"
"$ers" scan --roots "$work/farm/roots.pem" --fail-on critical 2>"$work/err"
status=$?
[ "$status" -eq 4 ] && grep -q "findings of severity critical or above: .*expired (critical, 1 endpoint)" "$work/err"
check $? "--fail-on critical: exit 4 naming the finding ($status: $(cat "$work/err"))"
"$ers" report --fail-on critical >/dev/null 2>"$work/err"
[ $? -eq 4 ] && grep -q "expired" "$work/err"
check $? "ers report --fail-on critical: exit 4"
"$ers" report --json --fail-on critical >"$work/report.json" 2>/dev/null
[ $? -eq 4 ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/report.json"
check $? "with --json too, the JSON intact on standard output"
"$ers" scan --roots "$work/farm/roots.pem" --fail-on nonsense 2>"$work/err"
[ $? -eq 2 ] && grep -q "is not a severity" "$work/err"
check $? "--fail-on with a word that is no severity: exit 2"

# -v, --debug and colour (standard error is not a terminal here).
"$ers" scan -v --roots "$work/farm/roots.pem" 2>"$work/verbose.txt"
grep -q "^127.0.53.2:8443 tls TLSv1.[23] .* expires 20[0-9-]* .*expired" "$work/verbose.txt" &&
  grep -q "^127.0.53.3:9443 refused (connection refused)$" "$work/verbose.txt" && ! grep -q $'\033' "$work/verbose.txt"
check $? "-v: one line per result, no colour off a terminal: $(head -3 "$work/verbose.txt")"
"$ers" scan --debug --color=always --roots "$work/farm/roots.pem" 2>"$work/debug.txt"
grep -q "attempts 1, rung tls1.3+1.2, connect .* ms" "$work/debug.txt" &&
  grep -q $'\033\[1;31mexpired\033\[0m' "$work/debug.txt"
check $? "--debug adds attempts and timings; --color=always colours severities"
"$ers" report --color=always | grep -q $'\033\[1;31mcritical'
check $? "report --color=always colours the critical findings"
"$ers" report | grep -q $'\033'
[ $? -ne 0 ]
check $? "report to a pipe: no escape codes"
"$ers" report --color=sometimes >/dev/null 2>&1
[ $? -eq 2 ]
check $? "--color=sometimes: exit 2"

# ers import of something that is no result file: exit 2, nothing imported.
"$ers" import /etc/passwd --db "$work/junk.db" >"$work/out" 2>"$work/err"
status=$?
[ "$status" -eq 2 ] && grep -q "passwd:1: skipped: result line is not a JSON object" "$work/err" &&
  grep -q "more lines skipped" "$work/err" && grep -q "no valid result line in /etc/passwd" "$work/err" &&
  [ ! -s "$work/out" ] &&
  [ "$(sqlite3 "$work/junk.db" "select status from scan_runs")" = failed ]
check $? "ers import /etc/passwd: exit 2, each line's reason, the run failed ($status: $(tail -1 "$work/err"))"
printf '{"schema_version":1,"ip":"127.0.0.1","port":443,"name":"","outcome":"refused"}\n{"outcome":"tls"}\n' >"$work/mixed.jsonl"
"$ers" import "$work/mixed.jsonl" --db "$work/junk.db" >"$work/out" 2>"$work/err"
status=$?
[ "$status" -eq 3 ] && grep -q "imported 1 results" "$work/out" && grep -q "mixed.jsonl:2: skipped" "$work/err"
check $? "a file with one bad line: the good one imported, exit 3 ($status: $(cat "$work/err"))"

# No network at all (a new namespace whose loopback is down): every target
# is a local error.
unshare -n "$ers" scan --ips 127.0.0.1 --ports 443 --db "$work/isolated.db" 2>"$work/err"
status=$?
[ "$status" -eq 3 ] && grep -q "1 target could not be scanned because of local errors" "$work/err"
check $? "local errors: exit 3 with one line saying so ($status: $(cat "$work/err"))"

# A host that is not there (EHOSTUNREACH: an unreachable route inside a
# namespace of the test's own, so nothing is sent) is a classified result,
# not a local error: exit 0.
unshare -n sh -c 'ip link set lo up && ip route add unreachable 192.0.2.0/24 && exec "$@"' sh \
  "$ers" scan --ips 192.0.2.1 --ports 443 --db "$work/unreachable.db" --output "$work/unreachable.jsonl" \
  2>"$work/err"
status=$?
[ "$status" -eq 0 ] && grep -q '"outcome":"unreachable","detail":"connect: host is unreachable"' "$work/unreachable.jsonl"
check $? "an unreachable host: outcome unreachable, exit 0 ($status: $(cat "$work/err") $(cut -c1-200 "$work/unreachable.jsonl"))"

"$ers" scan --resume 2>"$work/err"
[ $? -eq 2 ] && grep -q "no interrupted scan to resume" "$work/err"
check $? "--resume with nothing to resume: exit 2"
"$ers" scan --resume=auto --summary --roots "$work/farm/roots.pem" 2>"$work/err"
[ $? -eq 0 ] && grep -q "nothing to resume: starting a new sweep" "$work/err"
check $? "--resume=auto with nothing to resume starts afresh and says so: $(head -2 "$work/err")"
"$ers" scan --resume=maybe 2>/dev/null
[ $? -eq 2 ]
check $? "--resume=maybe is a usage error"

# interrupted_sweep: a slow sweep (--rate 20) of the /24, stopped with
# SIGINT once it has written results; leaves a resume point.
interrupted_sweep() {
  rm -f "$work/results.jsonl"
  "$ers" scan --rate 20 --output "$work/results.jsonl" --roots "$work/farm/roots.pem" \
    2>"$work/interrupt.err" &
  local pid=$!
  await_progress 0 "$pid"
  kill -INT "$pid"
  wait "$pid"
}
"$ers" discover --ips 127.0.53.0/24 --ports 8443 >/dev/null
interrupted_sweep
status=$?
[ "$status" -eq 3 ]
check $? "the slow sweep stops on SIGINT with exit 3 (got $status)"
grep -q "^ers: stopping: waiting for the probes in flight to finish" "$work/interrupt.err"
check $? "without a terminal SIGINT still says what the scan waits for: $(head -2 "$work/interrupt.err")"
"$ers" scan --resume=auto --summary --roots "$work/farm/roots.pem" 2>"$work/err"
[ $? -eq 0 ] && grep -q "resuming the interrupted sweep" "$work/err" &&
  [ "$(sqlite3 "$ERS_DB" "select json_extract(options, '$.resume') from scan_runs order by id desc limit 1")" = 1 ]
check $? "--resume=auto resumes the interrupted sweep: $(head -2 "$work/err")"
interrupted_sweep
"$ers" discover --ips 127.0.53.0/28 --ports 9443 >/dev/null
"$ers" scan --resume=auto --summary --roots "$work/farm/roots.pem" 2>"$work/err"
[ $? -eq 0 ] && grep -q "belongs to another sweep.*starting afresh" "$work/err"
check $? "--resume=auto after the configuration changed starts afresh: $(head -2 "$work/err")"

finish
