#!/usr/bin/env bash
# test.sh: installs what is missing, builds everything and runs every test.
# Prints one closing line "N passed, N failed" (test cases) and exits
# non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bazel test --keep_going --test_summary=short //... 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Count test cases from each target's JUnit XML: passing targets contribute
# their cases; a failing target contributes its failures (at least one).
passed=0
failed=0
while read -r target result; do
  dir=".bazel/testlogs/${target#//}"
  dir="${dir/://}"
  xml="$dir/test.xml"
  tests=0; bad=0
  if [ -f "$xml" ]; then
    header=$(grep -m1 -o '<testsuites[^>]*>' "$xml" || true)
    tests=$(sed -n 's/.* tests="\([0-9]*\)".*/\1/p' <<<"$header")
    f=$(sed -n 's/.* failures="\([0-9]*\)".*/\1/p' <<<"$header")
    e=$(sed -n 's/.* errors="\([0-9]*\)".*/\1/p' <<<"$header")
    tests=${tests:-0}; bad=$(( ${f:-0} + ${e:-0} ))
  fi
  if [ "$result" = PASSED ]; then
    passed=$(( passed + (tests > 0 ? tests : 1) ))
  else
    failed=$(( failed + (bad > 0 ? bad : 1) ))
    passed=$(( passed + (tests > bad ? tests - bad : 0) ))
  fi
done < <(sed -n -E 's/^(\/\/[^ ]+)[[:space:]]+(\(cached\) )?(PASSED|FAILED|TIMEOUT|NO STATUS|FLAKY|FAILED TO BUILD|INCOMPLETE).*/\1 \3/p' "$log" | sed 's/ NO STATUS/ NO_STATUS/; s/ FAILED TO BUILD/ FAILED_TO_BUILD/')

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # the build itself failed
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
