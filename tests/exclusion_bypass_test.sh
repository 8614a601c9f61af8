#!/usr/bin/env bash
# Exclusions cannot be bypassed by another spelling of an excluded address.
# In a private network and mount namespace (root only), with 127.0.0.0/8 in
# the exclusion file and a listener on 0.0.0.0:20998, every way of naming
# 127.0.0.1 is tried: IPv4-mapped, IPv4-compatible, NAT64 and 6to4 literals,
# an IPv4-mapped range, --resolve to a mapped address, a host name whose
# resolution (/etc/hosts, bind-mounted) answers a mapped address, and
# configured entries; and 0.0.0.0 and :: (this host), which are refused
# without any exclusion. The kernel's count of TCP connection attempts
# (ActiveOpens in /proc/net/snmp, private to the namespace) must not move
# for any of them. A control scan of 127.0.0.1 without the exclusion moves
# it, so the count is live.
set -uo pipefail
ers="$PWD/$1"
listener="$PWD/$2"
source tests/shell_checks.sh
if ! unshare --net --mount true 2>/dev/null; then
  echo "skipped: creating network and mount namespaces needs root"
  finish
  exit $?
fi
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-bypass.XXXXXX")
export ers listener work
printf '127.0.0.0/8\n' >"$work/exclude.txt"
printf '127.0.0.1 localhost\n::ffff:127.0.0.1 mapped.test\n' >"$work/hosts"
unshare --net --mount bash -c '
  exec 3< <(sleep 120)   # the listener lives until this shell ends
  "$listener" 20998 <&3 >"$work/listener.out" &
  for _ in $(seq 1 50); do grep -q listening "$work/listener.out" 2>/dev/null && break; sleep 0.1; done
  mount --bind "$work/hosts" /etc/hosts
  attempts() {
    awk "/^Tcp:/ { if (!seen) { for (i = 1; i <= NF; i++) col[\$i] = i; seen = 1 } else print \$col[\"ActiveOpens\"] }" /proc/net/snmp
  }
  # try NAME ERS-ARGS...: one run with its own inventory; records
  # "NAME attempts exit-status".
  try() {
    local name=$1
    shift
    local before after
    before=$(attempts)
    ERS_DB="$work/$name.db" "$ers" "$@" >"$work/$name.out" 2>"$work/$name.err"
    local status=$?
    after=$(attempts)
    echo "$name $((after - before)) $status" >>"$work/results"
  }
  scan=(scan --ports 20998 --no-push --quiet --output - --connect-timeout 2s)
  ex=(--exclude-file "$work/exclude.txt")
  try mapped_literal "${scan[@]}" "${ex[@]}" --servers ::ffff:127.0.0.1
  try compatible_literal "${scan[@]}" "${ex[@]}" --servers ::127.0.0.1
  try nat64_literal "${scan[@]}" "${ex[@]}" --servers 64:ff9b::127.0.0.1
  try sixtofour_literal "${scan[@]}" "${ex[@]}" --servers 2002:7f00:1::1
  try mapped_range "${scan[@]}" "${ex[@]}" --ips ::ffff:127.0.0.0/120
  try resolve_mapped "${scan[@]}" "${ex[@]}" --servers ex.test --resolve ex.test=::ffff:127.0.0.1
  try dns_mapped "${scan[@]}" "${ex[@]}" --servers mapped.test
  try this_host_v4 "${scan[@]}" --servers 0.0.0.0
  try this_host_v6 "${scan[@]}" --servers ::
  try this_host_mapped "${scan[@]}" --servers ::ffff:0.0.0.0
  ERS_DB="$work/configured.db" "$ers" discover --servers ::ffff:127.0.0.1,mapped.test --ports 20998 >/dev/null
  ERS_DB="$work/configured.db" "$ers" discover --exclude-file "$work/exclude.txt" >/dev/null
  try configured scan --no-push --quiet --output - --connect-timeout 2s
  mv "$work/configured.db" "$work/configured.keep"
  try control "${scan[@]}" --servers 127.0.0.1
'
cat "$work/results"
for name in mapped_literal compatible_literal nat64_literal sixtofour_literal mapped_range \
            resolve_mapped dns_mapped this_host_v4 this_host_v6 this_host_mapped configured; do
  read -r _ n status < <(grep "^$name " "$work/results")
  [ "${n:-1}" -eq 0 ]
  check $? "$name: no connection attempt (${n:-?} seen, exit ${status:-?})"
done
for name in resolve_mapped dns_mapped configured; do
  [ "$(grep -c '"outcome":"excluded"' "$work/$name.out")" -ge 1 ]
  check $? "$name: an excluded result says why ($(grep -o '"detail":"[^"]*"' "$work/$name.out" | head -1))"
done
for name in this_host_v4 this_host_v6 this_host_mapped; do
  grep -q "special-purpose address space (this host)" "$work/$name.err"
  check $? "$name: refused with a clear message ($(head -1 "$work/$name.err"))"
done
read -r _ n _ < <(grep "^control " "$work/results")
[ "${n:-0}" -ge 1 ]
check $? "control: without the exclusion 127.0.0.1 is reached (${n:-?} attempts)"
rm -rf "$work"
finish
