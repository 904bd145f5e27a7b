#!/usr/bin/env python3
"""Differential test of the dispensing messages: release request Parameters, return and
withdrawal Tasks, dispense notification Bundles (amendments included) and Claims (amendments
included).

Makes inputs by generic structural edits (remove a member, empty or reorder a list, duplicate a
list item, replace a string by another of the same input, change a status or intent) of seeds,
and, for dispense notifications and claims, by edits of the values their rules read (a code
from the tables the reference reads or outside them, a system, a number, a date, a status, an
extension added where the reference looks: replacementOf, repeat information, business status,
non-dispensing reasons). Seeds: the goldens in golden/rules (`release_*`, `return_*`,
`withdraw_*`, `dispense_*`, `claim_*`) that the reference converts, and the corpus' dispense
notifications and claims (`*-Process-Request-Dispense-200_OK.json`, `…-DispenseAmend-…`,
`*-Claim-Request-200_OK.json`, `*-Claim-Request-Amend-200_OK.json`). Runs `convert` on each
with eps-translator and with the reference's oracle (one Node process, see oracle_driver.js),
and counts per kind:

  identical        both converted, the same bytes
  refused-same     both refused with the same issues (code and text, in order)
  oracle-crash     the reference crashed (HTTP 500); we refused, naming the place
  deviation: ...   a difference docs/deviations.md explains: we refuse a value the HL7 v3
                   message needs ("Required field missing.") or a member of the wrong JSON shape
                   where the reference writes the message without it; only a message Bundle is
                   translated; a resource without resourceType, or of another type than the
                   reference to it expects, is refused; we convert a request
                   holding two of what the reference reads once for its log (two owners, two
                   contained Organizations), where the reference crashes; we read an absent
                   member as absent where the reference crashes reading it
  both refuse, first error differs
                   both refuse, naming different first errors (a different order of checks, or
                   a resource without resourceType, which the reference does not type)
  DIFFERENT        anything else: printed with the input's file name

A release request is converted with the two ids the oracle draws (`--message-id`,
`--payload-id`), so the outputs compare byte for byte.

    python3 tools/differential/dispensing.py [--count-per-kind N] [--seed S] [--kinds K,K] [--out DIR]

Standard library and Node only; needs a build of target/release-quick/eps-translator (or
--ours). Writes every input and `results.jsonl` (input, seed, edits, verdict) under --out.
Exit status 1 when any input is DIFFERENT.
"""
import argparse
import copy
import difflib
import glob
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import differential as D  # noqa: E402
import edits as E  # noqa: E402

ORACLE_MESSAGE_ID = "00000000-0000-4000-8000-000000000002"
ORACLE_PAYLOAD_ID = "00000000-0000-4000-8000-000000000003"
KINDS = ("release", "return", "withdraw", "dispense", "claim")
# Corpus requests of the kinds whose seeds are not only the rule goldens.
CORPUS_SEEDS = {
    "dispense": ("-Process-Request-Dispense-200_OK.json", "-Process-Request-DispenseAmend-200_OK.json"),
    "claim": ("-Claim-Request-200_OK.json", "-Claim-Request-Amend-200_OK.json"),
}
# Values the message-specific edits draw from, besides the codes, systems and strings of the
# input itself: codes of the tables the reference reads, and values outside them.
CODE_VALUES = ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010",
               "0011", "0012", "0013", "0014", "0015", "0016", "0017", "0018", "0019",
               "paid-once", "not-paid", "paid-twice", "evidence-seen", "no-evidence-seen",
               "NDEC", "BB", "SP", "ED", "MF", "NCSO", "IP", "PC", "RC", "ZD", "CD", "FS",
               "dispense-notification", "prescription-order", "pharmacy", "normal", "",
               "x", "9999"]
DATE_VALUES = ["2022-01-31", "2022-01-31T10:20:30Z", "2022-01-31T10:20:30.123+00:00",
               "2022-01-31T10:20", "2022-13-31T10:20:30+00:00", "31/01/2022", ""]
NUMBER_VALUES = ["0", "-1", "1.5", "1.50", "1E2", "100000000", "0.001", "2"]
STATUS_VALUES = {
    "dispense": ["completed", "in-progress", "cancelled", "on-hold", "stopped", "unknown", ""],
    "claim": ["active", "cancelled", "draft", "entered-in-error", ""],
}
EXTENSIONS = {
    "replacementOf": {"url": "https://fhir.nhs.uk/StructureDefinition/Extension-replacementOf",
                      "valueIdentifier": {"system": "https://tools.ietf.org/html/rfc4122",
                                          "value": "d0000000-0000-4000-8000-0000000000b9"}},
    "repeat": {"url": "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation",
               "extension": [{"url": "numberOfRepeatsAllowed", "valueInteger": 5},
                             {"url": "numberOfRepeatsIssued", "valueInteger": 1}]},
    "ukcore-repeat": {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation",
                      "extension": [{"url": "numberOfPrescriptionsIssued", "valueUnsignedInt": 2}]},
    "business-status": {"url": "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-TaskBusinessStatus",
                        "valueCoding": {"system": "https://fhir.nhs.uk/CodeSystem/EPS-task-business-status",
                                        "code": "0003", "display": "With Dispenser - Active"}},
    "non-dispensing": {"url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionNonDispensingReason",
                       "valueCoding": {"system": "https://fhir.nhs.uk/CodeSystem/medicationdispense-status-reason",
                                       "code": "0004", "display": "Out of stock"}},
    "status-reason": {"url": "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-TaskBusinessStatusReason",
                      "valueCoding": {"system": "https://fhir.nhs.uk/CodeSystem/medicationdispense-status-reason",
                                      "code": "0004", "display": "Out of stock"}},
}


