#!/usr/bin/env bash
# STARTTLS against real servers from Debian, in a network namespace of the
# test's own (so that they listen on their real ports): Dovecot (IMAP 143
# and POP3 110 upgraded, IMAPS 993 and POP3S 995 implicit, and a second
# Dovecot without TLS that refuses) and PostgreSQL (5432, SSLRequest), with
# certificates the test generates. `ers scan --ports default,starttls`
# records each chain with the protocol it was reached by; refusals carry
# the server's reply; --starttls overrides the table and ers discover
# stores it; the inventory and ers export keep the protocol.
set -uo pipefail
if [ -z "${ERS_IN_NETNS:-}" ]; then
  ERS_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
ers="$PWD/$1"
pki_bin="$PWD/$2"
source tests/shell_checks.sh
# Under /tmp, world-traversable: PostgreSQL runs as its own user.
work=$(mktemp -d /tmp/ers-starttls.XXXXXX)
chmod 755 "$work"
export ERS_DB="$work/ers.db"
mkdir -p "$work/pki"
"$pki_bin" "$work/pki" starttls-client >/dev/null || { echo "FAIL: clm_pki"; exit 1; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cleanup() {
  for d in tls plain; do
    [ -f "$work/dovecot-$d/run/master.pid" ] && kill "$(cat "$work/dovecot-$d/run/master.pid")" 2>/dev/null
  done
  [ -d "$work/pg/data" ] && su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D $work/pg/data -m immediate stop" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# dovecot NAME ADDRESS SSL: a Dovecot serving IMAP and POP3 on ADDRESS.
dovecot() {
  local dir="$work/dovecot-$1"
  mkdir -p "$dir/run" "$dir/state"
  cat >"$dir/dovecot.conf" <<EOF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/log
protocols = imap pop3
listen = $2
ssl = $3
$( [ "$3" = yes ] && printf 'ssl_cert = <%s\nssl_key = <%s\n' "$work/pki/server.pem" "$work/pki/server.key")
auth_mechanisms = plain
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/home
}
mail_location = maildir:$dir/mail
service imap-login {
  inet_listener imap2 {
    port = 14300
  }
$( [ "$3" = yes ] || printf '  inet_listener imaps {\n    port = 0\n  }\n')
}
service pop3-login {
$( [ "$3" = yes ] || printf '  inet_listener pop3s {\n    port = 0\n  }\n')
}
EOF
  /usr/sbin/dovecot -c "$dir/dovecot.conf" || { echo "FAIL: dovecot $1: $(tail -3 "$dir/log")"; exit 1; }
}
dovecot tls 127.0.0.1 yes
dovecot plain 127.0.0.2 no

mkdir -p "$work/pg"
cp "$work/pki/server.pem" "$work/pki/server.key" "$work/pg/"
chown -R postgres "$work/pg"
chmod 600 "$work/pg/server.key"
su postgres -s /bin/sh -c "$pg_bin/initdb -D $work/pg/data -A trust" >"$work/pg/initdb.log" 2>&1 ||
  { echo "FAIL: initdb: $(tail -3 "$work/pg/initdb.log")"; exit 1; }
su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D $work/pg/data -l $work/pg/log -w -o \"-c listen_addresses=127.0.0.1 -c port=5432 -c unix_socket_directories=$work/pg -c ssl=on -c ssl_cert_file=$work/pg/server.pem -c ssl_key_file=$work/pg/server.key\" start" >/dev/null 2>&1 ||
  { echo "FAIL: postgres: $(tail -3 "$work/pg/log")"; exit 1; }

# Every server answers on its port before the scan starts.
await_listeners 127.0.0.1:143 127.0.0.1:110 127.0.0.1:993 127.0.0.1:5432 127.0.0.2:143 ||
  { echo "FAIL: a server did not start"; exit 1; }

leaf=$(openssl x509 -in "$work/pki/server.pem" -outform der | base64 -w0)
"$ers" scan --ips 127.0.0.1-127.0.0.2 --ports default,starttls --roots "$work/pki/ca.pem" \
  --handshake-timeout 5s --output "$work/out.jsonl" --quiet --no-push 2>"$work/err"
check $? "ers scan --ports default,starttls exits 0: $(cat "$work/err")"
line() { grep "\"ip\":\"$1\",\"port\":$2," "$work/out.jsonl"; }
for want in "143 imap" "110 pop3" "5432 postgres"; do
  set -- $want
  line 127.0.0.1 "$1" | grep -q "\"outcome\":\"tls\".*\"starttls\":\"$2\"\\|\"starttls\":\"$2\".*\"outcome\":\"tls\""
  check $? "port $1: TLS after $2 STARTTLS: $(line 127.0.0.1 "$1" | cut -c1-200)"
  line 127.0.0.1 "$1" | grep -q "\"chain\":\[\"$leaf\""
  check $? "port $1: the server's own leaf is recorded"
done
for port in 993 995; do
  line 127.0.0.1 $port | grep -q '"outcome":"tls"' && ! line 127.0.0.1 $port | grep -q '"starttls"'
  check $? "port $port: implicit TLS, no upgrade: $(line 127.0.0.1 $port | cut -c1-160)"
done
line 127.0.0.2 143 | grep -q '"outcome":"starttls_refused"' &&
  line 127.0.0.2 143 | grep -q '"banner":"ers1 BAD[^"]*TLS'
check $? "Dovecot without TLS: IMAP STARTTLS refused with its reply: $(line 127.0.0.2 143 | grep -o '"banner":"[^"]*"')"
line 127.0.0.2 110 | grep -q '"outcome":"starttls_refused"' &&
  line 127.0.0.2 110 | grep -q '"banner":"-ERR'
check $? "Dovecot without TLS: POP3 STLS refused: $(line 127.0.0.2 110 | grep -o '"banner":"[^"]*"')"
[ "$(grep -c '"outcome":"tls"' "$work/out.jsonl")" -eq 5 ] &&
  [ "$(wc -l <"$work/out.jsonl")" -eq $(( 2 * (9 + 15) )) ]
check $? "five TLS endpoints among $(( 2 * (9 + 15) )) results ($(grep -c '"outcome":"tls"' "$work/out.jsonl"))"
! grep -q '"outcome":"timeout"' "$work/out.jsonl"
check $? "no probe waited for its timeout"

# The inventory and the export keep the protocol.
[ "$(sqlite3 "$ERS_DB" "select group_concat(port || '=' || coalesce(starttls, 'tls'), ',') from (select port, starttls from endpoint_results where ip = '127.0.0.1' order by port)")" = "110=pop3,143=imap,993=tls,995=tls,5432=postgres" ]
check $? "endpoint_results: $(sqlite3 "$ERS_DB" "select group_concat(port || '=' || coalesce(starttls, 'tls')) from endpoint_results")"
"$ers" export --csv --run 1 --output "$work/export.csv" 2>/dev/null
head -1 "$work/export.csv" | tr -d '\r' | grep -q ',starttls$' &&
  grep '^127.0.0.1,143,' "$work/export.csv" | tr -d '\r' | grep -q ',imap$'
check $? "ers export's starttls column: $(grep ',143,' "$work/export.csv" | tr -d '\r')"

"$ers" report --run 1 --html "$work/report.html" >/dev/null 2>&1
grep -q '<td>TLSv1.3 via imap</td>' "$work/report.html" &&
  grep -q '<td>TLSv1.3 via postgres</td>' "$work/report.html" &&
  grep -q '<td>TLSv1.3</td>' "$work/report.html"
check $? "ers report --html names the protocol of each upgraded endpoint: $(grep -o '<td>TLSv[^<]*</td>' "$work/report.html" | sort | uniq -c | tr '\n' ' ')"

# --starttls none: port 143 is probed as implicit TLS, and the greeting
# shows which protocol answered.
"$ers" scan --ips 127.0.0.1 --ports 143 --starttls none --output "$work/none.jsonl" --quiet --no-push
grep -q '"outcome":"not_tls","detail":"the server speaks imap, not TLS"' "$work/none.jsonl" &&
  grep -q '"banner":"\* OK' "$work/none.jsonl"
check $? "--starttls none: not_tls naming IMAP, with its banner: $(cut -c1-220 "$work/none.jsonl")"

# ers discover stores an entry for a port outside the table; ers scan uses it.
"$ers" discover --ips 127.0.0.1 --ports 14300 --starttls 14300=imap >/dev/null
check $? "ers discover --starttls 14300=imap"
"$ers" discover --list | grep -q "^starttls: 14300=imap"
check $? "ers discover --list shows it: $("$ers" discover --list | grep starttls)"
"$ers" scan --output "$work/stored.jsonl" --quiet --no-push --roots "$work/pki/ca.pem"
grep '"port":14300,' "$work/stored.jsonl" | grep -q '"outcome":"tls".*"starttls":"imap"\|"starttls":"imap".*"outcome":"tls"'
check $? "the stored setting upgrades port 14300: $(cut -c1-200 "$work/stored.jsonl")"
"$ers" discover --starttls 14300=gopher 2>"$work/err"
[ $? -eq 2 ] && grep -q 'unknown STARTTLS protocol "gopher"' "$work/err"
check $? "an unknown protocol is refused: $(cat "$work/err")"
"$ers" discover --starttls none --no-starttls 2>/dev/null
[ $? -eq 2 ]
check $? "--starttls with --no-starttls contradict"
finish
