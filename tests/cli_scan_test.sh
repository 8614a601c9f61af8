#!/usr/bin/env bash
# End-to-end test of `ers scan` through the real binary against a real nginx
# farm on 127.0.43.0/29: results, modes, names with --resolve, and an
# interrupted scan resumed without losing a target.
set -uo pipefail
ers="$PWD/$1"
farm_bin="$PWD/$2"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-scan.XXXXXX")
export ERS_DB="$work/ers.db"
source tests/shell_checks.sh

mkdir -p "$work/farm"
"$farm_bin" "$work/farm" 127.0.43 >/dev/null || { echo "FAIL: demo_farm"; exit 1; }
/usr/sbin/nginx -p "$work/farm/" -c "$work/farm/nginx.conf" || { echo "FAIL: nginx"; exit 1; }
trap 'kill "$(cat "$work/farm/nginx.pid")" 2>/dev/null' EXIT

"$ers" discover --ips 127.0.43.0/29 --ports "8443,9443,10993" >/dev/null
"$ers" discover --servers www.demo.test --ports 8443 >/dev/null

"$ers" scan --resolve www.demo.test=127.0.43.1 --roots "$work/farm/roots.pem" --output "$work/certs.jsonl" --summary 2>"$work/summary.txt"
check $? "scan exits 0"
[ "$(wc -l <"$work/certs.jsonl")" -eq 25 ]
check $? "one line per target (24 + 1 name)"
[ "$(grep -c '"outcome":"tls"' "$work/certs.jsonl")" -eq 8 ]
check $? "eight TLS results"
[ "$(grep -c '"schema_version":1' "$work/certs.jsonl")" -eq 25 ]
check $? "every line carries the schema version"
grep -q '"ip":"127.0.43.5","port":8443,.*"outcome":"not_tls"' "$work/certs.jsonl"
check $? "plain HTTP is not_tls"
grep -q '"name":"www.demo.test","sni":"www.demo.test","outcome":"tls"' "$work/certs.jsonl"
check $? "the name was resolved and sent as SNI"
grep -q '"ip":"127.0.43.3","port":10993.*"version":"TLSv1.2"' "$work/certs.jsonl"
check $? "the TLS 1.2-only endpoint"
grep -q "^  tls: 8$" "$work/summary.txt"
check $? "summary counts: $(cat "$work/summary.txt")"
grep -q "^  127.0.43.2:8443 .* issuer .* expires 20[0-9][0-9]-" "$work/summary.txt"
check $? "the summary names each TLS endpoint's leaf, issuer and expiry: $(grep -m1 "127.0.43.2:8443" "$work/summary.txt")"
grep '"ip":"127.0.43.2","port":8443' "$work/certs.jsonl" | grep -q '"id":"expired"'
check $? "the expired endpoint has the expired finding"
grep '"ip":"127.0.43.6","port":8443' "$work/certs.jsonl" | grep -q '"id":"weak_key"'
check $? "the legacy endpoint has weak_key"
grep '"ip":"127.0.43.1","port":9443' "$work/certs.jsonl" | grep -q '"findings":\[\]'
check $? "a clean endpoint has no findings (its root given with --roots)"
grep -q '"analysis":' "$work/certs.jsonl"
check $? "TLS results carry the analysis"
[ "$(sqlite3 "$ERS_DB" 'select count(*) from certificates')" -eq 13 ]
check $? "the inventory stores each certificate once (13 distinct)"
[ "$(sqlite3 "$ERS_DB" 'select count(*) from sightings')" -eq 8 ]
check $? "one sighting per (certificate, address, port, name)"
[ "$(sqlite3 "$ERS_DB" "select status || ' ' || tls from scan_runs order by id desc limit 1")" = "done 8" ]
check $? "the run is recorded"

