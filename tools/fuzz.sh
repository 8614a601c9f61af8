#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets in tests/fuzz/ with clang (ASan +
# UBSan + libFuzzer) and runs each for a bounded time.
#   tools/fuzz.sh [SECONDS-PER-TARGET] (default 60)
# Prints one line per target with the executions it ran, and exits non-zero
# on any crash, leak or timeout (the reproducer is kept under .cache/fuzz/).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
tools/setup.sh || exit 1
out=.cache/fuzz
mkdir -p "$out/bin"
CXX=clang++-14
command -v "$CXX" >/dev/null || CXX=clang++

absl_libs="-labsl_hash -labsl_city -labsl_low_level_hash -labsl_raw_hash_set
  -labsl_hashtablez_sampler -labsl_statusor -labsl_status -labsl_cord
  -labsl_cordz_info -labsl_cord_internal -labsl_cordz_functions
  -labsl_exponential_biased -labsl_cordz_handle -labsl_bad_optional_access
  -labsl_str_format_internal -labsl_strerror -labsl_bad_variant_access
  -labsl_synchronization -labsl_graphcycles_internal -labsl_stacktrace
  -labsl_symbolize -labsl_debugging_internal -labsl_demangle_internal
  -labsl_malloc_internal -labsl_time -labsl_civil_time -labsl_strings
  -labsl_strings_internal -latomic -lrt -labsl_base -labsl_spinlock_wait
  -labsl_int128 -labsl_throw_delegate -labsl_raw_logging_internal
  -labsl_log_severity -labsl_time_zone"
flags="-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -I. -Iinclude -isystem /usr/include/android"
libs="-L/usr/lib/x86_64-linux-gnu/android -Wl,-rpath,/usr/lib/x86_64-linux-gnu/android
  -lssl -lcrypto -lsqlite3 $absl_libs -lpthread"
scanner="base/config_lines.cc base/ip_address.cc base/files.cc scanner/address_policy.cc scanner/port_list.cc tlsprobe/starttls.cc scanner/prefix_set.cc
  scanner/server_list.cc scanner/target_space.cc base/list_syntax.cc base/host_name.cc
  scanner/permutation.cc scanner/target_walker.cc"
x509="base/config_lines.cc base/encoding.cc base/digest.cc base/ip_address.cc base/list_syntax.cc
  x509/leaf_names.cc x509/certificate.cc x509/certificate_cache.cc x509/chain.cc x509/crl.cc x509/findings.cc
  x509/name_constraints.cc x509/ocsp.cc x509/path_builder.cc x509/report_json.cc x509/trust_store.cc"
records="sweep/record_json.cc sweep/chain_analyzer.cc tlsprobe/probe_result.cc tlsprobe/starttls.cc
  aia/issuer_fetcher.cc base/files.cc base/private_files.cc $x509"

declare -A sources=(
  [fuzz_target_spec]="$scanner"
  [fuzz_exclusions]="$scanner"
  [fuzz_x509]="$x509"
  [fuzz_result_json]="$records"
  [fuzz_starttls]="tlsprobe/starttls.cc"
  [fuzz_handshake_tap]="tlsprobe/handshake_tap.cc"
  [fuzz_inventory_import]="inventory/inventory.cc inventory/config_store.cc base/sqlite_db.cc scanner/port_list.cc $records"
  [fuzz_clm_router]="clm/clm_router.cc clm/clm_page.cc base/printable.cc clm/clm_store.cc base/sqlite_db.cc base/private_files.cc base/digest.cc base/encoding.cc
    clm/clm_store_requests.cc clm/certificate_requests.cc clm/issuer.cc clm/issuing_policy.cc enroll/csr.cc enroll/key.cc
    base/host_name.cc base/list_syntax.cc base/ip_address.cc base/config_lines.cc tests/test_pki.cc"
  [fuzz_uploader_reply]="upload/uploader.cc base/curl_handle.cc upload/spool.cc upload/credentials.cc base/private_files.cc base/printable.cc base/digest.cc base/encoding.cc"
)
declare -A extra_libs=([fuzz_uploader_reply]="-lcurl" [fuzz_result_json]="-luv" [fuzz_inventory_import]="-luv")

