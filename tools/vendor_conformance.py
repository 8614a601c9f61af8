#!/usr/bin/env python3
"""Converts public certificate-validation suites into the one compact form
x509:conformance_test reads (x509/testdata/conformance/*.json).

  tools/vendor_conformance.py limbo LIMBO_JSON OUT
  tools/vendor_conformance.py bettertls EXPORT_JSON OUT VALIDATION_UNIX [EVERY_NTH]

LIMBO_JSON is x509-limbo's compiled suite (`limbo compile`), EXPORT_JSON is
BetterTLS's `bettertls export-tests` output. Each case becomes
  {"id", "family", "expected": "accept"|"reject", "soft": bool,
   "features": [...], "kind": "server"|"client", "eku": [...],
   "peer": {"kind": "dns"|"ip"|..., "value"} or null, "time": unix or null,
   "max_depth": n or null, "crls": [base64 DER],
   "roots": [base64 DER], "served": [base64 DER: leaf, then intermediates]}
The test decides what is in scope; this script only changes the form.
"""
import base64
import datetime
import ipaddress
import json
import ssl
import sys


def der_of_pem(pem):
    return base64.b64encode(ssl.PEM_cert_to_DER_cert(pem)).decode()


def der_of_crl(pem):
    body = "".join(l for l in pem.strip().splitlines() if not l.startswith("-----"))
    return base64.b64encode(base64.b64decode(body)).decode()


def limbo(src, out):
    cases = []
    for t in json.load(open(src))["testcases"]:
        peer = t.get("expected_peer_name")
        when = t.get("validation_time")
        cases.append({
            "id": t["id"],
            "family": "limbo/" + t["id"].split("::")[0],
            "expected": "accept" if t["expected_result"] == "SUCCESS" else "reject",
            "soft": False,
            "features": t.get("features") or [],
            "kind": t["validation_kind"].lower(),
            "eku": t.get("extended_key_usage") or [],
            "peer": {"kind": peer["kind"].lower(), "value": peer["value"]} if peer else None,
            "time": int(datetime.datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp())
            if when else None,
            "max_depth": t.get("max_chain_depth"),
            "crls": [der_of_crl(p) for p in t.get("crls") or []],
            "roots": [der_of_pem(p) for p in t["trusted_certs"]],
            "served": [der_of_pem(t["peer_certificate"])] +
                      [der_of_pem(p) for p in t["untrusted_intermediates"]],
        })
    return cases


def bettertls(src, out, when, every):
    data = json.load(open(src))
    root = base64.b64encode(base64.b64decode(data["trustRoot"])).decode()
    cases = []
    for name, suite in sorted(data["suites"].items()):
        for t in suite["testCases"]:
            if t["id"] % every != 0 and name == "nameconstraints":
                continue
            served = [c for c in t["certificates"] if c != root]
            host = t["hostname"]
            try:
                ipaddress.ip_address(host)
                kind = "ip"
            except ValueError:
                kind = "dns"
            cases.append({
                "id": "bettertls::%s::%d" % (name, t["id"]),
                "family": "bettertls/" + name,
                "expected": t["expected"].lower(),
                "soft": t["failureIsWarning"],
                "features": t["requiredFeatures"],
                "kind": "server",
                "eku": ["serverAuth"],
                "peer": {"kind": kind, "value": host},
                "time": when,
                "max_depth": None,
                "crls": [],
                "roots": [root],
                "served": served,
            })
    return cases


def main():
    if sys.argv[1] == "limbo":
        cases = limbo(sys.argv[2], sys.argv[3])
    else:
        cases = bettertls(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                          int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    with open(sys.argv[3], "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n]\n")
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
