#!/usr/bin/env bash
# enrollment_test.sh: ers request and ers renew against ers-clm issuing
# with an openssl-made CA, all on loopback: each key type issued with
# exactly the requested names and chaining to the CA; the key file 0600 and
# nowhere in what the CLM stored; a held request approved later (by
# --status and by --wait); a client killed while the CLM's answer is held
# back resubmits the same request and gets the one certificate; refusals
# (names outside the policy, a key type, a weak key, a CSR whose signature
# does not verify, extensions beyond subjectAltName) with the CLM's words;
# ers renew of the demo farm's expiring certificate found by a scan.
# Arguments: ERS ERS-CLM DEMO_FARM CLM_PKI (as the other CLM tests).
set -uo pipefail
farm_net=127.0.57
source tests/clm_test_env.sh
source tests/openssl_pki.sh

holder_token=tok-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'holder %s\n' "$holder_token" >>"$work/tokens"
printf '%s\n' "$holder_token" >"$work/holder-token"
mkdir -p "$work/issuing" "$work/certs"
(cd "$work/issuing" && openssl_ca "ers test issuing CA")
check $? "the issuing CA is made"
cat >"$work/policy" <<'EOF'
# scanner1 issues at once under example.test and demo.test, and loopback
token:scanner1  dns=example.test,demo.test ip=127.0.0.0/8 days=90
token:holder    dns=example.test keys=ec-p256 approval=hold
EOF
start_clm --issuing-ca "$work/issuing/ca.pem,$work/issuing/ca.key" --issuing-policy "$work/policy"
url="https://127.0.0.1:$port"
"$ers" login --url "$url" --token-file "$work/token" --ca-file "$work/pki/ca.pem" >/dev/null
check $? "ers login"

# --- each key type: issued at once, exactly the names, chaining to the CA
for key in ec-p256 ec-p384 rsa-2048 rsa-3072; do
  cn=$key.example.test
  out=$("$ers" request --cn "$cn" --san "alt-$key.example.test,127.0.0.9" --key "$key" \
          --out "$work/certs" 2>&1)
  check $? "ers request --key $key exits 0: $out"
  base=$work/certs/$cn
  [ "$(stat -c %a "$base.key")" = 600 ]
  check $? "$key: the key file is 0600"
  openssl verify -CAfile "$work/issuing/ca.pem" "$base.crt" >/dev/null 2>&1
  check $? "$key: the certificate chains to the CLM's CA"
  sans=$(openssl x509 -in "$base.crt" -noout -ext subjectAltName 2>/dev/null | tail -1 | tr -d ' ')
  [ "$sans" = "DNS:$cn,DNS:alt-$key.example.test,IPAddress:127.0.0.9" ]
  check $? "$key: the certificate carries exactly the requested names ($sans)"
  [ "$(openssl x509 -in "$base.crt" -noout -pubkey | openssl sha256)" = \
    "$(openssl pkey -in "$base.key" -pubout | openssl sha256)" ]
  check $? "$key: the certificate is for the key written here"
  [ "$(cat "$base.crt" "$base.chain.pem")" = "$(cat "$base.fullchain.pem")" ] &&
    cmp -s "$base.chain.pem" "$work/issuing/ca.pem"
  check $? "$key: the chain and the full chain are written"
  grep -q "issued: $cn" <<<"$out"
  check $? "$key: ers request says what it wrote: $out"
done
openssl x509 -in "$work/certs/ec-p256.example.test.crt" -noout -text | grep -q "TLS Web Server Authentication"
check $? "the certificate is for TLS servers"

# --- the keys never travelled: nothing of them in what the CLM stored
dump=$(sqlite3 "$work/clm.db" .dump)
leaked=0
for keyfile in "$work"/certs/*.key; do
  # The key's base64 lines (the PEM body), each long enough to be unique.
  while read -r line; do
    [ ${#line} -ge 40 ] && grep -qF -- "$line" <<<"$dump" && leaked=1
  done < <(grep -v -- '-----' "$keyfile")
done
[ "$leaked" = 0 ] && ! grep -q "PRIVATE KEY" <<<"$dump"
check $? "no key material is in the CLM's database"
[ "$(clm_count "SELECT count(*) FROM cert_requests WHERE status = 'issued' AND csr LIKE '%CERTIFICATE REQUEST%'")" = 4 ]
check $? "the CLM recorded the four requests with their CSRs"

# --- held for approval: --status after ers-clm --approve, and --wait
holder_db=$work/holder.db
ERS_DB=$holder_db "$ers" login --url "$url" --token-file "$work/holder-token" \
  --ca-file "$work/pki/ca.pem" >/dev/null
out=$(ERS_DB=$holder_db "$ers" request --cn held.example.test --out "$work/certs" 2>&1)
rc=$?
[ "$rc" = 3 ]
check $? "a held request exits 3 (exit $rc): $out"
rc=$(ERS_DB=$holder_db "$ers" request --cn held.example.test --out "$work/certs" >/dev/null 2>&1; echo $?)
[ "$rc" = 3 ]
check $? "asked again, the same request is still held (exit $rc)"
request_id=$(sed -n 's/^held for approval: request \([0-9a-f]*\) .*/\1/p' <<<"$out")
[ -n "$request_id" ] && [ ! -e "$work/certs/held.example.test.crt" ]
check $? "the request is held and no certificate is written: $out"
[ "$(clm_count "SELECT count(*) FROM cert_requests WHERE request_id = '$request_id'")" = 1 ]
check $? "resubmitting a held request does not make a second one"
listing=$("$clm" --db "$work/clm.db" --list-requests)
clm_id=$(awk '$2 == "pending" && $5 ~ /held.example.test/ { print $1 }' <<<"$listing")
[ -n "$clm_id" ]
check $? "ers-clm --list-requests shows the pending request: $listing"
approved=$("$clm" --db "$work/clm.db" --issuing-ca "$work/issuing/ca.pem,$work/issuing/ca.key" \
             --approve "$clm_id" 2>&1)
