#!/usr/bin/env bash
# ers scan killed with SIGKILL at random moments during a sweep of a /20 on
# loopback, then resumed with ers scan --resume each time: together the runs
# report every target, repeats stay within what was in flight or not yet
# committed at each kill, and the inventory passes SQLite's integrity check.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-kill.XXXXXX")
export ERS_DB="$work/ers.db"
targets=4096
"$ers" discover --ips 127.0.64.0/20 --ports 20443 >/dev/null

kills=0
before=$(lines_now)
"$ers" scan --rate 3000 --checkpoint-interval 50ms --no-analysis --output "$work/results.jsonl" --quiet &
pid=$!
for round in 1 2 3; do
  await_progress "$before" "$pid"
  # Then a random moment 0.2 to 0.7 s later.
  sleep "0.$(( RANDOM % 6 + 2 ))"
  kill -KILL "$pid" 2>/dev/null
  killed_mid_sweep "$pid" && kills=$((kills + 1))
  [ "$(sqlite3 "$ERS_DB" 'pragma integrity_check')" = "ok" ]
  check $? "inventory consistent after kill $round"
  # A kill that came after the sweep finished leaves nothing to resume.
  if ! has_resume_point; then
    pid=""
    break
  fi
  before=$(lines_now)
  "$ers" scan --resume --rate 3000 --checkpoint-interval 50ms --no-analysis --output "$work/results.jsonl" --quiet 2>"$work/err" &
  pid=$!
done
status=0
if [ -n "$pid" ]; then
  wait "$pid"
  status=$?
fi
[ "$status" -eq 0 ]
check $? "the last resume completes (exit $status: $(cat "$work/err"))"
unique=$(sed -E 's/.*"ip":"([^"]*)","port":([0-9]*).*/\1:\2/' "$work/results.jsonl" | sort -u | wc -l)
total=$(wc -l <"$work/results.jsonl")
[ "$unique" -eq "$targets" ]
check $? "every one of the $targets targets has a result ($unique)"
# At 3,000 attempts/s, the 50 ms commit interval plus what is in flight
# stays under 400 targets per kill.
[ $((total - unique)) -le $((kills * 400)) ]
check $? "repeats stay within the commit window: $((total - unique)) after $kills kills"
[ "$kills" -ge 1 ]
check $? "at least one scan was killed mid-sweep ($kills)"
echo "kills: $kills, results: $total, distinct targets: $unique"
[ "$(sqlite3 "$ERS_DB" "select count(*) from scan_runs where status = 'killed'")" -eq "$kills" ]
check $? "each killed run is marked killed"
rm -rf "$work"
finish