# ers report on the known farm.
"$ers" report --json >"$work/report.json"
check $? "ers report --json exits 0"
# json_check EXPR: EXPR (Python, over the report r) holds.
json_check() {
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
    "$work/report.json" "$1"
}
json_check 'r["schema_version"] == 2 and {b["bucket"]: b["certificates"] for b in r["expiry"]["buckets"]}["expired"] == 1'
check $? "one expired certificate reported"
json_check '{b["bucket"]: b["certificates"] for b in r["expiry"]["buckets"]}["within_14_days"] == 1'
check $? "the certificate expiring in 12 days is within 14 days"
json_check 'r["issuer_share"]["unexpired_certificates"] == 6'
check $? "issuer share counts the 6 unexpired leaves"
json_check '[(f["severity"], f["endpoint_count"], f["endpoints"][0]["ip"]) for f in r["findings"] if f["id"] == "expired"] == [("critical", 1, "127.0.43.2")]'
check $? "findings by severity: expired is critical, on 127.0.43.2"
json_check 'all(c["endpoints"] and c["not_after"].endswith("Z") for c in r["expiry"]["certificates"])'
check $? "each expiring certificate names its endpoints, RFC 3339 times"
"$ers" report >"$work/report.txt"
grep -q "Issuer share among 6 unexpired certificates" "$work/report.txt" &&
  grep -A1 "^  critical  expired " "$work/report.txt" | grep -q "^      127.0.43.2:8443"
check $? "the human report: $(head -3 "$work/report.txt")"
"$ers" export --csv --output "$work/endpoints.csv" 2>/dev/null
# Metrics for node_exporter: every line well formed, one expiry per TLS
# endpoint, the leaf's (as the CSV export says), the file readable by others.
"$ers" report --prometheus "$work/ers.prom" >/dev/null
python3 - "$work/ers.prom" "$work/endpoints.csv" <<'PY'
import csv, re, sys, datetime
metric = re.compile(r'^[a-z_]+(\{([a-z_][a-z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+$')
expiry = {}
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("#"):
        assert re.match(r"^# (HELP|TYPE) [a-z_]+ ", line), line
        continue
    assert metric.match(line), line
    if line.startswith("ers_certificate_not_after_seconds{"):
        labels = dict(re.findall(r'([a-z_][a-z0-9_]*)="((?:[^"\\]|\\.)*)"', line))
        expiry[(labels["address"], labels["port"], labels["name"])] = int(line.rsplit(" ", 1)[1])
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(expiry) == len(rows) == 8, (len(expiry), len(rows))
for r in rows:
    t = int(datetime.datetime.strptime(r["not_after"], "%Y-%m-%dT%H:%M:%SZ")
            .replace(tzinfo=datetime.timezone.utc).timestamp())
    assert expiry[(r["ip"], r["port"], r["name"])] == t, r
text = open(sys.argv[1]).read()
assert 'ers_findings{id="expired",severity="critical"} 1' in text
assert 'ers_scan_results{outcome="tls"} 8' in text and "ers_scan_success 1" in text
PY
check $? "report --prometheus: well formed, each endpoint's leaf expiry as the CSV gives it"
[ "$(stat -c %a "$work/ers.prom")" = 644 ]
check $? "the metrics file is readable by node_exporter (0644)"
[ "$(wc -l <"$work/endpoints.csv")" -eq 9 ] && head -1 "$work/endpoints.csv" | grep -q '^ip,port,name,sni'
check $? "CSV export: a header and one row per TLS endpoint"
"$ers" export --pem >"$work/found.pem"
[ "$(grep -c 'BEGIN CERTIFICATE' "$work/found.pem")" -eq 13 ]
check $? "PEM export of the 13 certificates found"
if command -v openssl >/dev/null; then
  openssl x509 -in "$work/found.pem" -noout 2>/dev/null
  check $? "the PEM export parses"
fi

# ers import: the JSON Lines of the first scan into a fresh inventory.
ERS_DB="$work/imported.db" "$ers" import "$work/certs.jsonl" >"$work/import.out"
check $? "ers import exits 0: $(cat "$work/import.out")"
[ "$(sqlite3 "$work/imported.db" 'select count(*) from certificates')" -eq 13 ] &&
  [ "$(sqlite3 "$work/imported.db" 'select count(*) from sightings')" -eq 8 ]
