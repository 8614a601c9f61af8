# shell_checks.sh: sourced by the shell tests. check NAME STATUS counts one
# assertion (STATUS 0 passes); finish prints the tally and returns non-zero
# if any check failed.
failures=0
checks=0

check() {
  checks=$((checks + 1))
  if [ "$2" -ne 0 ]; then
    echo "FAIL: $1"
    failures=$((failures + 1))
  fi
}

finish() {
  echo "$((checks - failures)) of $checks checks passed"
  [ "$failures" -eq 0 ]
}
