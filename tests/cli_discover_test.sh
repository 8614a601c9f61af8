#!/usr/bin/env bash
# End-to-end test of `ers discover` and `ers scan --dry-run` through the real
# binary and a real SQLite inventory: the product spec's listings verbatim,
# consecutive calls, errors and exit codes, exclusions and shards.
set -uo pipefail
ers="$PWD/$1"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-cli.XXXXXX")
export ERS_DB="$work/ers.db"
source tests/shell_checks.sh
expect_output() {  # expect_output NAME PATTERN -- command...
  local name=$1 pattern=$2
  shift 3
  out=$("$@" 2>&1)
  grep -qE -- "$pattern" <<<"$out"
  check $? "$name: expected /$pattern/ in: $out"
}
expect_exit() {  # expect_exit NAME CODE -- command...
  local name=$1 code=$2
  shift 3
  out=$("$@" 2>&1)
  local rc=$?
  [ "$rc" -eq "$code" ]
  check $? "$name: exit $rc, expected $code: $out"
}

# The product spec's listings, verbatim.
expect_output "listing 1" "^added server mail.example.com$" -- \
  "$ers" discover --servers mail.example.com
expect_output "listing 2" "^added server web.example.com$" -- \
  "$ers" discover --servers "mail.example.com,web.example.com" --ports "8443,9443"
expect_output "listing 3" "^added server server1.example.com$" -- \
  "$ers" discover --servers server1.example.com --ports "8000-9000,9443"
expect_output "listing 4" "^added ips 198.51.100.0/24$" -- \
  "$ers" discover --ips 198.51.100.0/24 --ports "8000-9000"

# Consecutive calls re-configured mail.example.com's ports.
expect_output "list mail" "^server +mail.example.com +ports 8443,9443$" -- \
  "$ers" discover --list
expect_output "list range" "^ips +198.51.100.0/24 +ports 8000-9000$" -- \
  "$ers" discover --list
# 2 + 2 + 1002 + 256 * 1001 targets.
expect_output "plan size" "targets: +257,262 " -- "$ers" scan --dry-run
expect_output "plan names" "3 host names" -- "$ers" scan --dry-run

# Bad input: clear messages, usage exit code 2, nothing written.
expect_exit "bad cidr" 2 -- "$ers" discover --ips 198.51.100.0/33
expect_output "bad cidr message" 'prefix length "33"' -- \
  "$ers" discover --ips 198.51.100.0/33
expect_exit "bad ports" 2 -- "$ers" discover --servers a.example.com --ports 8000-70000
expect_output "bad ports untouched" "targets: +257,262 " -- "$ers" scan --dry-run
expect_exit "unknown flag" 2 -- "$ers" discover --server a.example.com
expect_exit "unknown command" 2 -- "$ers" discovr
expect_exit "bad shard" 2 -- "$ers" scan --dry-run --shard 0/3
expect_exit "help" 0 -- "$ers" discover --help
expect_output "version" "^ers [0-9]" -- "$ers" --version

# --remove, and --ports alone re-configuring every entry.
expect_output "remove" "^removed server1.example.com$" -- \
  "$ers" discover --remove server1.example.com
expect_exit "remove missing" 2 -- "$ers" discover --remove nope.example.com
expect_output "ports for all" "re-configured ports of 3 entries to 443" -- \
  "$ers" discover --ports 443 --all
expect_output "ports for all plan" "targets: +258 " -- "$ers" scan --dry-run

# Exclusions cut addresses out of the plan.
printf '# keep out\n198.51.100.0/25\n198.51.100.200 # one host\n' >"$work/exclude.txt"
expect_output "exclude set" "exclusion file set to" -- \
  "$ers" discover --exclude-file "$work/exclude.txt"
expect_output "exclude plan" "targets: +129 " -- "$ers" scan --dry-run
printf 'not-an-address\n' >"$work/bad.txt"
expect_output "bad exclusion file" "bad.txt:1: " -- \
  "$ers" discover --exclude-file "$work/bad.txt"

# Shards: with one seed, three shards list exactly the targets of one.
all=$("$ers" scan --dry-run --seed 9 --show 1000 | grep -E '^    ' | sort)
parts=$(for k in 1 2 3; do
  "$ers" scan --dry-run --seed 9 --shard "$k/3" --show 1000 | grep -E '^    '
done | sort)
[ "$(wc -l <<<"$all")" -eq 129 ]
check $? "one shard lists all 129 targets"
[ "$all" = "$parts" ]
check $? "three shards give the same targets, each once"
# A shard of a fresh inventory without --seed would walk a seed of its own.
fresh_db=$work/fresh.db
ERS_DB=$fresh_db "$ers" discover --ips 127.0.0.0/30 >/dev/null
expect_exit "a shard of a fresh inventory without --seed" 2 -- \
  env ERS_DB="$fresh_db" "$ers" scan --dry-run --shard 2/3
