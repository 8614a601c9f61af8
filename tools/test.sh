#!/usr/bin/env bash
# test.sh: installs what is missing, builds everything and runs every test,
# twice: optimized, then under AddressSanitizer + UndefinedBehaviorSanitizer;
# then each libFuzzer target for a short bounded time (FUZZ_SECONDS, default
# 20), then the packages' install test on a clean Debian root. Prints one
# closing line "N passed, N failed" (test cases over both runs, one per
# fuzz target, one per package check) and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
overall=0

# run_suite LABEL TESTLOGS [bazel flags...]: runs //... and adds the counts,
# from each target's JUnit XML: a passing target contributes its cases, a
# failing one its failures (at least one).
run_suite() {
  local label=$1 testlogs=$2
  shift 2
  local log
  log=$(mktemp)
  echo "== $label"
  bazel test --keep_going --test_summary=short "$@" //... 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local suite_failed=0
  while read -r target result; do
    local dir="$testlogs/${target#//}"
    dir="${dir/://}"
    local xml="$dir/test.xml" tests=0 bad=0
    if [ -f "$xml" ]; then
      local header f e
      header=$(grep -m1 -o '<testsuites[^>]*>' "$xml" || true)
      tests=$(sed -n 's/.* tests="\([0-9]*\)".*/\1/p' <<<"$header")
      f=$(sed -n 's/.* failures="\([0-9]*\)".*/\1/p' <<<"$header")
      e=$(sed -n 's/.* errors="\([0-9]*\)".*/\1/p' <<<"$header")
      tests=${tests:-0}
      bad=$(( ${f:-0} + ${e:-0} ))
    fi
    if [ "$result" = PASSED ]; then
      passed=$(( passed + (tests > 0 ? tests : 1) ))
    else
      suite_failed=$(( suite_failed + (bad > 0 ? bad : 1) ))
      passed=$(( passed + (tests > bad ? tests - bad : 0) ))
    fi
  done < <(sed -n -E 's/^(\/\/[^ ]+)[[:space:]]+(\(cached\) )?(PASSED|FAILED|TIMEOUT|NO STATUS|FLAKY|FAILED TO BUILD|INCOMPLETE).*/\1 \3/p' "$log" | sed 's/ NO STATUS/ NO_STATUS/; s/ FAILED TO BUILD/ FAILED_TO_BUILD/')
  if [ "$status" -ne 0 ] && [ "$suite_failed" -eq 0 ]; then
    suite_failed=1  # the build itself failed
  fi
  failed=$(( failed + suite_failed ))
  [ "$status" -eq 0 ] || overall=1
  rm -f "$log"
}

run_suite "optimized build" .bazel/testlogs
run_suite "AddressSanitizer + UndefinedBehaviorSanitizer" .bazel-asan/testlogs --config=asan

# run_counted LABEL PREFIX COMMAND...: runs a test program outside Bazel
# and adds the counts of its closing line "PREFIX: N passed, N failed".
run_counted() {
  local label=$1 prefix=$2 log counts
  shift 2
  echo "== $label"
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || overall=1
  counts=$(sed -n "s/^$prefix: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p" "$log" | tail -1)
  rm -f "$log"
  if [ -n "$counts" ]; then
    passed=$(( passed + ${counts% *} ))
    failed=$(( failed + ${counts#* } ))
  else
    failed=$(( failed + 1 ))
  fi
}

run_counted "fuzzing (tools/fuzz.sh ${FUZZ_SECONDS:-20})" fuzz tools/fuzz.sh "${FUZZ_SECONDS:-20}"
# The packages on a clean Debian root (debootstrap, cached between runs).
run_counted "packages (tests/package_test.sh)" package_test tests/package_test.sh

echo "$passed passed, $failed failed"
[ "$overall" -eq 0 ] && [ "$failed" -eq 0 ]
