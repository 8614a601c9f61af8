#!/usr/bin/env bash
# demo.sh: installs what is missing, builds ers and runs the product spec's
# listings against a fresh demo inventory, then shows the scan plan.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
bazel build //cli:ers
ers=.bazel/bin/cli/ers

demo=.demo
rm -rf "$demo"
mkdir -p "$demo"
export ERS_DB="$PWD/$demo/ers.db"

run() {
  echo "\$ $*"
  "$ers" "${@:2}"
  echo
}
run ers discover --servers mail.example.com
run ers discover --servers "mail.example.com,web.example.com" --ports "8443,9443"
run ers discover --servers server1.example.com --ports "8000-9000,9443"
run ers discover --ips 198.51.100.0/24 --ports "8000-9000"
run ers discover --list
run ers scan --dry-run --seed 1