grep -q "needs --seed N, the same on every machine" <<<"$out"
check $? "the refusal says that every machine needs the same --seed: $out"
ERS_DB=$fresh_db "$ers" scan --dry-run --shard 1/1 >/dev/null
check $? "--shard 1/1 needs no seed"
rm -f "$fresh_db"*
# --shard auto: the shard of a Kubernetes Indexed Job's pod.
auto=$(for i in 0 1 2; do
  JOB_COMPLETION_INDEX=$i ERS_SHARDS=3 "$ers" scan --dry-run --seed 9 --shard auto --show 1000 |
    grep -E '^    '
done | sort)
[ "$all" = "$auto" ]
check $? "--shard auto with JOB_COMPLETION_INDEX 0-2 and ERS_SHARDS=3: the same split"
[ "$(JOB_COMPLETION_INDEX=1 ERS_SHARDS=3 "$ers" scan --dry-run --seed 9 --shard auto --show 1000 | grep -E '^    ')" = \
  "$("$ers" scan --dry-run --seed 9 --shard 2/3 --show 1000 | grep -E '^    ')" ]
check $? "index 1 of 3 is shard 2/3"
expect_exit "--shard auto without the environment" 2 -- "$ers" scan --dry-run --shard auto
expect_output "--shard auto without the environment says what it needs" \
  "needs JOB_COMPLETION_INDEX .* and ERS_SHARDS" -- "$ers" scan --dry-run --shard auto
JOB_COMPLETION_INDEX=3 ERS_SHARDS=3 expect_output "--shard auto past the last shard" \
  'shard "4/3": shards are numbered 1 to 3' -- "$ers" scan --dry-run --shard auto
! grep -q '198.51.100.200:' <<<"$all"
check $? "excluded address absent"

# The seed is stored, so two runs walk one order.
a=$("$ers" scan --dry-run | tail -n 10)
b=$("$ers" scan --dry-run | tail -n 10)
[ "$a" = "$b" ]
check $? "stored seed gives a stable order"

# Ad-hoc targets on the scan command line.
expect_output "ad hoc" "targets: +9 " -- "$ers" scan --dry-run --ips 127.0.0.1

# Target files (@FILE, -iL), inline exclusions, short flags, in a fresh
# inventory.
export ERS_DB="$work/files.db"
printf '# targets\nmail.example.com web.example.com\n198.51.100.0/28, 203.0.113.5\n' >"$work/targets.txt"
printf '198.51.100.16/29\n# more\n198.51.100.32/29\n' >"$work/ranges.txt"
expect_output "-iL classifies names and ranges" "^added ips 198.51.100.0/28$" -- \
  "$ers" discover -iL "$work/targets.txt" -p 443
expect_output "-iL names" "^server +web.example.com +ports 443$" -- "$ers" discover --list
expect_output "--ips @FILE" "^added ips 198.51.100.32/29$" -- \
  "$ers" discover --ips "@$work/ranges.txt" --ports 443
expect_exit "--ips @FILE with a name in it" 2 -- "$ers" discover --ips "@$work/targets.txt"
expect_exit "--servers @missing" 2 -- "$ers" discover --servers "@$work/nope.txt"
# 16 + 1 + 8 + 8 addresses and 2 names on one port: 35 targets; excluding
# 198.51.100.0/30 and 203.0.113.5 leaves 30.
expect_output "plan before --exclude" "targets: +35 " -- "$ers" scan --dry-run
expect_output "--exclude stored" "^excluded 198.51.100.0/30,203.0.113.5$" -- \
  "$ers" discover --exclude 198.51.100.0/30,203.0.113.5
expect_output "plan after --exclude" "targets: +30 " -- "$ers" scan --dry-run
expect_output "scan --exclude adds to it for one run" "targets: +22 " -- \
  "$ers" scan --dry-run --exclude 198.51.100.16/29
expect_exit "a bad --exclude entry" 2 -- "$ers" discover --exclude 198.51.100.0/33
expect_exit "--exclude with --no-exclude" 2 -- "$ers" discover --exclude 10.0.0.0/8 --no-exclude
expect_output "--no-exclude" "^--exclude list cleared$" -- "$ers" discover --no-exclude
expect_output "plan after --no-exclude" "targets: +35 " -- "$ers" scan --dry-run

rm -rf "$work"
finish