def seeds(kind):
    out = []
    seen = set()
    for suffix in CORPUS_SEEDS.get(kind, ()):
        for p in sorted(glob.glob(os.path.join(D.SHARED, "eps-examples", "**", "*" + suffix), recursive=True)):
            with open(p, encoding="utf-8") as f:
                text = f.read()
            if text in seen:
                continue
            seen.add(text)
            out.append((os.path.relpath(p, os.path.join(D.SHARED, "eps-examples")), E.load_json(text)))
    with open(os.path.join(D.REPO, "golden", "rules", "deviations.tsv"), encoding="utf-8") as f:
        deviating = {line.split("\t")[0] for line in f if line.strip() and not line.startswith("#")}
    for p in sorted(glob.glob(os.path.join(D.REPO, "golden", "rules", f"{kind}_*.json"))):
        stem = p[:-len(".json")]
        if "." in os.path.basename(stem) or not os.path.exists(stem + ".oracle.xml"):
            continue
        if os.path.basename(stem) in deviating:
            continue  # where we deliberately differ: not a seed of agreement
        with open(p, encoding="utf-8") as f:
            out.append((os.path.basename(stem), E.load_json(f.read())))
    return out


def places(node, path=()):
    """Every (container, key) below node, with the value there."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for k, v in list(items):
        yield node, k, v, path + (k,)
        yield from places(v, path + (k,))


def strings(doc):
    return [v for _, _, v, _ in places(doc) if isinstance(v, str) and not isinstance(v, E.Num)]


def message_edit(doc, rng, kind, spots):
    """An edit of a value the dispense notification's and the claim's rules read: a code, a
    system, a number, a date, a status, or an extension added where the reference looks."""
    what = rng.choice(["code", "code", "system", "number", "date", "status", "extension"])
    if what == "code":
        options = [s for s in spots if s[1] == "code" and isinstance(s[2], str)]
        pool = sorted({v for _, k, v, _ in spots if k == "code" and isinstance(v, str)}) + CODE_VALUES
    elif what == "system":
        options = [s for s in spots if s[1] == "system" and isinstance(s[2], str)]
        pool = sorted({v for _, k, v, _ in spots if k == "system" and isinstance(v, str)}) + ["https://example.org/x"]
    elif what == "number":
        options = [s for s in spots if isinstance(s[2], E.Num) or (isinstance(s[2], (int, float)) and not isinstance(s[2], bool))]
        pool = [E.Num(n) for n in NUMBER_VALUES]
    elif what == "date":
        options = [s for s in spots if s[1] in ("whenHandedOver", "whenPrepared", "created", "authoredOn", "lastModified")]
        pool = DATE_VALUES
    elif what == "status":
        options = [s for s in spots if s[1] in ("status", "use") and isinstance(s[0], dict)
                   and s[0].get("resourceType") in ("MedicationDispense", "Claim", "MedicationRequest")]
        pool = STATUS_VALUES[kind] + ["claim", "preauthorization", "active"]
    else:
        holders = [doc] + [v for _, _, v, _ in spots if isinstance(v, dict) and (
            v.get("resourceType") in ("MessageHeader", "MedicationDispense", "MedicationRequest")
            or "productOrService" in v)]
        holder = rng.choice(holders)
        if not isinstance(holder.setdefault("extension", []), list):
            return None
        name = rng.choice(sorted(EXTENSIONS))
        holder["extension"].append(copy.deepcopy(EXTENSIONS[name]))
        return f"ext:{name}@{holder.get('resourceType', 'item')}"
    if not options:
        return None
    container, key, _, path = rng.choice(options)
    container[key] = rng.choice(pool)
    return f"{what}:{'.'.join(str(p) for p in path)}={container[key]}"


def edit(doc, rng, kind):
    spots = list(places(doc))
    if not spots:
        return None
    if kind in STATUS_VALUES and rng.random() < 0.5:
        return message_edit(doc, rng, kind, spots)
    kind = rng.choice(["rm", "rm", "rm", "empty", "dup", "reverse", "string", "string", "status"])
    if kind == "status":
        key = rng.choice(["status", "intent"])
        if key not in doc:
            return None
        doc[key] = rng.choice(["rejected", "in-progress", "order", "plan", "completed", ""])
        return f"{key}={doc[key]}"
    container, key, value, path = rng.choice(spots)
    where = ".".join(str(p) for p in path)
    if kind == "rm":
        if isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
        return f"rm:{where}"
    if kind == "empty" and isinstance(value, list):
        container[key] = []
        return f"empty:{where}"
    if kind == "dup" and isinstance(value, list) and value:
        value.append(copy.deepcopy(rng.choice(value)))
        return f"dup:{where}"
    if kind == "reverse" and isinstance(value, list) and len(value) > 1:
        value.reverse()
        return f"reverse:{where}"
    if kind == "string" and isinstance(value, str) and not isinstance(value, E.Num):
        container[key] = rng.choice(strings(doc) + ["", "x"])
        return f"string:{where}"
    return None


def issues(stdout):
    try:
        outcome = json.loads(stdout)
    except ValueError:
        return None
    out = []
    for i in outcome.get("issue", []):
        if i.get("severity") in ("error", "fatal"):
            text = i.get("diagnostics") or ((i.get("details") or {}).get("coding") or [{}])[0].get("display", "")
            out.append((i.get("code"), text))
    return out


def explained(o, u):
    """The class of a difference docs/deviations.md explains, or None."""
    ours = issues(u.stdout) or []
    if o["exit"] == 0 and u.returncode == 1 and ours:
        code, text = ours[0]
        if text == "Required field missing.":
            return "deviation: a value the message needs is refused"
        if text.startswith("invalid JSON"):
            return "deviation: a member of the wrong JSON shape is refused"
        if text.startswith("Bundle.type must be"):
            return "deviation: only a message Bundle is translated"
        if text == "resource has no resourceType" or (
                text.startswith("reference points at a ") and " where a" in text):
            return "deviation: a resource without resourceType, or of another type than its reference expects, is refused"
    if o["exit"] == 1 and u.returncode == 1:
        return "both refuse, first error differs"
    if o["exit"] == 2 and u.returncode == 0 and "Fhir Path Reader unexpectedly got more than 1 result" in o["stderr"]:
        return "deviation: the reference crashes logging duplicate identifiers; ours converts"
    if o["exit"] == 2 and u.returncode == 0 and "Cannot read properties of undefined" in o["stderr"]:
        return "deviation: the reference crashes on an absent member it reads; ours reads the absence as absence"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count-per-kind", type=int, default=300)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--ours", default=D.DEFAULT_OURS)
    ap.add_argument("--oracle", default=D.DEFAULT_ORACLE)
    ap.add_argument("--out", default=os.path.join(D.REPO, "target", "differential-dispensing"))
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated, of: " + " ".join(KINDS))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    oracle = D.OracleDriver(args.oracle)
    different = 0
    results = open(os.path.join(args.out, "results.jsonl"), "w", encoding="utf-8")
    for kind in args.kinds.split(","):
        base = seeds(kind)
        counts = {}
        made = set()
        for index in range(args.count_per_kind):
            rng = random.Random(f"{args.seed}:{kind}:{index}")
            name, doc = rng.choice(base)
            doc = copy.deepcopy(doc)
            labels = [label for label in (edit(doc, rng, kind) for _ in range(rng.randint(1, 3))) if label]
            text = E.dump_json(doc)
            if text in made:
                continue
            made.add(text)
            path = os.path.join(args.out, f"{kind}_{index:05d}.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            o = oracle.ask(["convert", path])
            ours_args = [args.ours, "convert", "--creation-time", D.CONVERT_NOW]
            if kind == "release":
                ours_args += ["--message-id", ORACLE_MESSAGE_ID, "--payload-id", ORACLE_PAYLOAD_ID]
            u = subprocess.run(ours_args + [path], capture_output=True, text=True, encoding="utf-8")
            if o["exit"] == 0 and u.returncode == 0 and o["stdout"] == u.stdout:
                verdict = "identical"
            elif o["exit"] == 1 and u.returncode == 1 and issues(o["stdout"]) == issues(u.stdout):
                verdict = "refused-same"
            elif o["exit"] == 2 and u.returncode == 1:
                verdict = "oracle-crash"
            elif explained(o, u):
                verdict = explained(o, u)
            else:
                verdict = "DIFFERENT"
                different += 1
                print(f"  DIFFERENT {path} (seed {name}, {' '.join(labels)}): oracle exit {o['exit']}, ours {u.returncode}")
                if o["exit"] == 0 and u.returncode == 0:
                    diff = [l for l in difflib.unified_diff(o["stdout"].splitlines(), u.stdout.splitlines(),
                                                            "oracle", "ours", n=1, lineterm="")][2:12]
                    print("    " + "\n    ".join(diff))
                else:
                    print(f"    oracle: {(o['stdout'] or o['stderr'])[:300]!r}")
                    print(f"    ours:   {u.stdout[:300]!r}")
            counts[verdict] = counts.get(verdict, 0) + 1
            results.write(json.dumps({"input": path, "seed": name, "edits": labels, "verdict": verdict}) + "\n")
        total = sum(counts.values())
        print(f"{kind}: {total} distinct inputs: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    oracle.close()
    results.close()
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
