#!/usr/bin/env bash
# bench.sh: installs what is missing, builds and runs the benchmarks in
# bench/, printing their figures.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
bazel build //bench:all
for b in target_walk_benchmark x509_benchmark crypto_floor_benchmark inflight_benchmark; do
  echo "== $b"
  ".bazel/bin/bench/$b" "$@"
done
