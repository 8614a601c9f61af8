#!/usr/bin/env bash
# ers-clm under the attacks that killed or bloated it, each followed by a
# health check and a real ers push, which must still work:
# - an authenticated GET /api/v1/%ff (invalid UTF-8 in the URL);
# - four unauthenticated 60 MB uploads: 401 before the body is read, and
#   the server's peak RSS stays under 100 MiB;
# - a declared 100 MB upload: 413 at once; a body of the wrong type: 415;
# - a chunked body that never ends: cut off at the bound;
# - JSON nested 300,000 levels deep: 400, no stack overflow;
# - a certificate filed under another's hash, batch ids reused across
#   clients and with another body, a server certificate as a login, a
#   token named like a certificate's CN, an expired client certificate;
# - 500 idle or dripping connections from one address while a real client
#   on another pushes.
set -uo pipefail
farm_net=127.0.49
source tests/clm_test_env.sh

token2=tok2-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'scanner2 %s\n' "$token2" >>"$work/tokens"
token3=tok3-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'auditor %s admin\n' "$token3" >>"$work/tokens"
token4=tok4-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'scanner-cert %s\n' "$token4" >>"$work/tokens"
start_clm
base="https://127.0.0.1:$port"
tls=(--cacert "$work/pki/ca.pem" -s -o "$work/body" -w '%{http_code}')
auth=(-H "Authorization: Bearer $token")
alive() {  # alive STEP: the server still runs and answers
  kill -0 "$clm_pid" 2>/dev/null &&
    [ "$(curl "${tls[@]}" --max-time 10 "$base/api/v1/health")" = 200 ]
}
peak_rss_mib() { awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$clm_pid/status"; }

code=$(curl "${tls[@]}" "${auth[@]}" --max-time 10 "$base/api/v1/%ff")
[ "$code" = 404 ] && alive
check $? "GET /api/v1/%ff answers 404 and the server lives (got $code)"

for i in 1 2 3 4; do
  code=$(head -c 60000000 /dev/zero | curl "${tls[@]}" --max-time 30 \
    -H "Content-Type: application/json" --data-binary @- "$base/api/v1/batches")
  [ "$code" = 401 ]
  check $? "unauthenticated 60 MB upload $i: 401 (got $code)"
done
# AddressSanitizer's shadow memory, redzones and quarantine triple RSS.
rss_bound=100
[ -n "${ERS_SANITIZED:-}" ] && rss_bound=300
rss=$(peak_rss_mib)
alive && [ "$rss" -lt "$rss_bound" ]
check $? "nothing buffered before the 401: peak RSS $rss MiB (< $rss_bound)"

code=$(curl "${tls[@]}" "${auth[@]}" --max-time 10 -X POST -H "Content-Type: application/json" \
  -H "Content-Length: 100000000" "$base/api/v1/batches" </dev/null)
[ "$code" = 413 ]
check $? "a declared 100 MB batch: 413 at once (got $code)"
code=$(curl "${tls[@]}" "${auth[@]}" --max-time 10 -H "Content-Type: text/plain" \
  --data-binary '{"batch_id":"x"}' "$base/api/v1/batches")
[ "$code" = 415 ]
check $? "a batch of the wrong type: 415 (got $code)"

start_s=$SECONDS
head -c 40000000 /dev/zero | curl "${tls[@]}" "${auth[@]}" --max-time 60 \
  -H "Content-Type: application/json" -H "Transfer-Encoding: chunked" --data-binary @- \
  "$base/api/v1/batches" >/dev/null
rss=$(peak_rss_mib)
alive && [ $((SECONDS - start_s)) -lt 30 ] && [ "$rss" -lt "$rss_bound" ]
check $? "a 40 MB chunked body is cut off at the bound (peak RSS $rss MiB)"

python3 -c 'import sys; sys.stdout.write("[" * 300000 + "]" * 300000)' >"$work/deep.json"
code=$(curl "${tls[@]}" "${auth[@]}" --max-time 30 -H "Content-Type: application/json" \
  --data-binary @"$work/deep.json" "$base/api/v1/batches")
[ "$code" = 400 ] && grep -q "nested deeper" "$work/body" && alive
check $? "JSON nested 300,000 deep: 400 and the server lives (got $code: $(head -c 100 "$work/body"))"

# Clients kept apart. A certificate's bytes filed under another's hash:
# refused. Another client's batch id: that client's own batch. The same
# id again with another body: 409. A certificate of the client CA without
# the clientAuth usage (the server's own): no login.
openssl x509 -in "$work/pki/ca.pem" -outform der -out "$work/ca.der"
der=$(base64 -w0 "$work/ca.der")
real=$(sha256sum "$work/ca.der" | cut -d' ' -f1)
fake=$(printf '%064d' 0)
batch() {  # batch ID SHA256 [PORT]
  printf '{"batch_id":"%s","certificates":[{"sha256":"%s","der":"%s"}],"sightings":[{"sha256":"%s","ip":"127.0.0.9","port":%s,"name":""}]}' \
    "$1" "$2" "$der" "$2" "${3:-443}"
}
post() {  # post TOKEN BODY
  curl "${tls[@]}" --max-time 10 -H "Authorization: Bearer $1" -H "Content-Type: application/json" \
    --data-binary "$2" "$base/api/v1/batches"
}
code=$(post "$token" "$(batch planted "$fake")")
[ "$code" = 400 ] && grep -q "does not match its der" "$work/body" &&
  [ "$(clm_count "select count(*) from certificates where sha256 = '$fake'")" -eq 0 ]
check $? "a certificate filed under another hash is refused (got $code: $(head -c 120 "$work/body"))"
code=$(post "$token" "$(batch shared-id "$real")")
[ "$code" = 200 ]
check $? "scanner1 stores batch shared-id ($code)"
code=$(post "$token2" "$(batch shared-id "$real" 444)")
[ "$code" = 200 ] && grep -q '"duplicate":false' "$work/body" &&
  [ "$(clm_count "select count(*) from batches where batch_id = 'shared-id'")" -eq 2 ]
check $? "scanner2's batch with the same id is its own, not scanner1's reply ($code: $(head -c 120 "$work/body"))"
code=$(post "$token" "$(batch shared-id "$real" 445)")
[ "$code" = 409 ]
check $? "scanner1 reusing its id for another body: 409 (got $code: $(head -c 120 "$work/body"))"
code=$(post "$token" "$(batch shared-id "$real")")
[ "$code" = 200 ] && grep -q '"duplicate":true' "$work/body"
check $? "the same body again is a duplicate ($code)"
# Reads: a client sees its own entry and sightings; an admin sees all.
curl "${tls[@]}" --max-time 10 -H "Authorization: Bearer $token2" "$base/api/v1/inventory" >/dev/null
grep -q '"client":"token:scanner2"' "$work/body" && ! grep -q '"client":"token:scanner1"' "$work/body"
check $? "scanner2 reads only its own sightings"
curl "${tls[@]}" --max-time 10 -H "Authorization: Bearer $token2" "$base/api/v1/clients" >/dev/null
grep -q '"name":"token:scanner2"' "$work/body" && ! grep -q '"name":"token:scanner1"' "$work/body"
check $? "scanner2 sees only its own client entry"
curl "${tls[@]}" --max-time 10 -H "Authorization: Bearer $token3" "$base/api/v1/inventory" >/dev/null
grep -q '"client":"token:scanner1"' "$work/body" && grep -q '"client":"token:scanner2"' "$work/body"
check $? "an admin token reads every client's sightings"
code=$(curl "${tls[@]}" --max-time 10 --cert "$work/pki/server.pem" --key "$work/pki/server.key" \
  "$base/api/v1/clients")
[ "$code" = 401 ]
check $? "the server's certificate (no clientAuth) does not log in (got $code)"
code=$(curl "${tls[@]}" --max-time 10 --cert "$work/pki/client.pem" --key "$work/pki/client.key" \
  "$base/api/v1/clients")
[ "$code" = 200 ]
check $? "a client certificate with clientAuth does (got $code)"
code=$(curl "${tls[@]}" --max-time 10 --cert "$work/pki/expired-client.pem" \
  --key "$work/pki/client.key" "$base/api/v1/clients")
[ "$code" = 401 ]
check $? "the same client's expired certificate does not (got $code)"
# A token named like the certificate's CN is another client: the
# certificate does not see the token's sightings, and the list shows both.
code=$(post "$token4" "$(batch namesake "$real" 446)")
[ "$code" = 200 ]
check $? "the token named scanner-cert stores a batch ($code)"
curl "${tls[@]}" --max-time 10 --cert "$work/pki/client.pem" --key "$work/pki/client.key" \
  "$base/api/v1/inventory" >/dev/null
! grep -q '"port":446' "$work/body" && ! grep -q '"client":"token:' "$work/body"
check $? "the certificate CN=scanner-cert does not read token:scanner-cert's sightings"
curl "${tls[@]}" --max-time 10 -H "Authorization: Bearer $token3" "$base/api/v1/clients" >/dev/null
python3 -c 'import json, sys
seen = {(c["name"], c["identity"]) for c in json.load(open(sys.argv[1]))["clients"]}
sys.exit(not {("cert:scanner-cert", "certificate"), ("token:scanner-cert", "token")} <= seen)' "$work/body"
check $? "clients listed in their namespaces: cert:scanner-cert and token:scanner-cert ($(head -c 300 "$work/body"))"

# 500 connections from one address (127.0.0.2) that never finish a TLS
# handshake, half of them dripping a byte every 2 s, held open while a
# real client on 127.0.0.1 scans and pushes: the per-address limit and
# the event-driven server keep a slot for it.
cat >"$work/hog.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(500):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        socks.append(s)
    except OSError:
        s.close()
print("opened", len(socks), flush=True)
for round in range(60):  # at most 2 minutes, then gone
    for s in socks[::2]:
        try:
            s.send(b"\x16")
        except OSError:
            pass
    time.sleep(2)
PY
python3 "$work/hog.py" "$port" >"$work/hog.out" 2>&1 &
hog=$!
for _ in $(seq 1 100); do grep -q opened "$work/hog.out" && break; sleep 0.1; done
"$ers" discover --ips "$farm_net.0/29" --ports "8443,9443,10993" >/dev/null
"$ers" login --url "$base" --token-file "$work/token" --ca-file "$work/pki/ca.pem" >/dev/null
start_s=$SECONDS
"$ers" scan --roots "$work/farm/roots.pem" 2>"$work/err"
status=$?
elapsed=$((SECONDS - start_s))
kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null
[ "$status" -eq 0 ] && [ "$elapsed" -lt 20 ]
check $? "with $(cat "$work/hog.out") idle connections from 127.0.0.2, ers scan + push from 127.0.0.1 succeeds in ${elapsed} s: $(cat "$work/err")"
[ "$(clm_count "select count(*) from sightings where ip like '$farm_net.%'")" -eq 7 ]
check $? "and the CLM stored its 7 sightings"
echo "held: $(cat "$work/hog.out") connections from 127.0.0.2; scan + push took ${elapsed} s"
cleanup
finish
