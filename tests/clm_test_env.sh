# clm_test_env.sh: sourced by the tests that push to the reference CLM.
# Arguments of the sourcing test: ERS ERS-CLM DEMO_FARM CLM_PKI. Sets up a
# work directory with a PKI, an nginx farm on $farm_net.0/29 (default
# 127.0.46; tests that may run at once use their own) and tokens,
# and defines start_clm [flags] (on a free port, same database), stop_clm
# and clm_count SQL.
ers="$PWD/$1"
clm="$PWD/$2"
farm_bin="$PWD/$3"
pki_bin="$PWD/$4"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-clm.XXXXXX")
export ERS_DB="$work/ers.db"
mkdir -p "$work/farm" "$work/pki"
"$pki_bin" "$work/pki" scanner-cert || { echo "FAIL: clm_pki"; exit 1; }
farm_net=${farm_net:-127.0.46}
"$farm_bin" "$work/farm" "$farm_net" >/dev/null || { echo "FAIL: demo_farm"; exit 1; }
/usr/sbin/nginx -p "$work/farm/" -c "$work/farm/nginx.conf" || { echo "FAIL: nginx"; exit 1; }
token=tok-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'scanner1 %s\n' "$token" >"$work/tokens"
printf '%s\n' "$token" >"$work/token"
printf 'tok-wrong-wrong-wrong-wrong\n' >"$work/wrong-token"
clm_pid=""
stop_clm() {
  [ -n "$clm_pid" ] && kill "$clm_pid" 2>/dev/null && wait "$clm_pid" 2>/dev/null
  clm_pid=""
}
# cleanup stops the CLM and nginx and removes the work directory (on exit,
# or when a test ends).
cleanup() {
  stop_clm
  [ -f "$work/farm/nginx.pid" ] && kill "$(cat "$work/farm/nginx.pid")" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# start_clm [extra flags]: starts ers-clm on a free port (same database).
start_clm() {
  rm -f "$work/port"
  "$clm" --listen "127.0.0.1:${port:-0}" --db "$work/clm.db" --cert "$work/pki/server.pem" \
    --key "$work/pki/server.key" --client-ca "$work/pki/ca.pem" \
    --tokens-file "$work/tokens" --port-file "$work/port" "$@" 2>>"$work/clm.log" &
  clm_pid=$!
  for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  port=$(cat "$work/port")
}
clm_count() { sqlite3 "$work/clm.db" "$1" 2>/dev/null; }

