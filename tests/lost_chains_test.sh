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
# - a server that requires a client certificate: its chain, as usual.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-lost.XXXXXX")
export ERS_DB="$work/ers.db"
net=127.0.58
cd "$work" || exit 1

openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -subj "/CN=ers lost-chain test CA" -days 30 -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out ku.key 2>/dev/null
openssl req -new -key ku.key -subj "/CN=ku.test" -out ku.csr 2>/dev/null
printf 'keyUsage=critical,keyCertSign\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:ku.test\nbasicConstraints=critical,CA:FALSE\n' >ku.ext
openssl x509 -req -in ku.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile ku.ext \
  -out ku.pem 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out ok.key 2>/dev/null
openssl req -new -key ok.key -subj "/CN=ok.test" -out ok.csr 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:ok.test\n' >ok.ext
openssl x509 -req -in ok.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile ok.ext \
  -out ok.pem 2>/dev/null
[ -s ku.pem ] && [ -s ok.pem ]
check $? "the test certificates are made"
leaf=$(openssl x509 -in ku.pem -outform der | base64 -w0)

mkdir -p tmp
cat >nginx.conf <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  server {
    listen $net.1:8443 ssl;
    ssl_certificate $work/ku.pem;
    ssl_certificate_key $work/ku.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    return 200 "ku\n";
  }
  server {
    listen $net.1:8444 ssl;
    ssl_certificate $work/ku.pem;
    ssl_certificate_key $work/ku.key;
    ssl_protocols TLSv1.3;
    return 200 "ku 1.3\n";
  }
  server {
    listen $net.1:8445 ssl;
    ssl_certificate $work/ok.pem;
    ssl_certificate_key $work/ok.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate $work/ca.pem;
    ssl_verify_client on;
    return 200 "client certificates only\n";
  }
}
EOF
/usr/sbin/nginx -p "$work/" -c "$work/nginx.conf" || { echo "FAIL: nginx: $(cat "$work/error.log")"; exit 1; }
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$work"' EXIT

"$ers" scan --ips "$net.1" --ports 8443,8444,8445 --roots "$work/ca.pem" --no-system-roots \
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
ok=$(openssl x509 -in ok.pem -outform der | base64 -w0)
line 8445 | grep -q '"outcome":"tls","detail":""' && line 8445 | grep -q "\"chain\":\[\"$ok\""
check $? "8445 (client certificate required): the server's chain: $(line 8445 | cut -c1-200)"
[ "$(sqlite3 "$ERS_DB" "select count(*) from certificates where subject_cn = 'ku.test'")" -eq 1 ]
check $? "the inventory holds the refused leaf"
finish