check $? "ers-clm --approve issues it: $approved"
out=$(ERS_DB=$holder_db "$ers" request --status "$request_id" 2>&1)
check $? "ers request --status fetches the approved certificate: $out"
openssl verify -CAfile "$work/issuing/ca.pem" "$work/certs/held.example.test.crt" >/dev/null 2>&1
check $? "the approved certificate is written and chains to the CA"
ERS_DB=$holder_db "$ers" request --cn waited.example.test --out "$work/certs" --wait 60s \
  >"$work/wait.out" 2>&1 &
wait_pid=$!
for _ in $(seq 1 100); do
  wait_id=$("$clm" --db "$work/clm.db" --list-requests |
    awk '$2 == "pending" && $5 ~ /waited.example.test/ { print $1 }')
  [ -n "$wait_id" ] && break
  sleep 0.1
done
"$clm" --db "$work/clm.db" --issuing-ca "$work/issuing/ca.pem,$work/issuing/ca.key" \
  --approve "$wait_id" >/dev/null 2>&1
wait "$wait_pid"
check $? "ers request --wait ends 0 once the request is approved: $(cat "$work/wait.out")"
[ -s "$work/certs/waited.example.test.crt" ]
check $? "--wait writes the certificate"
rejected_out=$(ERS_DB=$holder_db "$ers" request --cn rejected.example.test --out "$work/certs" 2>&1)
reject_id=$("$clm" --db "$work/clm.db" --list-requests |
  awk '$2 == "pending" && $5 ~ /rejected.example.test/ { print $1 }')
"$clm" --db "$work/clm.db" --reject "$reject_id" --reason "not this one" >/dev/null 2>&1
rid=$(sed -n 's/^held for approval: request \([0-9a-f]*\) .*/\1/p' <<<"$rejected_out")
out=$(ERS_DB=$holder_db "$ers" request --status "$rid" 2>&1)
rc=$?
[ "$rc" = 1 ] && grep -q "not this one" <<<"$out"
check $? "a rejected request exits 1 with the administrator's reason: $out"

# --- refusals, in the CLM's words
out=$("$ers" request --cn evil.example.org --out "$work/certs" 2>&1)
rc=$?
[ "$rc" = 1 ] && grep -q "names outside this client's policy: evil.example.org" <<<"$out"
check $? "a name outside the policy is refused (exit $rc): $out"
[ ! -e "$work/certs/evil.example.org.crt" ] && [ ! -e "$work/certs/evil.example.org.key" ]
check $? "nothing is issued for it, and the key made for it is removed"
out=$(ERS_DB=$holder_db "$ers" request --cn keys.example.test --key rsa-2048 --out "$work/certs" 2>&1)
grep -q "key type rsa-2048 is not allowed" <<<"$out"
check $? "a key type outside the policy is refused: $out"
"$ers" request --cn x.example.test --key rsa-1024 >/dev/null 2>&1
[ $? = 2 ]
check $? "ers makes no weak keys (--key rsa-1024 is a usage error)"
# Requests ers would never make, posted as a hostile client would.
post() {
  curl -s --cacert "$work/pki/ca.pem" -H "Authorization: Bearer $(cat "$work/token")" \
    -H 'Content-Type: application/json' -o "$work/post.out" -w '%{http_code}' \
    --data-binary @- "$url/api/v1/certificate-requests"
}
csr_body() {  # csr_body ID CSR-FILE: the request's JSON
  python3 -c 'import json, sys; print(json.dumps({"request_id": sys.argv[1], "csr": open(sys.argv[2]).read()}))' "$@"
}
(cd "$work" && openssl req -new -newkey rsa:1024 -nodes -keyout weak.key -subj /CN=weak.example.test \
  -addext subjectAltName=DNS:weak.example.test -out weak.csr 2>/dev/null)
code=$(csr_body weak "$work/weak.csr" | post)
[ "$code" = 422 ] && grep -q "weak key: rsa-1024" "$work/post.out"
check $? "a weak key is refused ($code): $(cat "$work/post.out")"
(cd "$work" && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
  -subj /CN=ca.example.test -addext subjectAltName=DNS:ca.example.test \
  -addext basicConstraints=critical,CA:TRUE -out ca-ext.csr 2>/dev/null)
