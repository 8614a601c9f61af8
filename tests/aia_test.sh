#!/usr/bin/env bash
# AIA completion end to end. A root, an intermediate, and leaves served
# alone (no intermediate) by nginx on 127.0.63.10-16:8443, each naming its
# issuer with an AIA caIssuers URL on an nginx HTTP server at
# 127.0.63.1:8080: the intermediate in DER, in PKCS#7, behind a server that
# trickles one byte a second (a hang), a 10 MiB body, a redirect to
# 127.0.63.9 (excluded), an ftp:// URL, and a leaf without AIA. ers scan
# completes the first two (trusted, completed_via aia, incomplete_chain),
# classifies the rest untrusted within its bounds, never contacts the
# excluded address, caches the bodies on disk (a second scan fetches
# nothing), and fetches nothing with --no-aia.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
source tests/openssl_pki.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-aia.XXXXXX")
export ERS_DB="$work/ers.db"
net=127.0.63
cd "$work" || exit 1

openssl_ca "ers AIA test root"
openssl_intermediate inter "ers AIA test intermediate" || { echo "FAIL: no intermediate"; exit 1; }
mkdir -p www tmp
openssl x509 -in inter.pem -outform der -out www/inter.der
openssl crl2pkcs7 -nocrl -certfile inter.pem -outform DER -out www/inter.p7c
head -c $((10 << 20)) /dev/zero >www/big.der
cp www/inter.der www/slow.der
# name URL: each leaf, its caIssuers URL, its address.
leaves=(
  "der.test http://$net.1:8080/inter.der"
  "p7.test http://$net.1:8080/inter.p7c"
  "hang.test http://$net.1:8080/slow.der"
  "big.test http://$net.1:8080/big.der"
  "redir.test http://$net.1:8080/redir"
  "ftp.test ftp://$net.1:8080/inter.der"
  "none.test -"
)
i=10
declare -A address
for spec in "${leaves[@]}"; do
  set -- $spec
  exts="subjectAltName=DNS:$1\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid"
  [ "$2" != - ] && exts="$exts\nauthorityInfoAccess=caIssuers;URI:$2"
  openssl_leaf "$1" "$exts" ec sha256 inter || { echo "FAIL: no certificate for $1"; exit 1; }
  address[$1]=$net.$i
  i=$((i + 1))
done

{
  echo "worker_processes 1;"
  # The worker reads the issuers from the test's private directory.
  echo "user root;"
  echo "pid $work/nginx.pid;"
  echo "error_log $work/error.log warn;"
  echo "events { worker_connections 64; }"
  echo "http {"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $work/tmp/$t;"; done
  echo "  server { listen $net.1:8080; access_log $work/aia.log; root $work/www;"
  echo "    location = /slow.der { limit_rate 1; }"
  echo "    location = /redir { return 302 http://$net.9:8080/inter.der; } }"
  echo "  server { listen $net.9:8080; access_log $work/excluded.log; root $work/www; }"
  for spec in "${leaves[@]}"; do
    set -- $spec
    echo "  server { listen ${address[$1]}:8443 ssl; access_log off; ssl_certificate $work/$1.pem;"
    echo "    ssl_certificate_key $work/$1.key; return 200 \"$1\\n\"; }"
  done
  echo "}"
} >nginx.conf
/usr/sbin/nginx -p "$work/" -c "$work/nginx.conf" || { echo "FAIL: nginx: $(cat "$work/error.log")"; exit 1; }
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$work"' EXIT
await_listeners "$net.1:8080" "$net.9:8080" "$net.10:8443" "$net.16:8443"
touch aia.log excluded.log

scan() {
  "$ers" scan --ips "$net.10-$net.16" --ports 8443 --roots ca.pem --no-system-roots \
    --exclude "$net.9" --aia-timeout 1s --no-push "$@"
}
# record NAME FILE: the record of NAME's address.
record() { grep "\"ip\":\"${address[$1]}\"" "$2"; }
start=$(date +%s)
scan --output first.jsonl --summary >/dev/null 2>err
check $? "ers scan exits 0: $(cat err)"
elapsed=$(( $(date +%s) - start ))
[ "$(wc -l <first.jsonl)" -eq 7 ]
check $? "seven records ($(wc -l <first.jsonl))"
for name in der.test p7.test; do
  r=$(record $name first.jsonl)
  echo "$r" | grep -q '"trusted":true' && echo "$r" | grep -q '"completed_via":"aia"' &&
    echo "$r" | grep -q '"id":"incomplete_chain"' && ! echo "$r" | grep -q '"id":"untrusted"'
  check $? "$name: completed through AIA, trusted, incomplete_chain: $(echo "$r" | grep -o '"validation":{[^}]*}')"
