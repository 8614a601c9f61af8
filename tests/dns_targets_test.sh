#!/usr/bin/env bash
# DNS as a source of targets, against a real DNS server: dnsmasq serves a
# test zone on 127.0.0.1:5353 in a network namespace of the test's own (MX,
# SRV and A records for 127.0.62.x), nginx and Postfix serve the services it
# announces with certificates for their names. ers discover --domain stores
# the domains and the resolver; ers scan --dry-run shows what they expand
# to; ers scan finds every announced service's certificate under its name,
# with the protocol the service implies (SMTP STARTTLS for the MX and
# _submission), skips addresses on the exclusion list, and classifies a
# name that does not exist (NXDOMAIN) and a resolver that never answers.
set -uo pipefail
if [ -z "${ERS_IN_NETNS:-}" ]; then
  ERS_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
# Postfix listens only on addresses an interface holds.
ip addr add 127.0.62.2/8 dev lo
ers="$PWD/$1"
source tests/shell_checks.sh
source tests/postfix_instance.sh
source tests/openssl_pki.sh
# Under /tmp, world-traversable: Postfix's daemons read it as their own user.
work=$(mktemp -d /tmp/ers-dns.XXXXXX)
chmod 755 "$work"
export ERS_DB="$work/ers.db"
cd "$work" || exit 1
pids=()
cleanup() {
  /usr/sbin/postfix -c "$work/postfix" stop >/dev/null 2>&1
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait
  cd /
  rm -rf "$work"
}
trap cleanup EXIT

openssl_ca "ers DNS test CA"
for n in test.example mail.test.example imap.test.example web.test.example excluded.test.example \
  default.test.example alt.test.example; do
  openssl_leaf "$n" "subjectAltName=DNS:$n\nextendedKeyUsage=serverAuth" ||
    { echo "FAIL: no certificate for $n"; exit 1; }
  chmod 644 "$n.key"  # Postfix's daemons read theirs as their own user
done

{
  echo "port=5353"
  echo "listen-address=127.0.0.1"
  echo "bind-interfaces"
  echo "no-resolv"
  echo "no-hosts"
  echo "local=/test.example/"
  echo "local=/nx.example/"
  echo "host-record=test.example,127.0.62.1"
  echo "host-record=mail.test.example,127.0.62.2"
  echo "host-record=imap.test.example,127.0.62.3"
  echo "host-record=web.test.example,127.0.62.4"
  echo "host-record=excluded.test.example,127.0.62.9"
  echo "mx-host=test.example,mail.test.example,10"
  echo "srv-host=_submission._tcp.test.example,mail.test.example,587,0,1"
  echo "srv-host=_imaps._tcp.test.example,imap.test.example,993,0,1"
  echo "srv-host=_https._tcp.test.example,web.test.example,8443,0,1"
  echo "srv-host=_ldaps._tcp.test.example,excluded.test.example,636,0,1"
  echo "srv-host=_imap._tcp.test.example,gone.test.example,143,0,1"
  echo "ptr-record=5.62.0.127.in-addr.arpa,alt.test.example"
} >dnsmasq.conf
dnsmasq --conf-file="$work/dnsmasq.conf" --keep-in-foreground --user=root \
  --pid-file="$work/dnsmasq.pid" --log-facility="$work/dnsmasq.log" &
pids+=($!)

mkdir -p tmp
{
  echo "worker_processes 1; pid $work/nginx.pid; error_log $work/error.log warn;"
  echo "events { worker_connections 64; }"
  echo "http { access_log off;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $work/tmp/$t;"; done
  for s in "127.0.62.1:443 test.example" "127.0.62.3:993 imap.test.example" \
           "127.0.62.4:8443 web.test.example" "127.0.62.9:636 excluded.test.example"; do
    set -- $s
    echo "  server { listen $1 ssl; ssl_certificate $work/$2.pem; ssl_certificate_key $work/$2.key; return 200 \"$2\\n\"; }"
  done
  # 127.0.62.5: a default certificate, and a virtual host only its PTR name reveals.
  for s in "default.test.example default_server" "alt.test.example"; do
    set -- $s
    echo "  server { listen 127.0.62.5:443 ssl ${2:-}; server_name $1; ssl_certificate $work/$1.pem; ssl_certificate_key $work/$1.key; return 200 \"$1\\n\"; }"
  done
  echo "}"
} >nginx.conf
/usr/sbin/nginx -p "$work/" -c "$work/nginx.conf" || { echo "FAIL: nginx: $(cat error.log)"; exit 1; }
postfix_instance "$work/postfix" "$work/mail.test.example.pem" "$work/mail.test.example.key" 127.0.62.2 ||
  { echo "FAIL: postfix: $(tail -3 "$work/postfix/log")"; exit 1; }
await_listeners 127.0.62.2:25 127.0.62.2:587 127.0.62.1:443 || { echo "FAIL: a server did not start"; exit 1; }
for _ in $(seq 1 100); do [ -s "$work/dnsmasq.pid" ] && break; sleep 0.1; done

"$ers" discover --domain test.example,NX.example --resolver 127.0.0.1:5353 >out 2>&1
check $? "ers discover --domain --resolver: $(cat out)"
"$ers" discover --list >list
grep -q "^domain  test.example " list && grep -q "^domain  nx.example " list &&
  grep -q "^resolver: 127.0.0.1:5353" list
