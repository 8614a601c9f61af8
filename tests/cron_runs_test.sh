#!/usr/bin/env bash
# Runs as first-class objects, the way cron sees them, against a real nginx
# farm on 127.0.52.0/29:
# - a configured sweep, then an ad-hoc scan between two regular ones: the
#   ad-hoc run is listed but is neither "the latest" of ers report nor
#   spooled for the CLM (unless --push);
# - a sweep with every server down, and one with every target excluded:
#   ers report describes that run, says it found nothing, and lists the
#   certificates that disappeared;
# - --run / --since; ers runs (table and JSON);
# - read-only commands with a mistyped --db create nothing;
# - ers discover: --ports alone needs --all, contradictions are refused.
set -uo pipefail
ers="$PWD/$1"
farm_bin="$PWD/$2"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-runs.XXXXXX")
export ERS_DB="$work/ers.db"
source tests/shell_checks.sh

mkdir -p "$work/farm"
"$farm_bin" "$work/farm" 127.0.52 >/dev/null || { echo "FAIL: demo_farm"; exit 1; }
nginx_up() { /usr/sbin/nginx -p "$work/farm/" -c "$work/farm/nginx.conf"; }
nginx_down() {
  local pid
  pid=$(cat "$work/farm/nginx.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null
  # nginx is down when its master is gone (bounded: 10 s).
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}
nginx_up || { echo "FAIL: nginx"; exit 1; }
trap 'nginx_down' EXIT

# Read-only commands with a mistyped --db: exit 2, the path named, nothing created.
for cmd in "report" "runs" "export --csv" "discover --list"; do
  # shellcheck disable=SC2086
  "$ers" $cmd --db "$work/typo/ers.db" >/dev/null 2>"$work/err"
  status=$?
  [ "$status" -eq 2 ] && grep -q "no inventory at $work/typo/ers.db" "$work/err" &&
    [ ! -e "$work/typo" ]
  check $? "ers $cmd with a mistyped --db: exit 2, path named, nothing created ($status: $(cat "$work/err"))"
done

"$ers" discover --ips 127.0.52.0/29 --ports "8443,9443" >/dev/null
"$ers" scan --roots "$work/farm/roots.pem" 2>"$work/err"
check $? "configured sweep 1 exits 0 ($(cat "$work/err"))"
# Spool for a CLM that is not there: only what is meant for it lands.
"$ers" login --url https://127.0.0.1:9 --token-stdin --no-check <<<"tok-0123456789abcdef" >/dev/null
spooled() { if [ -d "$work/ers.db.spool" ]; then find "$work/ers.db.spool" -maxdepth 1 -name '*.json' | wc -l; else echo 0; fi; }
before=$(spooled)
"$ers" scan --ips 127.0.52.1 --ports 8443 --roots "$work/farm/roots.pem" 2>"$work/err"
status=$?
[ "$status" -eq 0 ] && [ "$(spooled)" -eq "$before" ]
check $? "an ad-hoc scan is not sent to the CLM ($status, spool $before -> $(spooled))"
"$ers" scan --no-push --roots "$work/farm/roots.pem" 2>"$work/err"
check $? "configured sweep 3 exits 0"
"$ers" report --json >"$work/report.json"
python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["run"]["id"] == 3 and r["run"]["kind"] == "configured", r["run"]
assert r["previous_run"]["id"] == 1, r["previous_run"]
assert r["run"]["started"].endswith("Z") and r["run"]["finished"].endswith("Z")
assert r["changes"]["disappeared_certificates"] == [], r["changes"]
PY
check $? "the report describes sweep 3 against sweep 1, not the ad-hoc run 2"
"$ers" report --run 2 --json >"$work/adhoc.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["run"]["kind"]=="adhoc" and r["previous_run"] is None and r["run"]["tls_endpoints"]==1, r["run"]' "$work/adhoc.json"
check $? "--run 2 describes the ad-hoc run, compared with nothing"
"$ers" report --run 77 >/dev/null 2>"$work/err"
[ $? -eq 2 ] && grep -q "no run 77" "$work/err"
check $? "--run of a run that does not exist: exit 2 ($(cat "$work/err"))"

# Every server down.
nginx_down
"$ers" scan --no-push --roots "$work/farm/roots.pem" 2>"$work/err"
"$ers" report >"$work/down.txt"
check $? "ers report after the all-down sweep exits 0"
grep -q "^ers report: run 4 (configured sweep), .* UTC, done" "$work/down.txt" &&
  grep -q "this run found no TLS endpoint: every certificate the run before saw" "$work/down.txt" &&
  grep -q "refused" "$work/down.txt"
check $? "the report describes the all-down run 4 and says it found nothing: $(head -5 "$work/down.txt")"
"$ers" report --json >"$work/down.json"
python3 - "$work/down.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["run"]["id"] == 4 and r["run"]["tls_endpoints"] == 0, r["run"]
assert r["run"]["outcomes"].get("refused", 0) > 0, r["run"]
assert len(r["changes"]["disappeared_certificates"]) > 0, r["changes"]
PY
check $? "the all-down run lists every certificate as disappeared"

# Every target excluded.
nginx_up
printf '127.0.52.0/29\n' >"$work/exclude.txt"
"$ers" discover --exclude-file "$work/exclude.txt" >/dev/null
"$ers" scan --no-push --roots "$work/farm/roots.pem" 2>"$work/err"
status=$?
[ "$status" -eq 2 ] && grep -q "every address given is excluded" "$work/err"
check $? "a sweep with every target excluded: exit 2 ($status: $(cat "$work/err"))"
"$ers" report >"$work/excluded.txt"
grep -q "^ers report: run 5 (configured sweep), .*, failed" "$work/excluded.txt" &&
  grep -q "this run failed: nothing to sweep: every address given is excluded" "$work/excluded.txt"
check $? "the report describes the failed run 5 and why: $(head -4 "$work/excluded.txt")"
"$ers" report --since 3 --json >"$work/since.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["run"]["id"]==5 and r["run"]["error"] and r["previous_run"]["id"]==3 and len(r["changes"]["disappeared_certificates"])>0' "$work/since.json"
check $? "--since 3 compares run 5 with run 3"

"$ers" runs >"$work/runs.txt"
[ "$(grep -c '^ *[0-9]' "$work/runs.txt")" -eq 5 ] &&
  grep -q '^ *2  adhoc ' "$work/runs.txt" && grep -q '^ *5  configured .* failed .*excluded' "$work/runs.txt"
check $? "ers runs lists the five runs with their kinds: $(cat "$work/runs.txt")"
"$ers" runs --json --limit 2 >"$work/runs.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert [x["id"] for x in r]==[5,4] and r[1]["outcomes"]["refused"]>0' "$work/runs.json"
check $? "ers runs --json --limit 2"

# An ad-hoc scan sent on purpose.
"$ers" discover --no-exclude-file >/dev/null
before=$(spooled)
"$ers" scan --ips 127.0.52.1 --ports 8443 --push --roots "$work/farm/roots.pem" 2>"$work/err"
status=$?
[ "$status" -eq 3 ] && [ "$(spooled)" -gt "$before" ]
check $? "ad-hoc with --push is spooled and its failed delivery is exit 3 ($status)"
"$ers" scan --push >/dev/null 2>"$work/err"
[ $? -eq 2 ] && grep -q "for ad-hoc scans" "$work/err"
check $? "--push without targets is refused"

# ers discover's guards.
"$ers" discover --ports 443 >/dev/null 2>"$work/err"
[ $? -eq 2 ] && grep -q "add --all" "$work/err" &&
  "$ers" discover --list | grep -q "ports 8443,9443"
check $? "--ports alone is refused without --all, nothing changed ($(cat "$work/err"))"
"$ers" discover --ports 443 --all >/dev/null && "$ers" discover --list | grep -q "ports 443$"
check $? "--ports --all re-configures every entry"
"$ers" discover --servers a.example.com --remove a.example.com >/dev/null 2>"$work/err"
[ $? -eq 2 ] && grep -q "both added and removed" "$work/err"
check $? "adding and removing one entry is refused"
"$ers" discover --exclude-file "$work/exclude.txt" --no-exclude-file >/dev/null 2>&1
[ $? -eq 2 ]
check $? "--exclude-file with --no-exclude-file is refused"

# Trust and policy stored with the configuration: a cron line without
# --roots still trusts the private root.
"$ers" discover --ips 127.0.52.0/29 --ports 9443 >/dev/null
trusted_clean() {  # trust of 127.0.52.1:9443 in the newest run
  sqlite3 "$ERS_DB" "select trusted from endpoint_results where ip = '127.0.52.1' and port = 9443 \
    order by run_id desc limit 1"
}
"$ers" scan --no-push 2>/dev/null
[ "$(trusted_clean)" = 0 ]
check $? "without the private root the clean endpoint is untrusted"
printf 'expiry_thresholds_days = 400\nexpiry_lifetime_fraction = 0\n' >"$work/policy.conf"
"$ers" discover --roots "$work/farm/roots.pem" --policy "$work/policy.conf" >"$work/out"
"$ers" discover --list >"$work/list.txt"
grep -q "^roots: $work/farm/roots.pem$" "$work/list.txt" && grep -q "^policy: $work/policy.conf$" "$work/list.txt"
check $? "discover --list shows the stored roots and policy: $(tail -3 "$work/list.txt")"
"$ers" scan --no-push 2>/dev/null
[ "$(trusted_clean)" = 1 ] &&
  [ "$(sqlite3 "$ERS_DB" "select count(*) from endpoint_results where run_id = (select max(id) from scan_runs) and findings like '%expiring_soon%'")" -gt 0 ]
check $? "a scan without --roots/--policy uses the stored ones (trusted; the 400-day threshold)"
"$ers" discover --roots "$work/nope.pem" >/dev/null 2>"$work/err"
[ $? -eq 2 ] && grep -q "nope.pem" "$work/err"
check $? "a missing roots file is refused when stored, not at scan time ($(cat "$work/err"))"
printf 'expiry_thresholds_days = soon\n' >"$work/bad-policy.conf"
"$ers" discover --policy "$work/bad-policy.conf" >/dev/null 2>"$work/err"
[ $? -eq 2 ] && grep -q "bad-policy.conf:1" "$work/err"
check $? "a bad policy file is refused with its line ($(cat "$work/err"))"
"$ers" discover --no-roots --no-policy >/dev/null && "$ers" scan --no-push 2>/dev/null
[ "$(trusted_clean)" = 0 ]
check $? "--no-roots forgets them"
"$ers" discover --roots "$work/farm/roots.pem" --no-roots >/dev/null 2>&1
[ $? -eq 2 ]
check $? "--roots with --no-roots is refused"

finish
