#!/usr/bin/env bash
# SNI discovery: an IP sweep finds every virtual host behind an address.
# nginx on 127.0.61.1:8443 serves a default certificate whose SANs name two
# other virtual hosts (each with its own certificate), itself and a
# wildcard, plus one virtual host reachable only through --sni; 127.0.61.2
# has a single certificate. ers scan probes each address without SNI, then
# once with each name the default certificate names (not the wildcard) and
# with --sni's; each record says where its name came from and whether its
# certificate differs from the default one; the inventory keeps every
# (address, port, name). --sni-discovery off and --sni-max bound it.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
source tests/openssl_pki.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-vhosts.XXXXXX")
export ERS_DB="$work/ers.db"
net=127.0.61
cd "$work" || exit 1

openssl_ca "ers vhost test CA"
for spec in "default.test DNS:default.test,DNS:a.vhost.test,DNS:b.vhost.test,DNS:*.wild.test" \
            "a.vhost.test DNS:a.vhost.test" "b.vhost.test DNS:b.vhost.test" \
            "hidden.test DNS:hidden.test" "single.test DNS:single.test"; do
  set -- $spec
  openssl_leaf "$1" "subjectAltName=$2\nextendedKeyUsage=serverAuth" ||
    { echo "FAIL: no certificate for $1"; exit 1; }
done
der() { openssl_der "$1"; }

mkdir -p tmp
{
  echo "worker_processes 1;"
  echo "pid $work/nginx.pid;"
  echo "error_log $work/error.log warn;"
  echo "events { worker_connections 64; }"
  echo "http {"
  echo "  access_log off;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $work/tmp/$t;"; done
  # server ADDRESS NAME CERT [default_server]
  server() {
    echo "  server { listen $1:8443 ssl ${4:-}; server_name $2; ssl_certificate $work/$3.pem;"
    echo "    ssl_certificate_key $work/$3.key; return 200 \"$3\\n\"; }"
  }
  server $net.1 default.test default.test default_server
  server $net.1 a.vhost.test a.vhost.test
  server $net.1 b.vhost.test b.vhost.test
  server $net.1 hidden.test hidden.test
  server $net.2 single.test single.test default_server
  echo "}"
} >nginx.conf
/usr/sbin/nginx -p "$work/" -c "$work/nginx.conf" || { echo "FAIL: nginx: $(cat "$work/error.log")"; exit 1; }
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$work"' EXIT

"$ers" scan --ips "$net.1-$net.2" --ports 8443 --sni hidden.test --roots ca.pem --no-system-roots \
  --output out.jsonl --summary --no-push >/dev/null 2>err
check $? "ers scan exits 0: $(cat err)"
# result IP NAME: the record of that address and name.
result() { grep "\"ip\":\"$1\",\"port\":8443,\"name\":\"$2\"," out.jsonl; }
result $net.1 "" | grep -q "\"sni\":\"\",.*\"chain\":\[\"$(der default.test)\""
check $? "$net.1 without SNI: the default certificate"
for want in "a.vhost.test san true a.vhost.test" "b.vhost.test san true b.vhost.test" \
            "hidden.test sni true hidden.test"; do
  set -- $want
  result $net.1 "$1" | grep -q "\"sni\":\"$1\",\"outcome\":\"tls\",.*\"sni_source\":\"$2\",\"differs_from_default\":$3,.*\"chain\":\[\"$(der "$4")\""
  check $? "$net.1 SNI $1 (from $2): $4's certificate, differs_from_default $3: $(result $net.1 "$1" | cut -c1-300)"
done
! grep -q '"sni":"[^"]*wild.test' out.jsonl
check $? "the wildcard SAN is not tried: $(grep -o '"sni":"[^"]*wild.test[^"]*"' out.jsonl)"
[ -z "$(result $net.1 default.test)" ]
check $? "$net.1: the name that gets the default certificate back makes no record"
[ "$(grep -c "\"ip\":\"$net.1\"" out.jsonl)" -eq 4 ]
check $? "$net.1: four records ($(grep -c "\"ip\":\"$net.1\"" out.jsonl))"
[ -z "$(result $net.2 single.test)" ]
check $? "$net.2: its own name gives the same certificate: no record"
result $net.2 hidden.test | grep -q '"sni_source":"sni","differs_from_default":false'
check $? "$net.2: --sni's name is tried there too, gets the default, and is recorded (it was asked for)"
[ "$(wc -l <out.jsonl)" -eq 6 ]
check $? "six records in all ($(wc -l <out.jsonl))"
! grep -q '"id":"hostname_mismatch"' out.jsonl
check $? "no name was asked of a certificate that does not cover it"
grep -q "SNI discovery: 6 probes, 3 virtual hosts" err
check $? "the summary counts the discovery: $(grep -i sni err)"

# The inventory: every (address, port, name), every certificate.
[ "$(sqlite3 "$ERS_DB" "select count(*) from endpoint_results where ip = '$net.1'")" -eq 4 ]
check $? "endpoint_results: four rows for $net.1"
for n in default.test a.vhost.test b.vhost.test hidden.test single.test; do
  [ "$(sqlite3 "$ERS_DB" "select count(*) from certificates where subject_cn = '$n'")" -eq 1 ]
  check $? "the inventory holds $n's certificate"
done
[ "$(sqlite3 "$ERS_DB" "select count(*) from sightings s join certificates c on c.sha256 = s.cert_sha256 where c.subject_cn = 'a.vhost.test' and s.ip = '$net.1' and s.name = 'a.vhost.test'")" -eq 1 ]
check $? "a sighting of a.vhost.test at ($net.1, 8443, a.vhost.test)"

# Off: one probe per address (with --sni: its names instead of none).
"$ers" scan --ips "$net.1-$net.2" --ports 8443 --sni-discovery off --roots ca.pem --output off.jsonl \
  --quiet --no-push 2>err
[ $? -eq 0 ] && [ "$(wc -l <off.jsonl)" -eq 2 ] && ! grep -q sni_source off.jsonl
check $? "--sni-discovery off: two records without sni_source ($(wc -l <off.jsonl)): $(cat err)"
"$ers" scan --ips "$net.1" --ports 8443 --sni-max 1 --roots ca.pem --output max.jsonl --quiet \
  --no-push 2>err
[ $? -eq 0 ] && [ "$(wc -l <max.jsonl)" -eq 1 ]
check $? "--sni-max 1: the first name of the SANs only, default.test, which makes no record ($(wc -l <max.jsonl))"
"$ers" scan --ips "$net.1" --ports 8443 --sni-discovery maybe --no-push 2>err
[ $? -eq 2 ] && grep -q 'sni-discovery takes on or off, not "maybe"' err
check $? "--sni-discovery maybe: a usage error: $(cat err)"
finish
