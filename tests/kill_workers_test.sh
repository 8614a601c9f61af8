#!/usr/bin/env bash
# A multi-worker ers scan (--workers 2) of a /20 on loopback, killed with
# SIGKILL at random moments, alternately the parent and one worker process,
# then resumed with ers scan --resume each time: together the runs report
# every target, repeats stay within what was in flight or not yet committed
# at each kill, a worker's death is reported (never silently dropped), and
# the inventory passes SQLite's integrity check.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-kill-workers.XXXXXX")
export ERS_DB="$work/ers.db"
targets=4096
"$ers" discover --ips 127.0.80.0/20 --ports 20443 >/dev/null

kills=0
worker_kills=0
before=$(lines_now)
scan=(scan --workers 2 --rate 1000 --checkpoint-interval 50ms --no-analysis --output "$work/results.jsonl" --quiet)
"$ers" "${scan[@]}" 2>"$work/err.0" &
pid=$!
for round in 1 2 3 4; do
  await_progress "$before" "$pid"
  # A worker, picked while the sweep runs: later, as the parent exits under
  # LeakSanitizer, its only child is the sanitizer's tracer, and killing
  # that leaves the parent spinning (a hang of the test, not of ers).
  child=$(pgrep -P "$pid" | head -1)
  sleep "0.$(( RANDOM % 4 + 2 ))"
  if [ $((round % 2)) -eq 0 ]; then
    # One worker process: the parent must notice, report and save a resume
    # point that repeats that worker's unfinished part.
    if [ -n "$child" ] && kill -KILL "$child" 2>/dev/null; then
      wait "$pid"
      status=$?
      if [ "$status" -ne 0 ]; then
        worker_kills=$((worker_kills + 1))
        grep -q "worker [0-9]* died" "$work/err.$((round - 1))"
        check $? "round $round: the dead worker is reported ($(grep -m1 worker "$work/err.$((round - 1))"))"
        grep -q "resume point saved" "$work/err.$((round - 1))"
        check $? "round $round: a resume point is saved"
      fi
    else
      wait "$pid"
    fi
  else
    kill -KILL "$pid" 2>/dev/null
    killed_mid_sweep "$pid" && kills=$((kills + 1))
  fi
  [ "$(sqlite3 "$ERS_DB" 'pragma integrity_check')" = "ok" ]
  check $? "inventory consistent after round $round"
  # A kill that came after the sweep finished leaves nothing to resume.
  if ! has_resume_point; then
    pid=""
    break
  fi
  before=$(lines_now)
  "$ers" scan --resume --workers 2 --rate 1000 --checkpoint-interval 50ms --no-analysis --output "$work/results.jsonl" \
    --quiet 2>"$work/err.$round" &
  pid=$!
done
status=0
if [ -n "$pid" ]; then
  wait "$pid"
  status=$?
fi
[ "$status" -eq 0 ]
check $? "the last resume completes (exit $status: $(cat "$work/err.4"))"
unique=$(sed -E 's/.*"ip":"([^"]*)","port":([0-9]*).*/\1:\2/' "$work/results.jsonl" | sort -u | wc -l)
total=$(wc -l <"$work/results.jsonl")
[ "$unique" -eq "$targets" ]
check $? "every one of the $targets targets has a result ($unique)"
interruptions=$((kills + worker_kills))
[ $((total - unique)) -le $((interruptions * 600)) ]
check $? "repeats stay within the commit window: $((total - unique)) after $interruptions interruptions"
[ "$interruptions" -ge 2 ]
check $? "scans were interrupted mid-sweep: $kills parent kills, $worker_kills worker kills"
echo "parent kills: $kills, worker kills: $worker_kills, results: $total, distinct targets: $unique"
rm -rf "$work"
finish
