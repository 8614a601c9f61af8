#!/usr/bin/env bash
# --rate counts every SYN on the wire, retries included: in a private
# network namespace, 2,048 targets routed into a veth pair where every
# packet is dropped (so each connect times out and is retried once) are
# scanned at --rate 300. tcpdump on the interface timestamps each SYN. Over
# a 10-second window the SYNs stay within 5% of 3,000, and every attempt
# (first try and retry) appears on the wire. Needs root.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
if ! unshare --net true 2>/dev/null; then
  echo "skipped: creating a network namespace needs root"
  finish
  exit $?
fi
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-rate-syn.XXXXXX")
export ERS_DB="$work/ers.db" ers work
unshare --net bash -c '
  ip link set lo up
  # A veth pair whose far end takes no packet for us: the targets are
  # routed to a gateway with a made-up MAC address, so each SYN leaves v0,
  # reaches v1, and is dropped there as addressed to another host.
  ip link add v0 type veth peer name v1
  ip link set v0 up && ip link set v1 up
  ip addr add 10.78.0.1/24 dev v0
  ip neigh add 10.78.0.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent
  ip route add 10.77.0.0/16 via 10.78.0.2 dev v0
  tcpdump -i v0 -n -l -tt -Z root "tcp[tcpflags] & tcp-syn != 0" \
    >"$work/syns" 2>"$work/tcpdump.err" &
  # tcpdump says "listening on" once its capture is open (at most 10 s).
  for _ in $(seq 1 100); do grep -q "listening on" "$work/tcpdump.err" && break; sleep 0.1; done
  "$ers" scan --ips 10.77.0.0/21 --ports 443 --rate 300 --retries 1 \
    --connect-timeout 700ms --no-analysis --quiet --output "$work/out.jsonl"
  echo $? >"$work/status"
  kill -INT %1 2>/dev/null
  wait
'
[ "$(cat "$work/status")" = 0 ]
check $? "the scan exits 0"
[ "$(wc -l <"$work/out.jsonl")" -eq 2048 ]
check $? "every target has a result"
[ "$(grep -c '"outcome":"timeout"' "$work/out.jsonl")" -eq 2048 ]
check $? "each a timeout"
[ "$(grep -c '"attempts":2' "$work/out.jsonl")" -eq 2048 ]
check $? "each after two attempts"
grep 'Flags \[S\]' "$work/syns" >"$work/syn_lines"
syns=$(wc -l <"$work/syn_lines")
# An attempt is a (source port, destination) pair; the kernel may
# retransmit a SYN whose timeout fired late, under load: same pair.
attempts=$(awk '{ print $3, $5 }' "$work/syn_lines" | sort -u | wc -l)
[ "$attempts" -eq 4096 ]
check $? "every attempt is on the wire: $attempts distinct SYNs of 4096 ($syns with retransmissions)"
first=$(head -1 "$work/syn_lines" | cut -d' ' -f1)
in_window=$(awk -v lo="$first" '$1 >= lo + 1 && $1 < lo + 11' "$work/syn_lines" | wc -l)
[ "$in_window" -ge 2850 ] && [ "$in_window" -le 3150 ]
check $? "SYNs in 10 s at --rate 300: $in_window (3000 +- 5%)"
echo "SYNs on the wire: $syns; in the 10-second window: $in_window"
[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
finish
