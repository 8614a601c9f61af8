#!/usr/bin/env bash
# The library embedded as a user would: examples/embed_sweep built by Bazel,
# and built again with c++ and pkg-config after tools/install.sh into a
# temporary prefix, each sweeping a real nginx farm on 127.0.45.0/29
# through the public API (include/ers/sweep.h). Both must find the farm's
# TLS endpoints with their chains, one JSON line per target.
set -uo pipefail
bazel_example="$PWD/$1"
farm_bin="$PWD/$2"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-embed.XXXXXX")
source tests/shell_checks.sh

mkdir -p "$work/farm"
"$farm_bin" "$work/farm" 127.0.45 >/dev/null || { echo "FAIL: demo_farm"; exit 1; }
/usr/sbin/nginx -p "$work/farm/" -c "$work/farm/nginx.conf" || { echo "FAIL: nginx"; exit 1; }
trap 'kill "$(cat "$work/farm/nginx.pid")" 2>/dev/null' EXIT

# sweep_checks LABEL FILE: what the farm must give (8 ports x 3 = 24 targets;
# the demo farm's TLS endpoints on 8443/9443/10993, as cli_scan_test knows).
sweep_checks() {
  [ "$(wc -l <"$2")" -eq 24 ]
  check $? "$1: one line per target ($(wc -l <"$2"))"
  [ "$(grep -c '"outcome":"tls"' "$2")" -eq 7 ]
  check $? "$1: seven TLS endpoints ($(grep -c '"outcome":"tls"' "$2"))"
  # Every TLS line carries a chain: base64 of a DER SEQUENCE ("MI...").
  [ "$(grep '"outcome":"tls"' "$2" | grep -c '"chain":\["MI')" -eq 7 ]
  check $? "$1: chains are captured"
  # (grep -c reads everything: grep -q would end the pipe early, and
  # pipefail would count the writer's SIGPIPE as a failure.)
  [ "$(grep '"outcome":"tls"' "$2" | grep -c '"analysis":{')" -eq 7 ]
  check $? "$1: chains are analysed"
  grep -q '"ip":"127.0.45.5","port":8443,.*"outcome":"not_tls"' "$2"
  check $? "$1: plain HTTP is not_tls"
}

"$bazel_example" 127.0.45.0/29 8443,9443,10993 >"$work/bazel.jsonl" 2>"$work/bazel.err"
check $? "the Bazel-built example exits 0: $(cat "$work/bazel.err")"
sweep_checks "bazel" "$work/bazel.jsonl"

# Install into a temporary prefix from what Bazel built, then build the
# example as an embedder would.
built="$PWD"
ERS_INSTALL_FROM="$built" tools/install.sh "$work/prefix" >"$work/install.log" 2>&1
check $? "tools/install.sh: $(cat "$work/install.log")"
for f in bin/ers bin/ers-clm lib/libers.so include/ers/sweep.h include/ers/record.h \
         include/ers/ip_address.h lib/pkgconfig/ers.pc; do
  [ -e "$work/prefix/$f" ]
  check $? "installed $f"
done
MANPATH="$work/prefix/share/man" man -w ers-scan >/dev/null 2>&1 &&
  MANPATH="$work/prefix/share/man" MANWIDTH=100 man ers 2>/dev/null | grep -q "^NAME" &&
  [ -s "$work/prefix/share/bash-completion/completions/ers" ] &&
  [ -s "$work/prefix/share/zsh/site-functions/_ers" ]
check $? "man ers and man ers-scan work after install; bash and zsh completion installed"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs ers)
check $? "pkg-config knows ers"
# Under the sanitizers (tools/test.sh's second run) the installed library is
# instrumented, so the embedder is built the same way.
san_flags=()
[ -n "${ERS_SANITIZED:-}" ] && san_flags=(-fsanitize=address,undefined)
c++ -std=c++17 "${san_flags[@]}" examples/embed_sweep.cc $flags -o "$work/embed_sweep" 2>"$work/cc.log"
check $? "c++ builds the example against the installed library: $(head -5 "$work/cc.log")"
# What the example loads: libers.so from the prefix (its run path), and no
# OpenSSL beside BoringSSL anywhere in the tree of libraries.
readelf -d "$work/embed_sweep" >"$work/dynamic.txt" 2>&1
grep -q 'NEEDED.*\[libers.so\]' "$work/dynamic.txt" &&
  grep -Eq "(RUNPATH|RPATH).*$work/prefix/lib" "$work/dynamic.txt"
check $? "the example uses the installed libers.so: $(grep -E 'NEEDED|PATH' "$work/dynamic.txt" | tr -s ' ' | head -3)"
libs=$(ldd "$work/prefix/lib/libers.so" "$work/embed_sweep" 2>&1)
[ -n "$libs" ] && ! grep -q 'libssl.so.3\|libcrypto.so.3' <<<"$libs"
check $? "OpenSSL's libraries are not linked beside BoringSSL"
"$work/embed_sweep" 127.0.45.0/29 8443,9443,10993 >"$work/installed.jsonl" 2>"$work/installed.err"
check $? "the installed example exits 0: $(cat "$work/installed.err")"
grep -v '"outcome":"tls"' "$work/installed.jsonl" | grep -o '"outcome":"[a-z_]*","detail":"[^"]*"' | sort | uniq -c
sweep_checks "installed" "$work/installed.jsonl"
"$work/embed_sweep" 127.0.45.0/33 443 >/dev/null 2>"$work/bad.err"
[ $? -eq 2 ] && grep -q "127.0.45.0/33" "$work/bad.err"
check $? "a bad CIDR is a clear error: $(cat "$work/bad.err")"
"$work/prefix/bin/ers" --version | grep -q "^ers "
check $? "the installed ers runs"
finish
