#!/usr/bin/env bash
# starttls_bench.sh: STARTTLS next to implicit TLS, same servers, same run.
# In a private network namespace, Dovecot listens on every loopback address
# for IMAP (143, STARTTLS) and IMAPS (993, implicit TLS), Postfix for SMTP
# (25, STARTTLS) and SMTPS (465, implicit TLS), and PostgreSQL for a binary
# upgrade (5432). ers sweeps 127.1.0.0/PREFIX on each port in
# turn (default: certs mode, analysis, inventory, --output; ers's fixed
# start-up cost, measured on one refused target, is subtracted) and the table
# gives handshakes per second and client CPU per endpoint (user + sys of
# ers, from GNU time; median of RUNS). Needs root.
#   bench/starttls_bench.sh [PREFIX (default 20)] [RUNS (default 3)]
# Writes .bench/starttls.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ERS_IN_NETNS:-}" ]; then
  tools/setup.sh
  bazel build //cli:ers //tests:clm_pki >/dev/null 2>&1
  mkdir -p .bench
  ERS_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
prefix=${1:-20}
runs=${2:-3}
root=$PWD
ers=$root/.bazel/bin/cli/ers
work=$(mktemp -d /tmp/ers-starttls-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/pki" "$work/dovecot/run" "$work/dovecot/state" "$work/pg"
"$root/.bazel/bin/tests/clm_pki" "$work/pki" bench >/dev/null
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cleanup() {
  /usr/sbin/postfix -c "$work/postfix" stop >/dev/null 2>&1
  [ -f "$work/dovecot/run/master.pid" ] && kill "$(cat "$work/dovecot/run/master.pid")" 2>/dev/null
  su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D $work/pg/data -m immediate stop" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/dovecot/dovecot.conf" <<EOF
base_dir = $work/dovecot/run
state_dir = $work/dovecot/state
log_path = $work/dovecot/log
protocols = imap
listen = *
ssl = yes
ssl_cert = <$work/pki/server.pem
ssl_key = <$work/pki/server.key
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$work/dovecot/home
}
service imap-login {
  service_count = 0
  process_min_avail = 2
  client_limit = 10000
  vsz_limit = 1G
}
default_client_limit = 10000
EOF
/usr/sbin/dovecot -c "$work/dovecot/dovecot.conf"
source "$root/tests/postfix_instance.sh"
postfix_instance "$work/postfix" "$work/pki/server.pem" "$work/pki/server.key" all \
  "465        inet  n - n - - smtpd -o smtpd_tls_wrappermode=yes"
cp "$work/pki/server.pem" "$work/pki/server.key" "$work/pg/"
chown -R postgres "$work/pg"
chmod 600 "$work/pg/server.key"
su postgres -s /bin/sh -c "$pg_bin/initdb -D $work/pg/data -A trust" >/dev/null 2>&1
su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D $work/pg/data -l $work/pg/log -w -o \"-c listen_addresses=* -c port=5432 -c max_connections=1000 -c unix_socket_directories=$work/pg -c ssl=on -c ssl_cert_file=$work/pg/server.pem -c ssl_key_file=$work/pg/server.key\" start" >/dev/null
for p in 25 465 143 993 5432; do
  for _ in $(seq 1 100); do timeout 1 bash -c "exec 3<>/dev/tcp/127.1.0.1/$p" 2>/dev/null && break; sleep 0.1; done
done

# ers's fixed cost (trust store, inventory, threads): one refused target.
fixed_runs=()
for ((i = 0; i < runs; i++)); do
  rm -f "$work/ers.db"*
  ERS_DB=$work/ers.db /usr/bin/time -f "%U %S" -o "$work/time" "$ers" scan --ips 127.0.0.1 \
    --ports 1 --roots "$work/pki/ca.pem" --quiet --no-push 2>/dev/null || true
  read -r user sys <"$work/time"
  fixed_runs+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')")
done
fixed=$(printf '%s\n' "${fixed_runs[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
echo "fixed cost of one ers scan: $fixed s CPU" >&2
rows=()
# Postfix runs one smtpd process per connection (at most 200 here) and
# PostgreSQL forks a backend per connection: they get a /22 with 200 and a
# /24 with 100 connections in flight, so that the server, not a full accept
# queue, sets the pace.
for row in "993 $prefix 1000 IMAPS (implicit TLS)" "143 $prefix 1000 IMAP STARTTLS" \
           "465 22 200 SMTPS (implicit TLS)" "25 22 200 SMTP STARTTLS" \
           "5432 24 100 PostgreSQL SSLRequest"; do
  set -- $row
  port=$1
  bits=$2
  concurrency=$3
  shift 3
  name="$*"
  endpoints=$(( 1 << (32 - bits) ))
  results=()
  for ((i = 0; i < runs; i++)); do
    rm -f "$work/ers.db"* "$work/out.jsonl"
    ERS_DB=$work/ers.db /usr/bin/time -f "%e %U %S" -o "$work/time" "$ers" scan \
      --ips "127.1.0.0/$bits" --ports "$port" --concurrency "$concurrency" --handshake-timeout 10s \
      --roots "$work/pki/ca.pem" --output "$work/out.jsonl" --quiet --no-push 2>/dev/null || true
    read -r wall user sys <"$work/time"
    tls=$(grep -c '"outcome":"tls"' "$work/out.jsonl" || true)
    cpu_us=$(awk -v u="$user" -v s="$sys" -v f="$fixed" -v n="$endpoints" \
      'BEGIN { printf "%.0f", (u + s - f) / n * 1e6 }')
    results+=("$cpu_us $wall $tls")
  done
  read -r cpu_us wall tls <<<"$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")"
  hps=$(awk -v n="$tls" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')
  echo "$name: $tls of $endpoints TLS in $wall s, $hps handshakes/s, $cpu_us us CPU per endpoint" >&2
  rows+=("| $name | $port | $endpoints | $tls | $wall | $hps | $cpu_us |")
done
{
  echo "ers's fixed cost per scan (subtracted below): $fixed s CPU"
  echo
  echo "| endpoint | port | endpoints | TLS found | wall s | handshakes/s | ers CPU us per endpoint |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$root/.bench/starttls.md"