check $? "ers discover --list shows the domains and the resolver: $(cat list)"
"$ers" discover --domain test.example >out 2>&1 && grep -q "domain test.example unchanged" out
check $? "a domain added twice is stored once: $(cat out)"
"$ers" discover --domain "bad domain" 2>err
[ $? -eq 2 ]
check $? "a malformed domain is refused: $(cat err)"
"$ers" discover --resolver dns.example 2>err
[ $? -eq 2 ] && grep -q 'not ADDRESS\[:PORT\]' err
check $? "a resolver must be an address: $(cat err)"

"$ers" scan --dry-run --exclude 127.0.62.9 >plan 2>err
check $? "ers scan --dry-run: $(cat err)"
for want in "mail.test.example *port 25 smtp (from test.example MX)" \
            "mail.test.example *port 587 smtp (from _submission._tcp.test.example SRV)" \
            "imap.test.example *port 993 (from _imaps._tcp.test.example SRV)" \
            "web.test.example *port 8443 (from _https._tcp.test.example SRV)" \
            "gone.test.example *port 143 imap (from _imap._tcp.test.example SRV)" \
            "test.example *ports 443,465,636" "nx.example *ports 443"; do
  grep -q "domain  $want" plan
  check $? "the dry run shows: $want"
done

"$ers" scan --exclude 127.0.62.9 --roots ca.pem --no-system-roots --handshake-timeout 5s \
  --output out.jsonl --quiet --no-push 2>err
status=$?
[ $status -eq 0 ]
check $? "ers scan exits 0 ($status): $(cat err)"
# result NAME PORT: the record of that host name and port.
result() { grep "\"port\":$2,\"name\":\"$1\"," out.jsonl; }
der() { openssl_der "$1"; }
for want in "test.example 443 -" "mail.test.example 25 smtp" "mail.test.example 587 smtp" \
            "imap.test.example 993 -" "web.test.example 8443 -"; do
  set -- $want
  line=$(result "$1" "$2")
  grep -q "\"sni\":\"$1\",\"outcome\":\"tls\"" <<<"$line" &&
    grep -q "\"chain\":\[\"$(der "$1")\"" <<<"$line" &&
    { { [ "$3" = - ] && ! grep -q '"starttls"' <<<"$line"; } || grep -q "\"starttls\":\"$3\"" <<<"$line"; } &&
    ! grep -q '"id":"hostname_mismatch"\|"id":"untrusted"' <<<"$line"
  check $? "$1:$2: its certificate, under its name ($3): $(cut -c1-260 <<<"$line")"
done
[ "$(grep -c '"outcome":"tls"' out.jsonl)" -eq 5 ]
check $? "five TLS services ($(grep -c '"outcome":"tls"' out.jsonl))"
result excluded.test.example 636 | grep -q '"outcome":"excluded"'
check $? "the SRV target on an excluded address is not contacted: $(result excluded.test.example 636 | cut -c1-200)"
! grep -v '"outcome":"excluded"' out.jsonl | grep -q '"ip":"127.0.62.9"'
check $? "nothing was sent to 127.0.62.9"
result gone.test.example 143 | grep -q '"outcome":"unresolved","detail":"cannot resolve gone.test.example: no such name (NXDOMAIN)"'
check $? "an SRV target that does not exist: unresolved, NXDOMAIN: $(result gone.test.example 143 | cut -c1-200)"
result nx.example 443 | grep -q '"outcome":"unresolved","detail":"cannot resolve nx.example: no such name (NXDOMAIN)"'
check $? "a domain that does not exist: unresolved, NXDOMAIN"
[ "$(sqlite3 "$ERS_DB" "select count(distinct name) from endpoint_results where leaf_sha256 is not null")" -eq 4 ]
check $? "the inventory keeps each service under its name"

# SNI discovery asks the resolver for an answering address's PTR names:
# the virtual host behind 127.0.62.5 that only its PTR name reveals.
"$ers" scan --ips 127.0.62.5 --ports 443 --roots ca.pem --no-system-roots --output ptr.jsonl \
  --quiet --no-push 2>err
[ $? -eq 0 ] && [ "$(wc -l <ptr.jsonl)" -eq 2 ] &&
  grep '"name":"alt.test.example"' ptr.jsonl | grep -q '"sni_source":"ptr","differs_from_default":true,.*"chain":\["'"$(der alt.test.example)"'"'
check $? "the PTR name's virtual host, from the stored resolver: $(cat err; cut -c1-300 ptr.jsonl)"

# A resolver that never answers: every name is classified, and the scan
# ends on its own.
python3 -c 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",5354)); time.sleep(120)' &
pids+=($!)
for _ in $(seq 1 50); do ss -uln | grep -q 127.0.0.1:5354 && break; sleep 0.1; done
"$ers" scan --domain test.example --ports 443 --resolver 127.0.0.1:5354 --output silent.jsonl \
  --summary --no-push >/dev/null 2>err
[ $? -eq 0 ] && grep -q '"name":"test.example","sni":"","outcome":"unresolved","detail":"cannot resolve test.example: no answer from the DNS server (timeout)"' silent.jsonl &&
  grep -q "MX test.example: no answer from the DNS server (timeout)" err
check $? "a silent resolver: the domain's name unresolved (timeout), the MX query named in a warning: $(cat err; cut -c1-200 silent.jsonl)"
finish
