#!/usr/bin/env bash
# The uploader against the reference CLM (ers-clm) over HTTPS on loopback:
# token and client-certificate logins, rejected credentials, credential file
# permissions, 429 + Retry-After, a reply that never comes, the CLM killed
# mid-push, and ers killed between spool and acknowledgement: every batch
# arrives exactly once.
set -uo pipefail
source tests/clm_test_env.sh

start_clm
url="https://127.0.0.1:$port"
"$ers" discover --ips 127.0.46.0/29 --ports "8443,9443,10993" >/dev/null

# Credentials: rejected ones are not stored; stored ones are private.
"$ers" login --url "$url" --token-file "$work/wrong-token" --ca-file "$work/pki/ca.pem" 2>"$work/err"
[ $? -ne 0 ] && grep -q "HTTP 401" "$work/err" && [ ! -e "$ERS_DB.credentials" ]
check $? "a wrong token is refused, clearly: $(cat "$work/err")"
"$ers" login --url "$url" --token-file "$work/token" 2>"$work/err"
[ $? -ne 0 ] && grep -qi "certificate\|ca-file" "$work/err"
check $? "the CLM's certificate is verified (unknown CA refused): $(cat "$work/err")"
"$ers" login --url "http://127.0.0.1:$port" --token-file "$work/token" 2>/dev/null
[ $? -eq 2 ]
check $? "no plain-HTTP mode"
"$ers" login --url "$url" --token-file "$work/token" --ca-file "$work/pki/ca.pem" >/dev/null
check $? "token login"
[ "$(stat -c %a "$ERS_DB.credentials")" = "600" ]
check $? "the credentials file is 0600"
"$ers" status >"$work/status"
! grep -q "$token" "$work/status" && grep -q "bearer token (sha256" "$work/status"
check $? "status shows the identity, never the token"

# A scan pushes its run.
"$ers" scan --roots "$work/farm/roots.pem" 2>"$work/err"
check $? "scan + push exit 0: $(cat "$work/err")"
[ "$(clm_count "select count(*) from sightings where client = 'token:scanner1'")" -eq 7 ]
check $? "the CLM stores the 7 TLS endpoints"
[ "$(clm_count "select count(*) from certificates")" -eq 13 ]
check $? "the CLM stores the 13 certificates once each"
[ "$(find "$ERS_DB.spool" -name '*.json' | wc -l)" -eq 0 ]
check $? "the spool is empty after the acknowledgement"
"$ers" status --remote | grep -q "token:scanner1 .*1 batches, 7 sightings"
check $? "ers status --remote shows the CLM's client list"

chmod 644 "$ERS_DB.credentials"
"$ers" push 2>"$work/err"
[ $? -ne 0 ] && grep -q "chmod 600" "$work/err"
check $? "credentials readable by others are refused: $(cat "$work/err")"
chmod 600 "$ERS_DB.credentials"

# Client certificate login.
"$ers" logout >/dev/null
"$ers" login --url "$url" --client-cert "$work/pki/client.pem" \
  --client-key "$work/pki/client.key" --ca-file "$work/pki/ca.pem" >/dev/null
check $? "client certificate login"
"$ers" scan --roots "$work/farm/roots.pem" 2>/dev/null
[ "$(clm_count "select count(*) from sightings where client = 'cert:scanner-cert'")" -eq 7 ]
check $? "the certificate's CN names the client"

# 429 with Retry-After 1: two refusals, then the batch goes through, after
# at least two seconds.
stop_clm
start_clm --inject-429 2
"$ers" scan --roots "$work/farm/roots.pem" --no-push 2>/dev/null
before=$(clm_count "select count(*) from batches")
start_s=$(date +%s%N)
"$ers" push --retry-base 100ms >/dev/null 2>&1
check $? "push after two 429s succeeds"
elapsed_ms=$(( ($(date +%s%N) - start_s) / 1000000 ))
[ "$elapsed_ms" -ge 2000 ]
check $? "Retry-After honoured (${elapsed_ms} ms for two 1 s waits)"
[ "$(clm_count "select count(*) from batches")" -eq $((before + 1)) ]
check $? "one batch stored"

