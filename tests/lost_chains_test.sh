#!/usr/bin/env bash
# Chains the TLS library refuses are still recorded. nginx (OpenSSL) on
# loopback serves leaves that BoringSSL rejects before it shows the chain,
# with certificates the test makes with the openssl command:
# - an ECDSA leaf whose key usage allows only keyCertSign (OpenSSL serves
#   it over TLS 1.3 only: for TLS 1.2 it finds no usable suite), on a server
#   speaking TLS 1.2 and 1.3 and on a TLS 1.3-only one: ers reads the chain
#   from the records on a second attempt (decrypting TLS 1.3's Certificate
#   message with the server's handshake secret from the key log), records
#   it (outcome tls, the reason in detail), the analysis flags
#   leaf_key_usage, and the inventory holds the certificate;
# - a server that requires a client certificate: its chain, as usual;
# - an RSA-512 leaf (TLS 1.2) and a TLS 1.0-only device with an RSA-1024
#   leaf signed with SHA-1 (OpenSSL at security level 0): their chains,
#   judged weak_key, weak_signature and deprecated_tls.
# (Leaves with keys BoringSSL cannot parse, P-192 and brainpool, which
# OpenSSL will not serve to a client that does not offer the curve, are in
# tlsprobe/probe_test, replayed from a captured TLS 1.2 flight.)
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
source tests/openssl_pki.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-lost.XXXXXX")
export ERS_DB="$work/ers.db"
net=127.0.58
cd "$work" || exit 1

openssl_ca "ers lost-chain test CA"
openssl_leaf ku.test 'keyUsage=critical,keyCertSign\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:ku.test\nbasicConstraints=critical,CA:FALSE' &&
  openssl_leaf ok.test 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:ok.test' &&
  openssl_leaf rsa512.test 'subjectAltName=DNS:rsa512.test\nextendedKeyUsage=serverAuth' rsa:512 &&
  openssl_leaf rsa1024.test 'subjectAltName=DNS:rsa1024.test\nextendedKeyUsage=serverAuth' rsa:1024 sha1
check $? "the test certificates are made"
leaf=$(openssl_der ku.test)

nginx_conf_head "$work" >nginx.conf
cat >>nginx.conf <<EOF
  server {
    listen $net.1:8443 ssl;
    ssl_certificate $work/ku.test.pem;
    ssl_certificate_key $work/ku.test.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    return 200 "ku\n";
  }
  server {
    listen $net.1:8444 ssl;
    ssl_certificate $work/ku.test.pem;
    ssl_certificate_key $work/ku.test.key;
    ssl_protocols TLSv1.3;
    return 200 "ku 1.3\n";
  }
  server {
    listen $net.1:8445 ssl;
    ssl_certificate $work/ok.test.pem;
    ssl_certificate_key $work/ok.test.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate $work/ca.pem;
    ssl_verify_client on;
    return 200 "client certificates only\n";
  }
  server {
    listen $net.1:8446 ssl;
    ssl_certificate $work/rsa512.test.pem;
    ssl_certificate_key $work/rsa512.test.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ALL:@SECLEVEL=0;
    return 200 "rsa-512\n";
  }
  server {
    listen $net.1:8447 ssl;
    ssl_certificate $work/rsa1024.test.pem;
    ssl_certificate_key $work/rsa1024.test.key;
    ssl_protocols TLSv1;
    ssl_ciphers ALL:@SECLEVEL=0;
    return 200 "a TLS 1.0 device\n";
  }
}
EOF
/usr/sbin/nginx -p "$work/" -c "$work/nginx.conf" || { echo "FAIL: nginx: $(cat "$work/error.log")"; exit 1; }
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$work"' EXIT

"$ers" scan --ips "$net.1" --ports 8443-8447 --roots "$work/ca.pem" --no-system-roots \
  --output "$work/out.jsonl" --quiet --no-push 2>"$work/err"
check $? "ers scan exits 0: $(cat "$work/err")"
line() { grep "\"port\":$1," "$work/out.jsonl"; }
for port in 8443 8444; do
  line $port | grep -q '"outcome":"tls","detail":"chain read from the handshake records: the TLS library rejected the leaf (SSL routines: KEY_USAGE_BIT_INCORRECT)"'
  check $? "$port: the refused leaf's chain is recorded, with the reason: $(line $port | cut -c1-260)"
  line $port | grep -q "\"chain\":\[\"$leaf\""
  check $? "$port: the chain is the server's"
  line $port | grep -q '"version":"TLSv1.3"' && line $port | grep -q '"attempts":2'
  check $? "$port: read from TLS 1.3's encrypted records, on the second attempt"
  line $port | grep -q '"id":"leaf_key_usage","severity":"high"'
  check $? "$port: the analysis flags leaf_key_usage: $(line $port | grep -o '"findings":.*' | cut -c1-300)"
done
ok=$(openssl_der ok.test)
line 8445 | grep -q '"outcome":"tls","detail":""' && line 8445 | grep -q "\"chain\":\[\"$ok\""
check $? "8445 (client certificate required): the server's chain: $(line 8445 | cut -c1-200)"
for want in "8446 rsa512 TLSv1.2" "8447 rsa1024 TLSv1"; do
  set -- $want
  der=$(openssl_der $2.test)
  line $1 | grep -q '"outcome":"tls"' && line $1 | grep -q "\"chain\":\[\"$der\"" &&
    line $1 | grep -q "\"version\":\"$3\""
  check $? "$1: the $2 leaf's chain over $3: $(line $1 | cut -c1-260)"
done
line 8446 | grep -q '"id":"weak_key","severity":"high","message":"rsa512.test: RSA-512 key'
check $? "8446: weak_key for RSA-512: $(line 8446 | grep -o '"findings":.*' | cut -c1-300)"
line 8447 | grep -q '"id":"weak_key","severity":"high","message":"rsa1024.test: RSA-1024 key' &&
  line 8447 | grep -q '"id":"weak_signature","severity":"high","message":"rsa1024.test: signed with SHA-1' &&
  line 8447 | grep -q '"id":"deprecated_tls"'
check $? "8447: weak_key, weak_signature and deprecated_tls: $(line 8447 | grep -o '"findings":.*' | cut -c1-400)"
[ "$(sqlite3 "$ERS_DB" "select count(*) from certificates where subject_cn = 'ku.test'")" -eq 1 ]
check $? "the inventory holds the refused leaf"
finish
