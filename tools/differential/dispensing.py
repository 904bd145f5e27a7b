#!/usr/bin/env python3
"""Differential test of the dispensing messages that are not Bundles: release request
Parameters, return and withdrawal Tasks.

Makes inputs by generic structural edits (remove a member, empty or reorder a list, duplicate a
list item, replace a string by another of the same input, change a status or intent) of the
seeds in golden/rules (`release_*`, `return_*`, `withdraw_*` that the reference converts), runs
`convert` on each with eps-translator and with the reference's oracle (one Node process, see
oracle_driver.js), and counts per kind:

  identical        both converted, the same bytes
  refused-same     both refused with the same issues (code and text, in order)
  oracle-crash     the reference crashed (HTTP 500); we refused, naming the place
  deviation: ...   a difference docs/deviations.md explains: we refuse a value the HL7 v3
                   message needs ("Required field missing.") or a member of the wrong JSON shape
                   where the reference writes the message without it; or we convert a request
                   holding two of what the reference reads once for its log (two owners, two
                   contained Organizations), where the reference crashes
  both refuse, first error differs
                   both refuse, naming different first errors (a different order of checks, or
                   a resource without resourceType, which the reference does not type)
  DIFFERENT        anything else: printed with the input's file name

A release request is converted with the two ids the oracle draws (`--message-id`,
`--payload-id`), so the outputs compare byte for byte.

    python3 tools/differential/dispensing.py [--count-per-kind N] [--seed S] [--out DIR]

Standard library and Node only; needs a build of target/release-quick/eps-translator (or
--ours). Exit status 1 when any input is DIFFERENT.
"""
import argparse
import copy
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
KINDS = ("release", "return", "withdraw")


def seeds(kind):
    out = []
    for p in sorted(glob.glob(os.path.join(D.REPO, "golden", "rules", f"{kind}_*.json"))):
        stem = p[:-len(".json")]
        if "." in os.path.basename(stem) or not os.path.exists(stem + ".oracle.xml"):
            continue
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


def edit(doc, rng):
    spots = list(places(doc))
    if not spots:
        return None
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
    if o["exit"] == 1 and u.returncode == 1:
        return "both refuse, first error differs"
    if o["exit"] == 2 and u.returncode == 0 and "Fhir Path Reader unexpectedly got more than 1 result" in o["stderr"]:
        return "deviation: the reference crashes logging duplicate identifiers; ours converts"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count-per-kind", type=int, default=300)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--ours", default=D.DEFAULT_OURS)
    ap.add_argument("--oracle", default=D.DEFAULT_ORACLE)
    ap.add_argument("--out", default=os.path.join(D.REPO, "target", "differential-dispensing"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    oracle = D.OracleDriver(args.oracle)
    different = 0
    for kind in KINDS:
        base = seeds(kind)
        counts = {}
        made = set()
        for index in range(args.count_per_kind):
            rng = random.Random(f"{args.seed}:{kind}:{index}")
            name, doc = rng.choice(base)
            doc = copy.deepcopy(doc)
            labels = [label for label in (edit(doc, rng) for _ in range(rng.randint(1, 3))) if label]
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
                print(f"    oracle: {o['stdout'][:300]!r}")
                print(f"    ours:   {u.stdout[:300]!r}")
            counts[verdict] = counts.get(verdict, 0) + 1
        total = sum(counts.values())
        print(f"{kind}: {total} distinct inputs: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    oracle.close()
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