code=$(csr_body ca-ext "$work/ca-ext.csr" | post)
[ "$code" = 422 ] && grep -q "extensions the policy does not allow: basicConstraints" "$work/post.out"
check $? "a CSR asking for CA:TRUE is refused ($code): $(cat "$work/post.out")"
# A CSR whose signature does not verify: its last signature byte flipped.
openssl req -in "$work/certs/ec-p256.example.test.csr" -outform der -out "$work/good.der" 2>/dev/null
python3 - "$work/good.der" "$work/bad.der" <<'PY'
import sys
der = bytearray(open(sys.argv[1], "rb").read())
der[-1] ^= 0x01
open(sys.argv[2], "wb").write(der)
PY
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; base64 -w 64 "$work/bad.der"
  echo "-----END CERTIFICATE REQUEST-----"; } >"$work/bad.csr"
code=$(csr_body badsig "$work/bad.csr" | post)
[ "$code" = 422 ] && grep -q "signature does not verify" "$work/post.out"
check $? "a CSR whose signature does not verify is refused ($code): $(cat "$work/post.out")"
code=$(echo '{"request_id": "x", "csr": "junk"}' | post)
[ "$code" = 422 ]
check $? "junk instead of a CSR is refused ($code)"
[ "$(clm_count "SELECT count(*) FROM cert_requests WHERE status = 'rejected'")" -ge 6 ] &&
  [ "$(clm_count "SELECT count(*) FROM cert_requests WHERE status = 'issued' AND request_id IN ('weak', 'ca-ext', 'badsig')")" = 0 ]
check $? "every refusal is recorded, none issued"

# --- a client killed while the CLM holds its answer back resubmits the
# same request and gets the one certificate
stop_clm
start_clm --issuing-ca "$work/issuing/ca.pem,$work/issuing/ca.key" --issuing-policy "$work/policy" \
  --inject-hang-requests 1 --hang-seconds 5
"$ers" login --url "https://127.0.0.1:$port" --token-file "$work/token" --ca-file "$work/pki/ca.pem" \
  >/dev/null
"$ers" request --cn killed.example.test --out "$work/certs" >/dev/null 2>&1 &
killed_pid=$!
for _ in $(seq 1 100); do
  [ "$(clm_count "SELECT count(*) FROM cert_requests WHERE names LIKE '%killed.example.test%' AND status = 'issued'")" = 1 ] && break
  sleep 0.1
done
kill -9 "$killed_pid"
wait "$killed_pid" 2>/dev/null
[ ! -e "$work/certs/killed.example.test.crt" ] && [ -e "$work/certs/killed.example.test.key" ]
check $? "the killed client wrote its key, and no certificate"
first_serial=$(clm_count "SELECT serial FROM cert_requests WHERE names LIKE '%killed.example.test%'")
out=$("$ers" request --cn killed.example.test --out "$work/certs" 2>&1)
check $? "run again, ers request gets the certificate: $out"
grep -q "submitting request .* again" <<<"$out"
check $? "it says that it resubmits the same request: $out"
[ "$(clm_count "SELECT count(*) FROM cert_requests WHERE names LIKE '%killed.example.test%'")" = 1 ] &&
  [ "$(openssl x509 -in "$work/certs/killed.example.test.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')" = "$first_serial" ]
check $? "one request, one certificate: the one issued the first time ($first_serial)"

# --- ers renew: the farm's expiring and expired certificates, found by a scan
"$ers" discover --ips "$farm_net.0/29" --ports "8443,9443,10993" >/dev/null
"$ers" scan --roots "$work/farm/roots.pem" --no-push >/dev/null 2>&1
out=$("$ers" renew --within 30d --dry-run 2>&1)
check $? "ers renew --dry-run: $out"
grep -q "would renew soon.demo.test" <<<"$out" && grep -q "would renew old.demo.test" <<<"$out" &&
  ! grep -q "www.demo.test" <<<"$out" && ! grep -q "ec-p256.example.test" <<<"$out"
check $? "it lists the expiring and the expired certificate only: $out"
out=$("$ers" renew --within 100d --dry-run 2>&1)
grep -q "would renew ec-p256.example.test" <<<"$out" && grep -q "requested ec-p256.example.test" <<<"$out"
check $? "within 100 days, the certificates ers request issued are due too: $out"
(cd "$work" && "$ers" renew --within 30d >"$work/renew.out" 2>&1)
check $? "ers renew requests them: $(cat "$work/renew.out")"
openssl verify -CAfile "$work/issuing/ca.pem" "$work/renewed/soon.demo.test.crt" >/dev/null 2>&1 &&
  [ "$(openssl x509 -in "$work/renewed/soon.demo.test.crt" -noout -ext subjectAltName | tail -1 | tr -d ' ')" = "DNS:soon.demo.test" ]
check $? "the renewal has the old certificate's names, from the CLM's CA"
out=$("$ers" renew --within 30d --dry-run 2>&1)
grep -q "nothing to renew" <<<"$out"
check $? "renewed once, nothing is due any more: $out"

finish