check $? "the imported inventory matches the scanned one"
printf '{"outcome":"tls","port":99999999}\n' >>"$work/certs.jsonl"
ERS_DB="$work/imported2.db" "$ers" import "$work/certs.jsonl" >/dev/null 2>"$work/import.err"
[ $? -eq 3 ] && grep -q "certs.jsonl:26: skipped" "$work/import.err"
check $? "a malformed line is reported with its line number and skipped: $(cat "$work/import.err")"

# New certificates everywhere: the report shows what changed.
kill "$(cat "$work/farm/nginx.pid")"
for _ in $(seq 1 100); do kill -0 "$(cat "$work/farm/nginx.pid")" 2>/dev/null || break; sleep 0.1; done
"$farm_bin" "$work/farm" 127.0.43 >/dev/null
/usr/sbin/nginx -p "$work/farm/" -c "$work/farm/nginx.conf"
"$ers" scan --resolve www.demo.test=127.0.43.1 --roots "$work/farm/roots.pem" --quiet
"$ers" report >"$work/changes.txt"
grep -q "^  new_certificates: 7$" "$work/changes.txt" &&
  grep -q "^  disappeared_certificates: 7$" "$work/changes.txt" &&
  grep -q "^  changed_endpoints: 8$" "$work/changes.txt"
check $? "changes since the previous scan: 7 new, 7 gone, 8 endpoints changed: $(sed -n '/^Changes/,$p' "$work/changes.txt" | head -4)"
grep -A2 "^    127.0.43.1:9443$" "$work/changes.txt" | grep -q "^      was .*issuer .*expires 20..-..-..T.*sha256 [0-9a-f]\{16\}$"
check $? "a changed endpoint shows the old and new certificate (issuer, expiry, fingerprint): $(grep -A2 "^    127.0.43.1:9443$" "$work/changes.txt")"
printf 'min_rsa_bits = lots\n' >"$work/bad-policy.conf"
"$ers" scan --policy "$work/bad-policy.conf" --quiet >/dev/null 2>"$work/policy.err"
[ $? -eq 2 ] && grep -q "bad-policy.conf:1" "$work/policy.err"
check $? "a bad policy file is a usage error naming the line: $(cat "$work/policy.err")"
"$ers" scan --no-analysis --resolve www.demo.test=127.0.43.1 --output - >"$work/raw.jsonl"
! grep -q '"analysis":' "$work/raw.jsonl"
check $? "--no-analysis writes raw chains only"
# Output to a device (nothing to fsync there).
"$ers" scan --no-analysis --resolve www.demo.test=127.0.43.1 --output /dev/null --quiet 2>"$work/null.err"
check $? "--output /dev/null exits 0: $(cat "$work/null.err")"

"$ers" scan --mode full --resolve www.demo.test=127.0.43.1 --output - >"$work/full.jsonl"
check $? "full mode exits 0"
[ "$(grep -c '"mode":"full"' "$work/full.jsonl")" -eq 25 ]
check $? "full mode recorded"
! grep '"outcome":"tls"' "$work/full.jsonl" | grep -q '"peer_signature_algorithm":""'
check $? "full handshakes record the peer signature algorithm"

"$ers" scan --workers 2 --resolve www.demo.test=127.0.43.1 --output "$work/workers.jsonl" --summary 2>"$work/workers.txt"
check $? "two worker processes exit 0"
[ "$(wc -l <"$work/workers.jsonl")" -eq 25 ] && [ "$(grep -c '"outcome":"tls"' "$work/workers.jsonl")" -eq 8 ]
check $? "two workers together give the same results"
grep -q "2 workers" "$work/workers.txt"
check $? "the summary names the workers: $(head -1 "$work/workers.txt")"
[ "$(sed -E 's/.*"ip":"([^"]*)","port":([0-9]*),"name":"([^"]*)".*/\1:\2:\3/' "$work/workers.jsonl" | sort | uniq -d | wc -l)" -eq 0 ]
check $? "no target reported by both workers"
"$ers" scan --concurrency 50000 --resolve www.demo.test=127.0.43.1 --output - >"$work/big.jsonl"
check $? "--concurrency 50000 works whatever the open-file limit"
[ "$(wc -l <"$work/big.jsonl")" -eq 25 ]
check $? "--concurrency 50000 gives every result"

