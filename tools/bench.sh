#!/usr/bin/env bash
# bench.sh: installs what is missing, builds and runs every benchmark:
# the micro-benchmarks (target walk, x509 analysis, crypto floor), the
# in-flight memory benchmark, the side-by-side comparison with the
# tools users pick instead (bench/compare.sh), the client CPU per
# endpoint (bench/endpoint_cpu.sh) and the reference CLM under load with
# a SIGKILL (bench/clm_load.sh, loopback), STARTTLS next to implicit TLS
# (bench/starttls_bench.sh), and what SNI discovery costs
# (bench/sni_discovery_bench.sh). Needs root for the private
# network namespaces of the in-flight, compare and endpoint CPU runs.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
bazel build //bench:all
for b in target_walk_benchmark x509_benchmark crypto_floor_benchmark; do
  echo "== $b"
  ".bazel/bin/bench/$b"
done
echo "== inflight_benchmark"
.bazel/bin/bench/inflight_benchmark
echo "== compare (writes .bench/compare.md and .bench/compare.json)"
bench/compare.sh
echo "== endpoint CPU (writes .bench/endpoint_cpu.md)"
bench/endpoint_cpu.sh
echo "== CLM under load and a crash (writes .bench/clm_load.md)"
bench/clm_load.sh
echo "== STARTTLS next to implicit TLS (writes .bench/starttls.md)"
bench/starttls_bench.sh
echo "== SNI discovery on a farm of single-certificate addresses (writes .bench/sni_discovery.md)"
bench/sni_discovery_bench.sh
