#!/usr/bin/env bash
# Stapled OCSP responses, made by `openssl ocsp` from an index and stapled
# by nginx (ssl_stapling_file) on 127.0.64.10-16:8443: good, revoked,
# unknown, good from a delegated responder (id-kp-OCSPSigning), one signed
# by a stranger (with and without its certificate), and one about another
# certificate. ers scan verifies each
# (signature, responder, certificate ID, freshness) and judges it: revoked
# is untrusted with a critical `revoked` finding; the two bad staples are
# `ocsp_staple_invalid`, saying why. Then --revocation ocsp: two leaves
# without staples name an `openssl ocsp` responder on 127.0.64.1:18964 in
# their AIA; ers asks it (HTTP GET) and judges its answers; without the
# flag it asks nothing. --revocation crl: two leaves name a CRL (made by
# `openssl ca -gencrl`, served by nginx); the revoked one is untrusted, the
# CRL is cached. In a private network namespace: the responder listens on
# every address.
set -uo pipefail
if [ -z "${ERS_IN_NETNS:-}" ]; then
  ERS_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
ers="$PWD/$1"
source tests/shell_checks.sh
source tests/openssl_pki.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-ocsp.XXXXXX")
export ERS_DB="$work/ers.db"
net=127.0.64
cd "$work" || exit 1

openssl_ca "ers OCSP test root"
openssl_intermediate inter "ers OCSP test intermediate" || { echo "FAIL: no intermediate"; exit 1; }
names=(good revoked unknown delegated stranger mismatch anonymous)
for n in "${names[@]}"; do
  openssl_leaf "$n" "subjectAltName=DNS:$n.test\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid" \
    ec sha256 inter "$n.test" || { echo "FAIL: no certificate for $n"; exit 1; }
  cat "$n.pem" inter.pem >"$n.chain.pem"
done
openssl_leaf responder "extendedKeyUsage=OCSPSigning\nkeyUsage=critical,digitalSignature\nauthorityKeyIdentifier=keyid" \
  ec sha256 inter "ers OCSP responder" || { echo "FAIL: no responder certificate"; exit 1; }
openssl_leaf stranger_ca "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign" ec sha256 ca \
  "ers OCSP stranger" || { echo "FAIL: no stranger"; exit 1; }

# The responder's database: every leaf but "unknown"; "revoked" revoked.
: >index.txt
for n in asked-good asked-revoked asked-unknown; do
  openssl_leaf "$n" "subjectAltName=DNS:$n.test\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nauthorityInfoAccess=OCSP;URI:http://$net.1:18964" \
    ec sha256 inter "$n.test" || { echo "FAIL: no certificate for $n"; exit 1; }
  cat "$n.pem" inter.pem >"$n.chain.pem"
done
for n in crl-good crl-revoked; do
  openssl_leaf "$n" "subjectAltName=DNS:$n.test\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\ncrlDistributionPoints=URI:http://$net.1:8080/inter.crl" \
    ec sha256 inter "$n.test" || { echo "FAIL: no certificate for $n"; exit 1; }
  cat "$n.pem" inter.pem >"$n.chain.pem"
done
for n in good revoked delegated stranger mismatch anonymous asked-good asked-revoked crl-good crl-revoked; do
  serial=$(openssl x509 -in "$n.pem" -noout -serial | cut -d= -f2)
  if [ "$n" = revoked ] || [ "$n" = asked-revoked ] || [ "$n" = crl-revoked ]; then
    printf 'R\t301231235959Z\t261101000000Z,keyCompromise\t%s\tunknown\t/CN=%s.test\n' "$serial" "$n" >>index.txt
  else
    printf 'V\t301231235959Z\t\t%s\tunknown\t/CN=%s.test\n' "$serial" "$n" >>index.txt
  fi
done
# respond NAME ABOUT SIGNER: NAME.resp, the answer about ABOUT's certificate signed by SIGNER.
respond() {
  openssl ocsp -issuer inter.pem -cert "$2.pem" -no_nonce -reqout "$1.req" 2>/dev/null &&
    openssl ocsp -index index.txt -rsigner "$3.pem" -rkey "$3.key" -CA inter.pem -reqin "$1.req" \
      -respout "$1.resp" -ndays 1 ${4:-} 2>/dev/null && [ -s "$1.resp" ]
}
respond good good inter && respond revoked revoked inter && respond unknown unknown inter &&
  respond delegated delegated responder && respond stranger stranger stranger_ca &&
  respond mismatch good inter && respond anonymous anonymous stranger_ca -resp_no_certs
