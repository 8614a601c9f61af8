#!/usr/bin/env bash
# clm_load.sh [CLIENTS] [BATCHES] [SIGHTINGS]: the reference CLM under load
# and a crash. CLIENTS clients (default 50, each with its own token and
# loopback source address) push BATCHES batches (default 20) of SIGHTINGS
# sightings (default 500) each to ers-clm over HTTPS, through the uploader
# `ers push` uses. When half the batches are stored the server is killed
# with SIGKILL and started again on the same port; the clients retry.
# Afterwards the database must hold every batch exactly once: each
# client's batch counter, the batch table and the sightings all match what
# was sent. Prints batches per second, latency p50/p99 and the server's
# peak RSS in each of its two lives and its CPU time; writes .bench/clm_load.md.
# Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-50}
batches=${2:-20}
sightings=${3:-500}
bazel build //bench:clm_load //clm:ers-clm //tests:clm_pki >/dev/null 2>&1
bin=.bazel/bin
work=$(mktemp -d /tmp/ers-clm-load.XXXXXX)
clm_pid=""
load_pid=""
cleanup() {
  [ -n "$clm_pid" ] && kill -9 "$clm_pid" 2>/dev/null
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/pki"
"$bin/tests/clm_pki" "$work/pki" load-bench >/dev/null
for i in $(seq 1 "$clients"); do
  printf 'load%03d tok-%s\n' "$i" "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
done >"$work/tokens"

port=0
# start_clm: ers-clm on $port (0 the first time: any free port), same
# database; sets clm_pid and port.
start_clm() {
  rm -f "$work/port"
  "$bin/clm/ers-clm" --listen "127.0.0.1:$port" --db "$work/clm.db" \
    --cert "$work/pki/server.pem" --key "$work/pki/server.key" \
    --tokens-file "$work/tokens" --port-file "$work/port" 2>>"$work/clm.log" &
  clm_pid=$!
  for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || { echo "ers-clm did not start: $(tail -3 "$work/clm.log")"; exit 1; }
  port=$(cat "$work/port")
}
peak_rss_mib() { awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$clm_pid/status"; }
# cpu_s: the server's CPU seconds so far (user + system).
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / t }' "/proc/$clm_pid/stat"; }
stored() { sqlite3 "$work/clm.db" "select count(*) from batches" 2>/dev/null || echo 0; }

start_clm
"$bin/bench/clm_load" --url "https://127.0.0.1:$port" --ca "$work/pki/ca.pem" \
  --tokens "$work/tokens" --work "$work/spools" --batches "$batches" \
  --sightings "$sightings" >"$work/load.out" 2>"$work/load.err" &
load_pid=$!
total=$((clients * batches))
# Kill the server once half the batches are in (bounded: 10 minutes).
for _ in $(seq 1 3000); do
  [ "$(stored)" -ge $((total / 2)) ] && break
  kill -0 "$load_pid" 2>/dev/null || break
  sleep 0.2
done
rss_first=$(peak_rss_mib)
cpu_first=$(cpu_s)
kill -9 "$clm_pid"
wait "$clm_pid" 2>/dev/null || true
at_kill=$(stored)
start_clm
load_rc=0
wait "$load_pid" || load_rc=$?
load_pid=""
rss_second=$(peak_rss_mib)
cpu_second=$(cpu_s)
kill "$clm_pid"
wait "$clm_pid" 2>/dev/null || true
clm_pid=""

cat "$work/load.err" >&2
field() { awk -v k="$1:" '$1 == k { print $2 }' "$work/load.out"; }
q() { sqlite3 "$work/clm.db" "$1"; }
batch_rows=$(q "select count(*) from batches")
counted=$(q "select coalesce(sum(batches), 0) from clients")
wrong_clients=$(q "select count(*) from clients where batches != $batches")
sighting_rows=$(q "select count(*) from sightings")
ok=yes
[ "$load_rc" -eq 0 ] && [ "$batch_rows" -eq "$total" ] && [ "$counted" -eq "$total" ] &&
  [ "$wrong_clients" -eq 0 ] && [ "$sighting_rows" -eq $((total * sightings)) ] || ok=NO

mkdir -p .bench
{
  echo "| figure | value |"
  echo "|---|---|"
  echo "| clients x batches x sightings | $clients x $batches x $sightings |"
  echo "| batches stored when the server was killed (SIGKILL) | $at_kill of $total |"
  echo "| batches stored in the end / counted per client | $batch_rows / $counted |"
  echo "| sightings stored | $sighting_rows (expected $((total * sightings))) |"
  echo "| replies \"duplicate\" (stored before the kill, reply lost) | $(field duplicates) |"
  echo "| batches that needed a retry | $(field retried) |"
  echo "| every batch stored exactly once | $ok |"
  echo "| push time | $(field seconds) s |"
  echo "| batches per second | $(field batches_per_second) |"
  echo "| sightings per second | $(field sightings_per_second) |"
  echo "| batch latency p50 / p99 / max | $(field latency_p50_ms) / $(field latency_p99_ms) / $(field latency_max_ms) ms |"
  awk -v a="$cpu_first" -v b="$cpu_second" -v n="$total" \
    'BEGIN { printf "| server CPU (both lives) / per batch | %.1f s / %.1f ms |\n", a + b, 1000 * (a + b) / n }'
  echo "| server peak RSS, before the kill / after the restart | $rss_first / $rss_second MiB |"
} | tee .bench/clm_load.md
[ "$ok" = yes ]