# A reply that never comes: the batch stays spooled, and is stored once.
stop_clm
start_clm --inject-hang 1 --hang-seconds 4
"$ers" scan --roots "$work/farm/roots.pem" --no-push 2>/dev/null
before=$(clm_count "select count(*) from batches")
"$ers" push --timeout 1s --max-attempts 1 >/dev/null 2>"$work/err"
[ $? -eq 3 ] && [ "$(find "$ERS_DB.spool" -name '*.json' | wc -l)" -eq 1 ]
check $? "a hung reply times out and the batch stays spooled: $(cat "$work/err")"
"$ers" push >"$work/out" 2>&1
grep -q "already stored by the CLM" "$work/out"
check $? "the retry is recognised as a duplicate: $(cat "$work/out")"
[ "$(clm_count "select count(*) from batches")" -eq $((before + 1)) ]
check $? "the hung batch is stored exactly once"

# The CLM killed mid-push and restarted: ten batches, each stored once.
stop_clm
start_clm
for i in $(seq 1 10); do "$ers" scan --roots "$work/farm/roots.pem" --no-push 2>/dev/null; done
before=$(clm_count "select count(*) from batches")
"$ers" push --retry-base 100ms --max-attempts 2 >/dev/null 2>&1 &
push_pid=$!
for _ in $(seq 1 100); do
  [ "$(clm_count "select count(*) from batches")" -ge $((before + 2)) ] && break
  sleep 0.05
done
kill -9 "$clm_pid"; wait "$clm_pid" 2>/dev/null; clm_pid=""
wait "$push_pid"
start_clm
"$ers" push >/dev/null 2>&1
check $? "push after the CLM restarted"
[ "$(clm_count "select count(*) from batches")" -eq $((before + 10)) ]
check $? "all ten batches stored exactly once"

# ers killed between spool and acknowledgement: the next push delivers once.
stop_clm
start_clm --inject-hang 1 --hang-seconds 5
before=$(clm_count "select count(*) from batches")
"$ers" scan --roots "$work/farm/roots.pem" 2>/dev/null &
scan_pid=$!
for _ in $(seq 1 100); do
  [ "$(clm_count "select count(*) from batches")" -ge $((before + 1)) ] && break
  sleep 0.05
done
kill -9 "$scan_pid"; wait "$scan_pid" 2>/dev/null
[ "$(find "$ERS_DB.spool" -name '*.json' | wc -l)" -eq 1 ]
check $? "the batch is still spooled after kill -9"
"$ers" push >/dev/null 2>&1
check $? "the next push delivers it"
[ "$(clm_count "select count(*) from batches")" -eq $((before + 1)) ]
check $? "and the CLM stored it once"

# A CLM that hangs after a scan: the push ends at --push-timeout with one
# line, the batch spooled, and the scan lock is free while it waits.
stop_clm
start_clm --inject-hang 1 --hang-seconds 30
before=$(clm_count "select count(*) from batches")
start_s=$SECONDS
"$ers" scan --roots "$work/farm/roots.pem" --push-timeout 8s 2>"$work/hang.err" &
scan_pid=$!
for _ in $(seq 1 200); do
  [ "$(clm_count "select count(*) from batches")" -ge $((before + 1)) ] && break
  sleep 0.05
done
"$ers" scan --roots "$work/farm/roots.pem" --no-push 2>"$work/second.err"
check $? "another scan runs while the first one's push waits: $(cat "$work/second.err")"
wait "$scan_pid"
status=$?
elapsed=$((SECONDS - start_s))
[ "$status" -eq 3 ] && [ "$elapsed" -lt 20 ] && [ "$(wc -l <"$work/hang.err")" -eq 1 ] &&
  grep -q "not delivered to the CLM and left spooled" "$work/hang.err"
check $? "the push gave up at its time limit ($elapsed s, exit $status) with one line: $(cat "$work/hang.err")"
"$ers" push >/dev/null 2>&1
check $? "ers push delivers what was left"

cleanup
finish