check $? "openssl ocsp made the seven responses"

# The intermediate's CRL, from the same database.
printf '[ca]\ndefault_ca = ca_sect\n[ca_sect]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 1\n' >ca.cnf
echo 01 >crlnumber
mkdir -p tmp www
openssl ca -gencrl -config ca.cnf -keyfile inter.key -cert inter.pem -out inter.crl.pem 2>ca.err &&
  openssl crl -in inter.crl.pem -outform der -out www/inter.crl
check $? "openssl ca made the CRL: $(cat ca.err)"
{
  echo "worker_processes 1;"
  echo "user root;"  # the worker reads the CRL from the test's private directory
  echo "pid $work/nginx.pid;"
  echo "error_log $work/error.log warn;"
  echo "events { worker_connections 64; }"
  echo "http {"
  echo "  access_log off;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $work/tmp/$t;"; done
  i=10
  for n in "${names[@]}"; do
    echo "  server { listen $net.$i:8443 ssl; ssl_certificate $work/$n.chain.pem;"
    echo "    ssl_certificate_key $work/$n.key; ssl_stapling on; ssl_stapling_file $work/$n.resp;"
    echo "    return 200 \"$n\\n\"; }"
    i=$((i + 1))
  done
  echo "  server { listen $net.1:8080; access_log $work/crl.log; root $work/www; }"
  i=20
  for n in asked-good asked-revoked crl-good crl-revoked asked-unknown; do
    echo "  server { listen $net.$i:8443 ssl; ssl_certificate $work/$n.chain.pem;"
    echo "    ssl_certificate_key $work/$n.key; return 200 \"$n\\n\"; }"
    i=$((i + 1))
  done
  echo "}"
} >nginx.conf
/usr/sbin/nginx -p "$work/" -c "$work/nginx.conf" 2>nginx.err ||
  { echo "FAIL: nginx: $(cat nginx.err "$work/error.log")"; exit 1; }
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$work"' EXIT
await_listeners "$net.10:8443" "$net.16:8443"

"$ers" scan --ips "$net.10-$net.16" --ports 8443 --roots ca.pem --no-system-roots --no-aia \
  --output out.jsonl --summary --no-push >/dev/null 2>err
check $? "ers scan exits 0: $(cat err)"
[ "$(wc -l <out.jsonl)" -eq 7 ]
check $? "seven records ($(wc -l <out.jsonl))"
record() { grep "\"ip\":\"$net.$1\"" out.jsonl; }
ocsp() { record "$1" | grep -o '"ocsp":{[^}]*}'; }
ids() { record "$1" | grep -o '"id":"[a-z_]*"' | sort | tr '\n' ' '; }

ocsp 10 | grep -q '"valid":true,"status":"good"' && record 10 | grep -q '"trusted":true' &&
  [ -z "$(ids 10)" ]
check $? "good: a valid staple, good, trusted, no finding: $(ocsp 10) $(ids 10)"
ocsp 11 | grep -q '"valid":true,"status":"revoked".*"reason":1' &&
  record 11 | grep -q '"trusted":false,"reasons":\["revoked"\]' &&
  record 11 | grep -q '"id":"revoked","severity":"critical"'
check $? "revoked: untrusted (revoked), a critical revoked finding: $(ocsp 11) $(ids 11)"
ocsp 12 | grep -q '"valid":true,"status":"unknown"' && record 12 | grep -q '"trusted":true'
check $? "unknown: a valid staple that does not know the certificate: $(ocsp 12)"
ocsp 13 | grep -q '"valid":true,"status":"good"'
check $? "delegated: signed by a responder the issuer certified for OCSP: $(ocsp 13)"
ocsp 14 | grep -q '"valid":false,"problem":"the responder.s certificate is not issued by the leaf.s issuer"' &&
  record 14 | grep -q '"id":"ocsp_staple_invalid"'
check $? "stranger: ocsp_staple_invalid, its signer is not issued by the leaf's issuer: $(ocsp 14)"
ocsp 15 | grep -q '"valid":false,"problem":"the response is not about this certificate' &&
  record 15 | grep -q '"id":"ocsp_staple_invalid"'
check $? "mismatch: ocsp_staple_invalid, another certificate's answer: $(ocsp 15)"
ocsp 16 | grep -q '"valid":false,"problem":"signed by a responder that is neither the issuer nor delegated by it"'
check $? "anonymous: signed by a stranger that sends no certificate: $(ocsp 16)"
grep -q "revoked .*1" err
check $? "the summary counts the revoked endpoint: $(grep -i revoked err)"