"$ers" scan --resume >/dev/null 2>&1
[ $? -eq 2 ]
check $? "--resume without an interrupted scan is a usage error"

# Interrupt a slow scan (768 targets at 40/s) once results flow, resume it.
"$ers" discover --remove www.demo.test >/dev/null
"$ers" discover --ips 127.0.43.0/24 --ports "8443,9443,10993" >/dev/null
"$ers" discover --remove 127.0.43.0/29 >/dev/null
"$ers" scan --rate 40 --output "$work/part1.jsonl" 2>"$work/part1.err" &
pid=$!
for _ in $(seq 1 200); do  # wait (at most 20 s) for the first results
  [ -s "$work/part1.jsonl" ] && [ "$(wc -l <"$work/part1.jsonl")" -ge 20 ] && break
  sleep 0.1
done
"$ers" scan --quiet >/dev/null 2>"$work/lock.err"
[ $? -eq 1 ] && grep -q "another ers scan (pid $pid)" "$work/lock.err"
check $? "a second scan of the same inventory is refused: $(cat "$work/lock.err")"
kill -INT "$pid"
wait "$pid"
[ $? -eq 3 ]
check $? "an interrupted scan exits 3"
grep -q "resume point saved" "$work/part1.err"
check $? "the resume point is saved: $(cat "$work/part1.err")"
"$ers" scan --resume --output "$work/part2.jsonl" 2>/dev/null
check $? "the resumed scan exits 0"
all=$(cat "$work/part1.jsonl" "$work/part2.jsonl" | sed -E 's/.*"ip":"([^"]*)","port":([0-9]*).*/\1:\2/' | sort)
[ "$(uniq <<<"$all" | wc -l)" -eq 768 ]
check $? "together the two runs cover all 768 targets"
[ "$(wc -l <<<"$all")" -lt $((768 + 100)) ]
check $? "repeats stay within the in-flight window"
[ "$(wc -l <"$work/part1.jsonl")" -lt 768 ]
check $? "the first run really stopped early"

# A scan killed outright leaves a consistent inventory; the next run marks
# it as killed.
"$ers" scan --rate 40 --output "$work/killed.jsonl" 2>/dev/null &
pid=$!
for _ in $(seq 1 200); do
  [ -s "$work/killed.jsonl" ] && [ "$(wc -l <"$work/killed.jsonl")" -ge 10 ] && break
  sleep 0.1
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
[ "$(sqlite3 "$ERS_DB" 'pragma integrity_check')" = "ok" ]
check $? "the inventory is consistent after kill -9"
"$ers" discover --list >/dev/null
"$ers" scan --dry-run >/dev/null
"$ers" scan --rate 0 --quiet 2>/dev/null
[ "$(sqlite3 "$ERS_DB" "select count(*) from scan_runs where status = 'killed'")" -eq 1 ]
check $? "the killed run is marked killed"

# The same with two workers: the parent forwards the stop to both.
"$ers" scan --workers 2 --rate 20 --output "$work/w1.jsonl" 2>"$work/w1.err" &
pid=$!
for _ in $(seq 1 200); do
  [ -s "$work/w1.jsonl" ] && [ "$(wc -l <"$work/w1.jsonl")" -ge 20 ] && break
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
[ $? -eq 3 ]
check $? "an interrupted two-worker scan exits 3: $(cat "$work/w1.err")"
"$ers" scan --resume --output "$work/w2.jsonl" --summary 2>"$work/w2.err"
check $? "the resumed two-worker scan exits 0: $(cat "$work/w2.err")"
all=$(cat "$work/w1.jsonl" "$work/w2.jsonl" | sed -E 's/.*"ip":"([^"]*)","port":([0-9]*).*/\1:\2/' | sort)
[ "$(uniq <<<"$all" | wc -l)" -eq 768 ]
check $? "two workers, stopped and resumed, cover all 768 targets"
grep -q "2 workers" "$work/w2.err"
check $? "the resume runs the same two workers"

finish
