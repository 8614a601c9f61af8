#!/usr/bin/env bash
# --rate is honoured: connection attempts per second, counted from the start
# times of 6,144 probes of refused loopback ports at --rate 500, stay within
# 5% of 500/s over a 10-second window.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-rate.XXXXXX")
export ERS_DB="$work/ers.db"

"$ers" scan --ips 127.0.61.0/24 --ports 20000-20023 --rate 500 --no-analysis \
  --output "$work/out.jsonl" --quiet
check $? "the rate-limited scan exits 0"
[ "$(wc -l <"$work/out.jsonl")" -eq 6144 ]
check $? "every target has a result"
# Start times in milliseconds of the day, sorted.
sed -E 's/.*"time":"[0-9-]+T([0-9]+):([0-9]+):([0-9.]+)Z".*/\1 \2 \3/' "$work/out.jsonl" |
  awk '{ printf "%d\n", ($1 * 3600 + $2 * 60 + $3) * 1000 }' | sort -n >"$work/starts"
first=$(head -1 "$work/starts")
in_window=$(awk -v lo=$((first + 1000)) -v hi=$((first + 11000)) '$1 >= lo && $1 < hi' "$work/starts" | wc -l)
[ "$in_window" -ge 4750 ] && [ "$in_window" -le 5250 ]
check $? "attempts in 10 s at --rate 500: $in_window (5000 +- 5%)"
echo "attempts counted in the 10-second window: $in_window"
rm -rf "$work"
finish
