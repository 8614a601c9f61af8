#!/usr/bin/env bash
# Disk full while writing results (simulated with a file-size limit, which
# makes writes fail as a full disk does): ers stops with a clear error, the
# inventory stays consistent, and --resume completes the scan without a gap.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-full.XXXXXX")
export ERS_DB="$work/ers.db"
"$ers" discover --ips 127.0.65.0/24 --ports 21000-21019 >/dev/null  # 5,120 targets
"$ers" discover --list >/dev/null  # create the inventory before the limit

(
  trap '' XFSZ        # a failing write returns EFBIG instead of killing ers
  ulimit -f 256       # 256 KiB: the JSON Lines need about 1.5 MB
  "$ers" scan --no-analysis --output "$work/out.jsonl" 2>"$work/err"
)
status=$?
[ "$status" -eq 1 ] && grep -qi "cannot write .*out.jsonl" "$work/err"
check $? "a clear error when the output cannot be written (exit $status): $(head -2 "$work/err")"
grep -q "resume point saved" "$work/err"
check $? "the resume point is saved"
[ "$(sqlite3 "$ERS_DB" 'pragma integrity_check')" = "ok" ]
check $? "the inventory is consistent"
written=$(wc -l <"$work/out.jsonl")
"$ers" scan --resume --no-analysis --output "$work/out.jsonl" --quiet
check $? "the resumed scan completes"
unique=$(sed -E 's/.*"ip":"([^"]*)","port":([0-9]*).*/\1:\2/' "$work/out.jsonl" | sort -u | wc -l)
[ "$unique" -eq 5120 ]
check $? "no target lost: $unique of 5120 (the first run wrote $written lines)"
# The line cut by the full disk is not left behind as a broken line.
! grep -qv '^{.*}$' "$work/out.jsonl"
check $? "every line is a whole JSON object"
rm -rf "$work"
finish