done
for name in hang.test big.test redir.test ftp.test none.test; do
  r=$(record $name first.jsonl)
  echo "$r" | grep -q '"trusted":false' && echo "$r" | grep -q '"reasons":\["unknown_issuer"\]' &&
    ! echo "$r" | grep -q '"id":"incomplete_chain"'
  check $? "$name: untrusted, unknown_issuer, no incomplete_chain claimed: $(echo "$r" | grep -o '"validation":{[^}]*}')"
done
# aia_outcome NAME TEXT: NAME's fetch outcome says TEXT.
aia_outcome() { record "$1" first.jsonl | grep -o '"aia":\[[^]]*\]' | grep -q "$2"; }
aia_outcome hang.test "timed out"
check $? "hang.test: the fetch timed out: $(record hang.test first.jsonl | grep -o '"aia":\[[^]]*\]')"
aia_outcome big.test "larger than 65536 bytes"
check $? "big.test: refused past 64 KiB: $(record big.test first.jsonl | grep -o '"aia":\[[^]]*\]')"
aia_outcome redir.test "refused: it leads to $net.9, which is excluded"
check $? "redir.test: the redirect target is excluded: $(record redir.test first.jsonl | grep -o '"aia":\[[^]]*\]')"
aia_outcome ftp.test "only http and https"
check $? "ftp.test: the scheme is refused: $(record ftp.test first.jsonl | grep -o '"aia":\[[^]]*\]')"
! record none.test first.jsonl | grep -q '"aia":'
check $? "none.test: no URL, no fetch"
[ ! -s excluded.log ]
check $? "the redirect to the excluded $net.9 was refused before any request: $(cat excluded.log)"
grep -q "GET /redir " aia.log
check $? "the redirect itself was asked for"
! grep -q "/inter.der.*ftp\|ftp" aia.log
check $? "the ftp:// URL was not fetched over http"
[ "$elapsed" -lt 30 ]
check $? "the hanging server costs its timeout, not the sweep ($elapsed s)"
grep -q "AIA issuers: .* refused" err && grep -q "2 refused" err
check $? "the summary counts the fetches, two refused (the redirect, ftp): $(grep AIA err)"
[ "$(ls aia-cache | wc -l)" -eq 2 ]
check $? "two bodies cached on disk next to the inventory: $(ls aia-cache)"
[ "$(stat -c %a aia-cache)" = 700 ]
check $? "the cache directory is private ($(stat -c %a aia-cache))"

# Again: the good issuers come from the disk cache, not the server.
der_before=$(grep -c "GET /inter.der " aia.log)
scan --output second.jsonl --summary >/dev/null 2>err
check $? "second scan exits 0: $(cat err)"
[ "$(grep -c "GET /inter.der " aia.log)" -eq "$der_before" ] &&
  [ "$(grep -c "GET /inter.p7c " aia.log)" -eq 1 ]
check $? "nothing fetched again from the server: $(grep -c GET aia.log) requests"
record der.test second.jsonl | grep -q '"completed_via":"aia"'
check $? "der.test still completed through AIA (from the cache)"
grep -q "2 from the cache" err
check $? "the summary says so: $(grep AIA err)"

# --no-aia: nothing is fetched; the leaf alone is untrusted.
requests=$(wc -l <aia.log)
scan --no-aia --output off.jsonl --quiet 2>err
check $? "--no-aia scan exits 0: $(cat err)"
[ "$(wc -l <aia.log)" -eq "$requests" ]
check $? "--no-aia: no request"
record der.test off.jsonl | grep -q '"reasons":\["unknown_issuer"\]'
check $? "--no-aia: der.test untrusted, unknown_issuer"
finish
