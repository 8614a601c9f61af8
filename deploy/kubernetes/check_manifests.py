#!/usr/bin/python3
"""check_manifests.py: checks the Kubernetes manifests here offline.

  deploy/kubernetes/check_manifests.py [DIR]

kubectl apply --dry-run=client needs an API server for its schema. This
check needs none: it walks every object of every manifest that the
kustomization lists against the types of the Kubernetes API as Debian's
python3-kubernetes client models them (generated from the API's OpenAPI
document): an unknown field, a value of the wrong type, a missing
required field or a value outside an enumeration is an error. Then the
rules ers's sweep needs: an Indexed Job whose ERS_SHARDS equals its
completions, a scan.sh that scans --shard auto with the ConfigMap's seed,
the volumes' sources present, and a CronJob whose job spec is the Job's.
Exits 1 naming each problem, 0 printing what it checked.
"""

import os
import sys

import yaml
import kubernetes.client as k8s

MODELS = {
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Secret"): "V1Secret",
    ("batch/v1", "Job"): "V1Job",
    ("batch/v1", "CronJob"): "V1CronJob",
}
SCALARS = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "date": (str,),
    "datetime": (str,),
}


def check_value(value, typ, path, errors):
    """Checks |value| against the client's type name |typ|."""
    if value is None:
        return
    if typ == "object":
        return
    if typ.startswith("list["):
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, not {value!r}")
            return
        for i, item in enumerate(value):
            check_value(item, typ[5:-1], f"{path}[{i}]", errors)
        return
    if typ.startswith("dict("):
        inner = typ[typ.index(",") + 1:-1].strip()
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, not {value!r}")
            return
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(f"{path}: key {key!r} is not a string")
            check_value(item, inner, f"{path}.{key}", errors)
        return
    if typ in SCALARS:
        ok = isinstance(value, SCALARS[typ]) and not (typ != "bool" and isinstance(value, bool))
        if not ok:
            errors.append(f"{path}: expected {typ}, not {value!r}")
        return
    model = getattr(k8s, typ, None)
    if model is None:
        errors.append(f"{path}: no such type {typ} in the client")
        return
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({typ}), not {value!r}")
        return
    by_json = {json: attr for attr, json in model.attribute_map.items()}
    kwargs = {}
    for key, item in value.items():
        attr = by_json.get(key)
        if attr is None:
            errors.append(f"{path}: unknown field {key!r} in {typ}")
            continue
        check_value(item, model.openapi_types[attr], f"{path}.{key}", errors)
        kwargs[attr] = item
    # The models refuse a missing required field and a value outside an
    # enumeration when built.
    try:
        model(**kwargs)
    except (ValueError, TypeError) as e:
        errors.append(f"{path}: {typ}: {e}")


def manifest_files(directory):
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    files = list(kustomization.get("resources", []))
    # The scheduled form is not in the kustomization (one of the two is
    # applied) but is checked all the same.
    if os.path.exists(os.path.join(directory, "cronjob.yaml")):
        files.append("cronjob.yaml")
    return files


def env_value(container, name):
    for e in container.get("env", []):
        if e.get("name") == name:
            return e.get("value")
    return None


def check_sweep(objects, errors):
    """The rules of ers's sweep across the objects."""
    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj.get("kind"), []).append(obj)
    configs = {o["metadata"]["name"]: o for o in by_kind.get("ConfigMap", [])}
    secrets = {o["metadata"]["name"]: o for o in by_kind.get("Secret", [])}
    jobs = by_kind.get("Job", [])
    if len(jobs) != 1:
        errors.append(f"expected one Job, found {len(jobs)}")
        return
    job = jobs[0]
    spec = job["spec"]
    name = job["metadata"]["name"]
    if spec.get("completionMode") != "Indexed":
        errors.append(f"Job {name}: completionMode must be Indexed (JOB_COMPLETION_INDEX)")
    completions = spec.get("completions")
    if spec.get("parallelism", 1) > (completions or 1):
        errors.append(f"Job {name}: parallelism above completions")
    pod = spec["template"]["spec"]
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        errors.append(f"Job {name}: restartPolicy must be Never or OnFailure")
    containers = pod.get("containers", [])
    if len(containers) != 1:
        errors.append(f"Job {name}: expected one container")
        return
    shards = env_value(containers[0], "ERS_SHARDS")
    if shards != str(completions):
        errors.append(f"Job {name}: ERS_SHARDS is {shards!r} but completions is {completions}: "
                      "each pod scans 1/ERS_SHARDS, so the two must agree")
    for volume in pod.get("volumes", []):
        if "configMap" in volume and volume["configMap"]["name"] not in configs:
            errors.append(f"volume {volume['name']}: no ConfigMap {volume['configMap']['name']}")
        if "secret" in volume and volume["secret"]["secretName"] not in secrets:
            errors.append(f"volume {volume['name']}: no Secret {volume['secret']['secretName']}")
    for config in configs.values():
        data = config.get("data", {})
        script = data.get("scan.sh", "")
        if "--shard auto" not in script or "seed" not in script:
            errors.append("scan.sh must scan --shard auto with the ConfigMap's seed")
        seed = data.get("seed", "")
        if not seed.isdigit():
            errors.append(f"ConfigMap seed {seed!r} is not an unsigned number")
        for key in ("targets", "ports", "exclude", "clm-url", "scan-args"):
            if key not in data:
                errors.append(f"ConfigMap {config['metadata']['name']}: no {key!r}, scan.sh reads it")
    for secret in secrets.values():
        values = dict(secret.get("stringData", {}), **secret.get("data", {}))
        for key in ("token", "ca.pem"):
            if key not in values:
                errors.append(f"Secret {secret['metadata']['name']}: no {key!r}, scan.sh reads it")
    for cron in by_kind.get("CronJob", []):
        if cron["spec"]["jobTemplate"]["spec"] != spec:
            errors.append(f"CronJob {cron['metadata']['name']}: jobTemplate.spec differs from "
                          f"Job {name}'s spec")


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    errors = []
    objects = []
    for name in manifest_files(directory):
        try:
            docs = list(yaml.safe_load_all(open(os.path.join(directory, name))))
        except (OSError, yaml.YAMLError) as e:
            errors.append(f"{name}: {e}")
            continue
        for doc in docs:
            if doc is None:
                continue
            key = (doc.get("apiVersion"), doc.get("kind"))
            model = MODELS.get(key)
            where = f"{name}: {key[1]} {doc.get('metadata', {}).get('name', '?')}"
            if model is None:
                errors.append(f"{where}: no schema for {key[0]} {key[1]}")
                continue
            check_value(doc, model, where, errors)
            objects.append(doc)
    check_sweep(objects, errors)
    for e in errors:
        print(f"check_manifests: {e}")
    if errors:
        return 1
    kinds = ", ".join(sorted(f"{o['kind']} {o['metadata']['name']}" for o in objects))
    print(f"check_manifests: {len(objects)} objects match the Kubernetes API "
          f"({k8s.__name__} {getattr(__import__('kubernetes'), '__version__', '?')}): {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
