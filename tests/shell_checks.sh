# shell_checks.sh: sourced by the shell tests. check STATUS NAME counts one
# assertion (STATUS 0 passes); finish prints the tally and returns non-zero
# if any check failed. lines_now and await_progress follow a scan under
# test through the results file it writes; killed_mid_sweep judges a kill.
failures=0
checks=0

check() {
  # check STATUS NAME: the status comes first, so that it is expanded
  # before a command substitution in NAME could replace $? (with
  # `check "...$(cat f)" $?` every check passed).
  local status=$1 name=$2
  checks=$((checks + 1))
  if [ "$status" -ne 0 ]; then
    echo "FAIL: $name"
    failures=$((failures + 1))
  fi
}

finish() {
  echo "$((checks - failures)) of $checks checks passed"
  [ "$failures" -eq 0 ]
}

# has_resume_point: $ERS_DB holds a resume point (a sweep was stopped
# before its end).
has_resume_point() {
  [ -n "$(sqlite3 "$ERS_DB" "select value from settings where key = 'resume_point'")" ]
}

# lines_now prints how many lines $work/results.jsonl holds (0 before it
# exists): the results a scan under test has written so far.
lines_now() { if [ -f "$work/results.jsonl" ]; then wc -l <"$work/results.jsonl"; else echo 0; fi; }
# await_progress BEFORE PID: returns once the scan PID has written results
# beyond BEFORE lines (it is sweeping, past its start-up), or has exited; at
# most 60 s. A slow start (sanitizers, a loaded machine) must not turn a
# kill into a kill of a process that never began.
await_progress() {
  local deadline=$((SECONDS + 60))
  while [ "$(lines_now)" -le "$1" ] && kill -0 "$2" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
    sleep 0.02
  done
}

# killed_mid_sweep PID: waits for the scan PID after a SIGKILL and succeeds
# only if the kill ended it mid-sweep: exit 137 and its run still "running"
# in $ERS_DB (a kill that lands while the process exits, after its run was
# recorded done, is no interruption).
killed_mid_sweep() {
  wait "$1" 2>/dev/null
  [ $? -eq 137 ] &&
    [ "$(sqlite3 "$ERS_DB" "select status from scan_runs order by id desc limit 1")" = running ]
}

# await_listeners ADDRESS:PORT...: returns once each answers a TCP connect
# (the servers a test started are up), at most 20 s each; fails naming the
# first that does not.
await_listeners() {
  local target
  for target in "$@"; do
    local up=0
    for _ in $(seq 1 200); do
      timeout 1 bash -c "exec 3<>/dev/tcp/${target%:*}/${target#*:}" 2>/dev/null && { up=1; break; }
      sleep 0.1
    done
    [ "$up" = 1 ] || { echo "nothing listens on $target"; return 1; }
  done
}
