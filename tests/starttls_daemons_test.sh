#!/usr/bin/env bash
# STARTTLS against more real servers from Debian, each on its real port in
# a network namespace of the test's own, with certificates the test
# generates: Postfix (SMTP 25 and submission 587, and a third smtpd on 2525
# without TLS), OpenLDAP's slapd (389 with TLS on 127.0.0.1, without on
# 127.0.0.2), vsftpd (FTP 21, AUTH TLS), Prosody (XMPP client 5222 and
# server 5269) and MariaDB (3306, the SSL capability). One
# `ers scan --ports default,starttls` records each server's chain with the
# protocol it was reached by; the servers without TLS are refused with
# their reply; nothing waits for a timeout.
set -uo pipefail
if [ -z "${ERS_IN_NETNS:-}" ]; then
  ERS_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
ers="$PWD/$1"
pki_bin="$PWD/$2"
source tests/shell_checks.sh
source tests/postfix_instance.sh
# Under /tmp, world-traversable: Postfix and Prosody's children read it as
# their own users.
work=$(mktemp -d /tmp/ers-daemons.XXXXXX)
chmod 755 "$work"
export ERS_DB="$work/ers.db"
mkdir -p "$work/pki"
"$pki_bin" "$work/pki" starttls-client >/dev/null || { echo "FAIL: clm_pki"; exit 1; }
chmod 644 "$work/pki/server.key"  # read by each server's own user
cert="$work/pki/server.pem"
key="$work/pki/server.key"
pids=()
cleanup() {
  [ -d "$work/postfix/queue/pid" ] && /usr/sbin/postfix -c "$work/postfix" stop >/dev/null 2>&1
  for f in "$work"/slapd-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait
  rm -rf "$work"
}
trap cleanup EXIT
fail_start() { echo "FAIL: $1 did not start: $(tail -5 "$2" 2>/dev/null)"; exit 1; }

# Postfix: smtpd on 25 and 587 offering STARTTLS, and on 2525 without it.
postfix_instance "$work/postfix" "$cert" "$key" 127.0.0.1 \
  "2525       inet  n - n - - smtpd -o smtpd_tls_security_level=none" ||
  fail_start postfix "$work/postfix/log"

# slapd: LDAP with TLS on 127.0.0.1, without on 127.0.0.2.
slapd() {
  local name=$1 address=$2 tls=$3 dir="$work/slapd-$1"
  mkdir -p "$dir"
  {
    echo "include /etc/ldap/schema/core.schema"
    echo "pidfile $work/slapd-$name.pid"
    echo "modulepath /usr/lib/ldap"
    echo "moduleload back_mdb"
    [ "$tls" = yes ] && printf 'TLSCertificateFile %s\nTLSCertificateKeyFile %s\n' "$cert" "$key"
    echo "database mdb"
    echo "suffix \"dc=ers,dc=test\""
    echo "directory $dir"
  } >"$dir.conf"
  /usr/sbin/slapd -f "$dir.conf" -h "ldap://$address:389/" 2>"$dir.log" || fail_start "slapd $name" "$dir.log"
}
slapd tls 127.0.0.1 yes
slapd plain 127.0.0.2 no

# vsftpd: FTP with AUTH TLS.
mkdir -p "$work/ftp/empty"
cat >"$work/ftp/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
background=NO
anonymous_enable=NO
local_enable=YES
secure_chroot_dir=$work/ftp/empty
ssl_enable=YES
rsa_cert_file=$cert
rsa_private_key_file=$key
ssl_ciphers=HIGH
vsftpd_log_file=$work/ftp/log
EOF
/usr/sbin/vsftpd "$work/ftp/vsftpd.conf" >"$work/ftp/out" 2>&1 &
pids+=($!)

# Prosody: XMPP client and server streams, the host named by the address
# ers sends as the stream's `to`.
mkdir -p "$work/xmpp/data"
cat >"$work/xmpp/prosody.cfg.lua" <<EOF
pidfile = "$work/xmpp/prosody.pid"
data_path = "$work/xmpp/data"
daemonize = false
run_as_root = true
interfaces = { "127.0.0.1" }
c2s_ports = { 5222 }
s2s_ports = { 5269 }
legacy_ssl_ports = { }
log = { info = "$work/xmpp/log" }
modules_enabled = { "tls", "saslauth", "disco", "dialback" }
modules_disabled = { "posix" }
ssl = { certificate = "$cert", key = "$key" }
VirtualHost "127.0.0.1"
EOF
prosody --config "$work/xmpp/prosody.cfg.lua" >"$work/xmpp/out" 2>&1 &
pids+=($!)

