#!/usr/bin/env bash
# Exactly-once delivery to the reference CLM, end to end:
# - a 2xx reply that acknowledges another batch id is not a delivery: the
#   batch stays spooled, and the next push stores it once;
# - a batch the CLM refuses for good (400) is set aside with its reason,
#   shown by ers status, and does not hold up the batches behind it;
#   ers push --retry-rejected sends it again;
# - a scan killed (SIGKILL) before its batches were spooled: the next
#   ers push spools and delivers what that run recorded;
# - a spool at its bound: the scan warns and keeps the run in the
#   inventory; ers push with room spools and delivers it.
set -uo pipefail
farm_net=127.0.47
source tests/clm_test_env.sh
spooled() { find "$ERS_DB.spool" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l; }

start_clm --inject-wrong-ack 1
"$ers" discover --ips "$farm_net.0/29" --ports "8443,9443,10993" >/dev/null
"$ers" login --url "https://127.0.0.1:$port" --token-file "$work/token" \
  --ca-file "$work/pki/ca.pem" >/dev/null
check $? "login"

# 1. An acknowledgement naming another batch.
"$ers" scan --roots "$work/farm/roots.pem" --no-push 2>/dev/null
before=$(clm_count "select count(*) from batches")
"$ers" push --max-attempts 1 >"$work/out" 2>"$work/err"
status=$?
[ "$status" -eq 3 ] && [ "$(spooled)" -eq 1 ] && grep -q 'acknowledges batch "some-other-batch"' "$work/err"
check $? "a reply naming another batch is no delivery (exit $status): $(cat "$work/err")"
"$ers" push >"$work/out" 2>&1
check $? "the next push delivers it: $(cat "$work/out")"
grep -q "already stored by the CLM" "$work/out"
check $? "as a duplicate the CLM recognises"
[ "$(clm_count "select count(*) from batches")" -eq $((before + 1)) ] && [ "$(spooled)" -eq 0 ]
check $? "stored exactly once, spool empty"

# 2. A batch refused for good ahead of a good one.
mkdir -p "$ERS_DB.spool"
printf '{"batch_id":"refused-batch","certificates":"not a list"}' \
  >"$ERS_DB.spool/00000000000000000000-000000-refused-batch.json"
chmod 600 "$ERS_DB.spool"/*.json
"$ers" scan --roots "$work/farm/roots.pem" --no-push 2>/dev/null
before=$(clm_count "select count(*) from batches")
"$ers" push >"$work/out" 2>"$work/err"
status=$?
[ "$status" -eq 3 ]
check $? "push with a refused batch exits 3 (partial): $(cat "$work/out")"
[ "$(clm_count "select count(*) from batches")" -eq $((before + 1)) ] && [ "$(spooled)" -eq 0 ]
check $? "the good batch behind the refused one is delivered"
[ -f "$ERS_DB.spool/rejected/00000000000000000000-000000-refused-batch.json" ]
check $? "the refused batch is set aside"
"$ers" status >"$work/status"
grep -q "rejected:    1 batch" "$work/status" && grep -q "refused-batch.json: .*HTTP 400" "$work/status"
check $? "ers status shows it with the CLM's reason: $(grep -A1 rejected "$work/status" | tail -1)"
"$ers" push --retry-rejected >"$work/out" 2>&1
grep -q "1 rejected batch(es) back in the queue" "$work/out" &&
  [ -f "$ERS_DB.spool/rejected/00000000000000000000-000000-refused-batch.json" ]
check $? "--retry-rejected sends it again (and the CLM refuses it again)"
rm -rf "$ERS_DB.spool/rejected"

# 3. A scan killed before its batches were spooled.
previous=$(sqlite3 "$ERS_DB" "select max(id) from scan_runs")
"$ers" scan --roots "$work/farm/roots.pem" --rate 2 --quiet 2>/dev/null &
scan_pid=$!
# Wait (at most 20 s) until the new run has committed two endpoints.
run=$((previous + 1))
for _ in $(seq 1 400); do
  n=$(sqlite3 "$ERS_DB" "select count(*) from endpoint_results where run_id = $run" 2>/dev/null)
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.05
done
kill -KILL "$scan_pid"; wait "$scan_pid" 2>/dev/null
recorded=$(sqlite3 "$ERS_DB" "select count(*) from endpoint_results where run_id = $run")
[ "$recorded" -ge 2 ] && [ "$(spooled)" -eq 0 ]
check $? "the killed scan recorded $recorded endpoints and spooled nothing"
before=$(clm_count "select count(*) from batches")
"$ers" push >"$work/out" 2>&1
check $? "ers push spools and delivers the killed run: $(cat "$work/out")"
[ "$(clm_count "select count(*) from batches")" -eq $((before + 1)) ]
check $? "one batch for the killed run ($(clm_count "select count(*) from batches") after $before)"
[ "$(sqlite3 "$ERS_DB" "select spooled from scan_runs where id = $run")" = 1 ]
check $? "the killed run is marked spooled"

# 4. The spool bound.
"$ers" scan --roots "$work/farm/roots.pem" --spool-max-bytes 100 2>"$work/err"
status=$?
[ "$status" -eq 3 ] && grep -q "spool .* is full" "$work/err"
check $? "a scan with a full spool warns and exits 3: $(head -1 "$work/err")"
[ "$(spooled)" -eq 0 ]
check $? "nothing past the bound was spooled"
before=$(clm_count "select count(*) from batches")
"$ers" push >"$work/out" 2>&1
check $? "ers push with room spools and delivers it: $(cat "$work/out")"
[ "$(clm_count "select count(*) from batches")" -eq $((before + 1)) ]
check $? "the run held back by the bound arrives once"
[ "$(sqlite3 "$ERS_DB" "select count(*) from scan_runs where spooled = 0")" -eq 0 ]
check $? "every run is spooled"
cleanup
finish
