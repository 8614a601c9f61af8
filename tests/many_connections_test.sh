#!/usr/bin/env bash
# 60,000 connections at once to a listener that accepts (in the kernel) and
# never reads, in a private network namespace (root only): the scan
# completes, every endpoint is a timeout, and each process stays under
# 200 MiB (600 MiB under AddressSanitizer). With this machine's open-file limit the scan runs as several
# worker processes, as ers scan --concurrency 60000 arranges by itself.
set -uo pipefail
ers="$PWD/$1"
listener="$PWD/$2"
source tests/shell_checks.sh
if ! unshare --net true 2>/dev/null; then
  echo "skipped: creating a network namespace needs root"
  finish
  exit $?
fi
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-many.XXXXXX")
export ERS_DB="$work/ers.db" ers listener work
unshare --net bash -c '
  exec 3< <(sleep 120)   # the listener lives until this shell ends
  "$listener" 20999 <&3 >"$work/listener.out" &
  for _ in $(seq 1 50); do grep -q listening "$work/listener.out" 2>/dev/null && break; sleep 0.1; done
  /usr/bin/time -f "%M" -o "$work/rss" "$ers" scan --ips 127.1.0.0/16 --ports 20999 \
    --concurrency 60000 --connect-timeout 4s --handshake-timeout 4s --retries 0 \
    --no-analysis --output "$work/out.jsonl" --summary 2>"$work/summary"
  echo $? >"$work/status"
  kill %1 2>/dev/null
'
[ "$(cat "$work/status")" = 0 ]
check $? "the scan completes: $(head -3 "$work/summary")"
[ "$(wc -l <"$work/out.jsonl")" -eq 65536 ]
check $? "every one of the 65,536 endpoints has a result"
[ "$(grep -c '"outcome":"timeout"' "$work/out.jsonl")" -eq 65536 ]
check $? "each a timeout"
grep -q "concurrency 6000[0-9]\|concurrency 5999[0-9]" "$work/summary"
check $? "about 60,000 connections in flight"
rss_mib=$(( $(cat "$work/rss") / 1024 ))
bound=200
# AddressSanitizer's shadow memory and redzones triple a process's RSS.
[ -n "${ERS_SANITIZED:-}" ] && bound=600
[ "$rss_mib" -lt "$bound" ]
check $? "the largest process peaked at $rss_mib MiB (bound $bound)"
echo "summary: $(head -1 "$work/summary"); largest process RSS ${rss_mib} MiB"
rm -rf "$work"
finish