# MariaDB: a fresh data directory, TLS offered in the greeting.
mariadb-install-db --no-defaults --datadir="$work/mysql/data" --user=root \
  --auth-root-authentication-method=normal --skip-test-db >"$work/mysql-install.log" 2>&1 ||
  fail_start mariadb-install-db "$work/mysql-install.log"
mariadbd --no-defaults --datadir="$work/mysql/data" --user=root --bind-address=127.0.0.1 \
  --port=3306 --socket="$work/mysql/sock" --pid-file="$work/mysql/pid" --ssl-cert="$cert" \
  --ssl-key="$key" --skip-grant-tables --innodb-buffer-pool-size=8M \
  --log-error="$work/mysql/log" 2>"$work/mysql-stderr.log" &
pids+=($!)

# Every server answers on its port before the scan starts.
await_listeners 127.0.0.1:25 127.0.0.1:587 127.0.0.1:2525 127.0.0.1:389 127.0.0.2:389 \
  127.0.0.1:21 127.0.0.1:5222 127.0.0.1:5269 127.0.0.1:3306 || { echo "FAIL: a server did not start"; exit 1; }

# server.pem holds the leaf and the certificate above it, served as such.
chain=$(awk '/BEGIN/{n++} {print > ("'"$work"'/served-" n ".pem")}' "$cert" &&
  for f in "$work"/served-1.pem "$work"/served-2.pem; do
    printf '"%s",' "$(openssl x509 -in "$f" -outform der | base64 -w0)"
  done)
chain="[${chain%,}]"
"$ers" scan --ips 127.0.0.1-127.0.0.2 --ports default,starttls,2525 --starttls 2525=smtp \
  --roots "$work/pki/ca.pem" --handshake-timeout 5s --output "$work/out.jsonl" --quiet \
  --no-push 2>"$work/err"
check $? "ers scan --ports default,starttls exits 0: $(cat "$work/err")"
line() { grep "\"ip\":\"$1\",\"port\":$2," "$work/out.jsonl"; }
for want in "25 smtp" "587 smtp" "389 ldap" "21 ftp" "5222 xmpp" "5269 xmpp-server" "3306 mysql"; do
  set -- $want
  line 127.0.0.1 "$1" | grep -q "\"outcome\":\"tls\",\"detail\":\"\",.*\"starttls\":\"$2\","
  check $? "port $1: TLS after $2 STARTTLS: $(line 127.0.0.1 "$1" | cut -c1-240)"
  line 127.0.0.1 "$1" | grep -qF "\"chain\":$chain"
  check $? "port $1: the server's chain is recorded"
  ! line 127.0.0.1 "$1" | grep -q '"id":"untrusted"'
  check $? "port $1: the chain validates against the test CA: $(line 127.0.0.1 "$1" | grep -o '"findings":.*' | cut -c1-300)"
done
line 127.0.0.1 2525 | grep -q '"outcome":"starttls_refused"' &&
  line 127.0.0.1 2525 | grep -q '"banner":"502 5.5.1'
check $? "smtpd without TLS: STARTTLS refused with its reply: $(line 127.0.0.1 2525 | cut -c1-300)"
line 127.0.0.2 389 | grep -q '"outcome":"starttls_refused"' &&
  line 127.0.0.2 389 | grep -q '"banner":"LDAP result [0-9]'
check $? "slapd without TLS: the StartTLS extended operation refused: $(line 127.0.0.2 389 | cut -c1-300)"
[ "$(grep -c '"outcome":"tls"' "$work/out.jsonl")" -eq 7 ]
check $? "seven TLS endpoints ($(grep -c '"outcome":"tls"' "$work/out.jsonl"))"
! grep -q '"outcome":"timeout"\|"outcome":"error"\|"outcome":"tls_error"' "$work/out.jsonl"
check $? "no probe waited for its timeout or failed: $(grep '"outcome":"timeout"\|"outcome":"error"\|"outcome":"tls_error"' "$work/out.jsonl" | cut -c1-200)"
[ "$(sqlite3 "$ERS_DB" "select group_concat(port || '=' || starttls, ',') from (select port, starttls from endpoint_results where ip = '127.0.0.1' and leaf_sha256 is not null order by port)")" = "21=ftp,25=smtp,389=ldap,587=smtp,3306=mysql,5222=xmpp,5269=xmpp-server" ]
check $? "the inventory keeps each protocol: $(sqlite3 "$ERS_DB" "select group_concat(port || '=' || coalesce(starttls, '-')) from endpoint_results")"
finish
