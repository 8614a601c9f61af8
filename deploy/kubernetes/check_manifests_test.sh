#!/usr/bin/env bash
# check_manifests_test.sh: the manifests pass check_manifests.py, and the
# check catches what it is for: an unknown field, a wrongly typed value, a
# missing required field, ERS_SHARDS out of step with completions, and a
# CronJob whose job spec drifted from the Job's.
set -uo pipefail
source tests/shell_checks.sh
dir=deploy/kubernetes
python=/usr/bin/python3
out=$("$python" "$dir/check_manifests.py" "$dir" 2>&1)
check $? "the manifests pass: $out"
grep -q "4 objects match the Kubernetes API" <<<"$out"
check $? "all four objects are checked: $out"

# broken NAME PYTHON-EXPRESSION PATTERN: a copy of the manifests with
# job.yaml's text |s| rewritten by the expression must fail, saying PATTERN.
broken() {
  local name=$1 edit=$2 pattern=$3 copy
  copy=$(mktemp -d "${TEST_TMPDIR:-/tmp}/manifests.XXXXXX")
  cp "$dir"/*.yaml "$copy/"
  "$python" - "$copy/job.yaml" "$edit" <<'PY'
import sys
path, edit = sys.argv[1:]
s = open(path).read()
s2 = eval(edit)
assert s2 != s, "the edit changed nothing"
open(path, "w").write(s2)
PY
  out=$("$python" "$dir/check_manifests.py" "$copy" 2>&1)
  local rc=$?
  [ "$rc" -eq 1 ] && grep -q -- "$pattern" <<<"$out"
  check $? "$name is caught (exit $rc): $out"
  rm -rf "$copy"
}
broken "an unknown field" 's.replace("  backoffLimit: 8\n", "  backoffLimit: 8\n  retries: 3\n")' \
  "unknown field 'retries' in V1JobSpec"
broken "a wrongly typed value" 's.replace("backoffLimit: 8", "backoffLimit: eight")' \
  "backoffLimit: expected int"
broken "a missing required field" 's.replace("        - name: ers\n", "        - stdin: false\n")' \
  "must not be .None."
broken "ERS_SHARDS out of step" 's.replace("value: \"4\"", "value: \"3\"")' \
  "ERS_SHARDS is '3' but completions is 4"
broken "a drifted CronJob" 's.replace("backoffLimit: 8", "backoffLimit: 7")' \
  "jobTemplate.spec differs"
broken "a Job that is not Indexed" 's.replace("completionMode: Indexed", "completionMode: NonIndexed")' \
  "completionMode must be Indexed"
broken "malformed YAML" 's.replace("spec:\n", "spec:\n\t- [\n", 1)' "job.yaml:"
finish