# Seeds: DER certificates and chains of the test PKI.
bazel build //tests:clm_pki //tests:demo_farm >/dev/null 2>&1
seeds=$out/seeds
rm -rf "$seeds" && mkdir -p "$seeds/x509" "$seeds/pki" "$seeds/farm"
.bazel/bin/tests/clm_pki "$seeds/pki" fuzz-client >/dev/null
.bazel/bin/tests/demo_farm "$seeds/farm" >/dev/null
if command -v openssl >/dev/null; then
  n=0
  for pem in "$seeds"/pki/*.pem "$seeds"/farm/ep*.pem; do
    openssl x509 -in "$pem" -outform der -out "$seeds/x509/cert$n.der" 2>/dev/null && n=$((n + 1))
  done
  # A served chain: leaf, separator, issuer.
  for f in "$seeds"/farm/ep*.pem; do
    csplit -s -z -f "$seeds/part" "$f" '/-----BEGIN/' '{*}' 2>/dev/null || continue
    parts=("$seeds"/part*)
    if [ ${#parts[@]} -ge 2 ]; then
      { openssl x509 -in "${parts[0]}" -outform der; printf '\xff\xfe'; openssl x509 -in "${parts[1]}" -outform der; } \
        >"$seeds/x509/chain$n.bin" 2>/dev/null
      n=$((n + 1))
    fi
    rm -f "$seeds"/part*
  done
fi
# Chains of the conformance suites: served certificates, then the anchor.
python3 - "$seeds/x509" x509/testdata/conformance/*.json <<'PY'
import base64, json, sys
out, files = sys.argv[1], sys.argv[2:]
for f in files:
    for i, case in enumerate(json.load(open(f))):
        if i % 8 == 0 and case["roots"]:
            parts = [base64.b64decode(c) for c in case["served"] + case["roots"][:1]]
            open("%s/%s.bin" % (out, case["id"].replace(":", "_")), "wb").write(b"\xff\xfe".join(parts))
PY
mkdir -p "$seeds/fuzz_starttls" "$seeds/fuzz_handshake_tap"
# A TLS 1.2 Certificate message carrying one 3-byte "certificate".
printf '\x07\x00\x16\x03\x03\x00\x0d\x0b\x00\x00\x09\x00\x00\x06\x00\x00\x03abc' >"$seeds/fuzz_handshake_tap/tls12"
printf '\x00\x07220-mail ESMTP\r\n220 ready\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n' >"$seeds/fuzz_starttls/smtp"
printf '\x04\x03\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00' >"$seeds/fuzz_starttls/ldap"
printf '\x0d\x02\xff\xfd\x18\xff\xfd\x2e\xff\xfa\x2e\x01\xff\xf0' >"$seeds/fuzz_starttls/telnet"
mkdir -p "$seeds/fuzz_clm_router" "$seeds/fuzz_exclusions" "$seeds/fuzz_target_spec" "$seeds/fuzz_inventory_import" "$seeds/fuzz_uploader_reply" "$seeds/fuzz_result_json"
printf '198.51.100.0/24,10.0.0.1-10.0.0.9,2001:db8::/120' >"$seeds/fuzz_target_spec/a"
printf '8000-9000,9443' >"$seeds/fuzz_target_spec/b"
# An IPv4-mapped 127.0.0.1 (family byte 3: IPv6, steered to ::ffff:0:0/96)
# and a 6to4 spelling, against a list excluding 127.0.0.0/8.
printf '\x03\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x7f\x00\x00\x00\x00127.0.0.0/8\n' >"$seeds/fuzz_exclusions/a"
printf '\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x7f\x00\x00\x00\x0010.0.0.0/8\n127.0.0.0/8\n' >"$seeds/fuzz_exclusions/b"
printf '# exclusions\n10.0.0.0/8\n192.0.2.1\n' >"$seeds/fuzz_target_spec/c"
printf '{"schema_version":1,"ip":"127.0.0.1","port":443,"name":"","sni":"","outcome":"tls","time":"2026-11-25T06:00:00.000Z","tls":{"version":"TLSv1.3"},"chain":["MAMCAQA="]}' >"$seeds/fuzz_inventory_import/a"
printf '\xc8\x00\n{"batch_id":"x","duplicate":true}' >"$seeds/fuzz_uploader_reply/a"
printf '\xad\x01120\n{"error":"slow down"}' >"$seeds/fuzz_uploader_reply/b"
printf 'www.example.com' >"$seeds/fuzz_result_json/a"
printf 'POST /api/v1/batches\n{"batch_id":"b1","certificates":[{"sha256":"00","der":"MAMCAQA="}],"sightings":[{"sha256":"00","ip":"127.0.0.1","port":443,"name":""}],"run":{"id":1}}' >"$seeds/fuzz_clm_router/a"
printf 'GET /api/v1/inventory\n' >"$seeds/fuzz_clm_router/b"
printf 'GET /\n' >"$seeds/fuzz_clm_router/d"
printf 'GET /api/v1/%%ff\n' >"$seeds/fuzz_clm_router/c"
# Certificate requests: a CSR of the right names, another of the wrong ones.
if command -v openssl >/dev/null; then
  for name in a.example.test evil.example.org; do
    csr=$(openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
            -subj "/CN=$name" -addext "subjectAltName=DNS:$name,IP:127.0.0.2" 2>/dev/null)
    python3 -c 'import json, sys; sys.stdout.write("POST /api/v1/certificate-requests\n" + json.dumps({"request_id": sys.argv[1], "csr": sys.argv[2]}))' \
      "r-$name" "$csr" >"$seeds/fuzz_clm_router/csr-$name"
  done
fi

# Targets that need files (the CLM's store) make them here, removed after.
export TMPDIR="$PWD/$out/tmp"
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"

failed=0
passed=0
for target in fuzz_target_spec fuzz_exclusions fuzz_x509 fuzz_result_json fuzz_inventory_import fuzz_clm_router fuzz_uploader_reply fuzz_starttls fuzz_handshake_tap; do
  bin="$out/bin/$target"
  # Rebuild only when a source or header is newer than the binary.
  if [ -x "$bin" ] && [ -z "$(find "tests/fuzz/$target.cc" ${sources[$target]} base include inventory sweep scanner x509 cli clm enroll tlsprobe \
        -name '*.h' -newer "$bin" -o -name '*.cc' -newer "$bin" 2>/dev/null | head -1)" ]; then
    :
  elif ! $CXX $flags "tests/fuzz/$target.cc" ${sources[$target]} $libs ${extra_libs[$target]:-} -o "$bin" 2>"$out/$target.build.log"; then
    echo "fuzz: $target: build failed (see $out/$target.build.log)"
    failed=$((failed + 1))
    continue
  fi
  corpus="$out/corpus/$target"
  mkdir -p "$corpus" "$out/crashes/$target"
  seed_dir="$seeds/$target"
  [ "$target" = fuzz_x509 ] && seed_dir="$seeds/x509"
  "$bin" "$corpus" "$seed_dir" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$out/crashes/$target/" -print_final_stats=1 >"$out/$target.log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$target.log" | tail -1)
  if [ "$status" -eq 0 ]; then
    echo "fuzz: $target: ${execs:-?} executions in ${seconds} s, no crash"
    passed=$((passed + 1))
  else
    echo "fuzz: $target: FAILED (exit $status); see $out/$target.log and $out/crashes/$target/"
    tail -30 "$out/$target.log"
    failed=$((failed + 1))
  fi
done
rm -rf "$TMPDIR"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