# --revocation ocsp: a real responder, asked only for the leaves without a
# staple.
openssl ocsp -index index.txt -port 18964 -rsigner inter.pem -rkey inter.key -CA inter.pem \
  -ndays 1 -nrequest 10 >responder.log 2>&1 &
responder=$!
# Not await_listeners: openssl's responder serves one connection at a time
# and would wait on the probe's; its own line says when it listens.
for _ in $(seq 1 100); do grep -q "waiting for OCSP client" responder.log && break; sleep 0.1; done
"$ers" scan --ips "$net.20-$net.21" --ports 8443 --roots ca.pem --no-system-roots --no-aia \
  --output plain.jsonl --quiet --no-push 2>err
check $? "without --revocation: exit 0: $(cat err)"
! grep -q '"ocsp"' plain.jsonl
check $? "without --revocation nothing is asked and nothing judged"
"$ers" scan --ips "$net.10-$net.24" --ports 8443 --roots ca.pem --no-system-roots --no-aia \
  --revocation ocsp --output asked.jsonl --summary --no-push >/dev/null 2>err
check $? "--revocation ocsp: exit 0: $(cat err)"
asked() { grep "\"ip\":\"$net.$1\"" asked.jsonl | grep -o '"ocsp":{[^}]*}'; }
asked 20 | grep -q '"source":"responder","valid":true,"status":"good"' &&
  grep "\"ip\":\"$net.20\"" asked.jsonl | grep -q '"trusted":true'
check $? "asked-good: the responder says good: $(asked 20)"
asked 21 | grep -q '"source":"responder","valid":true,"status":"revoked"' &&
  grep "\"ip\":\"$net.21\"" asked.jsonl | grep -q '"id":"revoked","severity":"critical","message":"asked-revoked.test: revoked, says its OCSP responder'
check $? "asked-revoked: the responder says revoked: $(asked 21)"
asked 24 | grep -q '"source":"responder","valid":true,"status":"unknown"' &&
  grep "\"ip\":\"$net.24\"" asked.jsonl | grep -q '"trusted":true'
check $? "asked-unknown: the responder does not know it (not in its index): $(asked 24)"
asked 10 | grep -q '"source":"staple"'
check $? "a stapled leaf keeps its staple, the responder is not asked for it: $(asked 10)"
grep -q "OCSP responders: 3 asked, 0 failed" err
check $? "the summary counts three questions: $(grep OCSP err)"
kill "$responder" 2>/dev/null

# --revocation crl.
"$ers" scan --ips "$net.22-$net.23" --ports 8443 --roots ca.pem --no-system-roots --no-aia \
  --revocation crl --output crl.jsonl --summary --no-push >/dev/null 2>err
check $? "--revocation crl: exit 0: $(cat err)"
crl_record() { grep "\"ip\":\"$net.$1\"" crl.jsonl; }
crl_record 22 | grep -q '"trusted":true' && ! crl_record 22 | grep -q '"id":"revoked"'
check $? "crl-good: not on the CRL, trusted: $(crl_record 22 | grep -o '"validation":{[^}]*}')"
crl_record 23 | grep -q '"trusted":false,"reasons":\["revoked"\]' &&
  crl_record 23 | grep -q '"id":"revoked","severity":"critical","message":"crl-revoked.test: revoked (CRL)'
check $? "crl-revoked: on the CRL: untrusted, revoked: $(crl_record 23 | grep -o '"validation":{[^}]*}')"
[ "$(grep -c "GET /inter.crl" crl.log)" -eq 1 ]
check $? "the CRL was fetched once for both: $(grep -c GET crl.log)"
grep -q "CRLs: 1 fetched, 1 from the cache, 0 failed" err
check $? "the summary counts the CRL: $(grep CRL err)"
"$ers" scan --ips "$net.23" --ports 8443 --roots ca.pem --no-system-roots --no-aia \
  --revocation crl --output crl2.jsonl --quiet --no-push 2>err
[ "$(grep -c "GET /inter.crl" crl.log)" -eq 1 ] && grep -q '"reasons":\["revoked"\]' crl2.jsonl
check $? "a second scan takes the CRL from the disk cache and still finds it revoked"
"$ers" scan --ips "$net.23" --ports 8443 --revocation sometimes --no-push 2>err
[ $? -eq 2 ] && grep -q 'must be ocsp (ask the responders) or crl' err
check $? "--revocation sometimes: a usage error: $(cat err)"
finish
