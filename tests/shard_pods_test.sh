#!/usr/bin/env bash
# shard_pods_test.sh: the Kubernetes Indexed Job of deploy/kubernetes,
# simulated on one machine. Each "pod" is a process in a UTS namespace of
# its own (its own host name, as a pod has) with an empty inventory, the
# ConfigMap's files (targets pointed at a loopback nginx farm, the CLM's
# loopback URL) and the Secret's token and CA, running the ConfigMap's own
# scan.sh with JOB_COMPLETION_INDEX set and the Job's ERS_SHARDS, all at
# once, all pushing to one ers-clm. The CLM must then hold exactly the TLS
# endpoints that one unsharded scan of the same targets finds, each once,
# and one run per pod with its shard; the pods' targets must add up to the
# whole target space, disjointly.
# Arguments: ERS ERS-CLM DEMO_FARM CLM_PKI (as the other CLM tests).
set -uo pipefail
farm_net=127.0.51
source tests/clm_test_env.sh
manifests=deploy/kubernetes
python=/usr/bin/python3

start_clm
[ -n "$port" ]
check $? "ers-clm listens"
pods=$("$python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["completions"])' \
  "$manifests/job.yaml")
shards=$("$python" -c 'import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]
print([e["value"] for e in c["env"] if e["name"] == "ERS_SHARDS"][0])' "$manifests/job.yaml")
[ "$pods" -ge 2 ] && [ "$pods" = "$shards" ]
check $? "the Job runs $pods pods with ERS_SHARDS=$shards"

# The mounted ConfigMap and Secret, as the kubelet lays them out: one file
# per key. The operator's edits: targets, ports, CLM URL, the farm's roots.
conf=$work/etc-ers
secret=$work/etc-ers-clm
mkdir -p "$conf" "$secret" "$work/bin"
"$python" - "$manifests/configmap.yaml" "$conf" <<'PY'
import os, sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
for key, value in config["data"].items():
    with open(os.path.join(sys.argv[2], key), "w") as f:
        f.write(value)
PY
check $? "the ConfigMap's files are laid out"
seed=$(cat "$conf/seed")
printf '%s.0/29\n' "$farm_net" >"$conf/targets"
printf '8443,9443,10993\n' >"$conf/ports"
printf 'https://127.0.0.1:%s/\n' "$port" >"$conf/clm-url"
printf '%s --roots %s\n' "$(cat "$conf/scan-args")" "$work/farm/roots.pem" >"$conf/scan-args"
cp "$work/token" "$secret/token"
cp "$work/pki/ca.pem" "$secret/ca.pem"
ln -s "$ers" "$work/bin/ers"

# The pods, all at once.
pids=()
for i in $(seq 0 $((pods - 1))); do
  mkdir -p "$work/pod$i"
  JOB_COMPLETION_INDEX=$i ERS_SHARDS=$shards ERS_DB="$work/pod$i/ers.db" \
    ERS_CONFIG_DIR="$conf" ERS_SECRET_DIR="$secret" PATH="$work/bin:$PATH" \
    unshare --uts sh -c 'hostname "ers-sweep-$1-pod" && exec sh "$2"' sh "$i" "$conf/scan.sh" \
    >"$work/pod$i.log" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"
  check $? "pod $i exits 0: $(tail -5 "$work/pod$i.log")"
done

# One unsharded scan of the same targets, not pushed: the reference.
ref_db=$work/reference.db
ERS_DB=$ref_db "$ers" discover -iL "$conf/targets" --ports "$(cat "$conf/ports")" >/dev/null &&
  ERS_DB=$ref_db "$ers" scan --seed "$seed" --no-push --roots "$work/farm/roots.pem" \
    --output "$work/reference.jsonl" 2>"$work/reference.err"
check $? "the reference scan runs: $(cat "$work/reference.err")"
reference=$("$python" - "$work/reference.jsonl" <<'PY'
import base64, hashlib, json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["outcome"] == "tls":
        leaf = hashlib.sha256(base64.b64decode(r["chain"][0])).hexdigest()
        print(r["ip"], r["port"], r["name"], leaf)
PY
)
reference=$(sort <<<"$reference")
[ "$(wc -l <<<"$reference")" -ge 4 ]
check $? "the farm has TLS endpoints to find ($(wc -l <<<"$reference"))"
in_clm=$(clm_count "SELECT ip, port, name, lower(sha256) FROM sightings WHERE client = 'token:scanner1'" |
  tr '|' ' ' | sort)
[ "$in_clm" = "$reference" ]
check $? "the CLM holds exactly the reference's TLS endpoints: $(diff <(echo "$reference") <(echo "$in_clm"))"
[ -z "$(sort <<<"$in_clm" | uniq -d)" ] &&
  [ "$(clm_count "SELECT count(*) FROM sightings")" = "$(wc -l <<<"$reference")" ]
check $? "each endpoint is in the CLM once"

# One run per pod, told apart by host name, each with its shard of one seed.
runs=$(clm_count "SELECT host, json_extract(summary, '\$.shard'), json_extract(summary, '\$.seed') FROM runs ORDER BY host")
expected=$(for i in $(seq 0 $((pods - 1))); do echo "ers-sweep-$i-pod|$((i + 1))/$shards|$seed"; done)
[ "$runs" = "$expected" ]
check $? "the CLM has one run per pod with its shard and the seed: $runs"
"$ers" status --remote --db "$work/pod0/ers.db" 2>&1 | grep -q "token:scanner1 .*$(wc -l <<<"$reference") sightings"
check $? "ers status --remote from a pod sees the whole sweep"

# The shards cut the target space: the pods' targets add up to the whole.
total=$(sqlite3 "$ref_db" "SELECT targets FROM scan_runs")
sum=0
for i in $(seq 0 $((pods - 1))); do
  n=$(sqlite3 "$work/pod$i/ers.db" "SELECT targets FROM scan_runs")
  [ "${n:-0}" -gt 0 ]
  check $? "pod $i scanned a share of the targets ($n)"
  sum=$((sum + ${n:-0}))
done
[ "$sum" = "$total" ]
check $? "the pods' targets add up to the sweep's ($sum of $total)"
results=$(for i in $(seq 0 $((pods - 1))); do
  sqlite3 "$work/pod$i/ers.db" "SELECT ip || ':' || port FROM endpoint_results"; done | sort)
[ -z "$(uniq -d <<<"$results")" ]
check $? "no target was scanned by two pods"

finish
