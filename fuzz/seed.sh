#!/usr/bin/env bash
# Builds the fuzz seed corpora and dictionaries from the shared reference corpus:
#
#   fuzz/seed.sh [SHARED_DIR]      (default: $EPS_SHARED_DIR, else ../shared beside the repo)
#
# Writes fuzz/corpus/<target>/ (one seed per file, named by content hash) and
# fuzz/corpus/<target>.dict (the committed fuzz/dict/*.dict plus tokens taken from the
# shared corpus). fuzz/corpus/ is ignored by git: the shared corpus is never committed.
# Running it again adds what is missing and keeps what a campaign has grown.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
shared="${1:-${EPS_SHARED_DIR:-$repo/../shared}}"
if [ ! -d "$shared/eps-examples" ]; then
  echo "seed.sh: no shared corpus at $shared (pass its path, or set EPS_SHARED_DIR)" >&2
  exit 1
fi
exec python3 - "$shared" "$repo" <<'PY'
import base64, glob, hashlib, json, os, re, sys

shared, repo = sys.argv[1], sys.argv[2]
out = os.path.join(repo, "fuzz", "corpus")
counts = {}

def seed(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    counts[target] = counts.get(target, 0) + 1

def files(*patterns):
    for p in patterns:
        yield from sorted(glob.glob(os.path.join(shared, p), recursive=True))

def read(path):
    with open(path, "rb") as f:
        return f.read()

# FHIR JSON: convert, prepare, verify and the structure-aware target take Bundles.
json_inputs = list(files("eps-examples/**/*.json")) + sorted(
    glob.glob(os.path.join(repo, "golden", "convert", "*.json")))
signatures = []
for path in json_inputs:
    data = read(path)
    try:
        value = json.loads(data)
    except ValueError:
        continue
    if not isinstance(value, dict):
        continue
    if value.get("resourceType") == "Bundle":
        for target in ("convert", "prepare", "bundle_json"):
            seed(target, data)
    before = len(signatures)
    for entry in value.get("entry", []) if isinstance(value.get("entry"), list) else []:
        resource = entry.get("resource", {}) if isinstance(entry, dict) else {}
        for sig in resource.get("signature", []) if isinstance(resource, dict) else []:
            try:
                signatures.append(base64.b64decode(sig["data"], validate=False))
            except Exception:
                pass
    if len(signatures) > before and value.get("resourceType") == "Bundle":
        seed("verify", data)

# HL7 v3 XML: to-fhir and verify; the signed prescriptions' Signature elements.
for path in files("eps-examples/**/*.xml", "eps-release-responses/**/*.xml",
                  "eps-spine-responses/**/*.xml", "eps-signatures/signed-prescriptions/*.xml"):
    data = read(path)
    seed("to_fhir", data)
    if b"Signature" in data:
        seed("verify", data)
        for m in re.finditer(rb"<(\w+:)?Signature[ >].*?</(\w+:)?Signature>", data, re.S):
            signatures.append(m.group(0))
for path in sorted(glob.glob(os.path.join(repo, "golden", "to-fhir", "*.xml"))):
    seed("to_fhir", read(path))
for sig in signatures:
    seed("bundle_signature", sig)
    seed("c14n", b"0" + b"\n" + sig)
    seed("c14n", b"0//ds:SignedInfo||ds=http://www.w3.org/2000/09/xmldsig#\n" + sig)

# C14N vectors: the header line carries mode, selector, prefix list and bindings
# (see C14nRequest in fuzz/src/lib.rs).
modes = {"exc": "0", "exc-with-comments": "1", "c14n10": "2", "c14n10-with-comments": "3",
         "c14n11": "2", "c14n11-with-comments": "3", "c14n2": "0", "c14n2-with-comments": "1"}
manifest = json.load(open(os.path.join(shared, "c14n-vectors", "manifest.json")))
for case in manifest["cases"]:
    doc = read(os.path.join(shared, "c14n-vectors", case["input"]))
    sel = case.get("selection", {})
    subtree = sel.get("xpath", "") if sel.get("type") == "subtree" else sel.get("equivalent_subtree", "")
    prefixes = " ".join(case.get("prefixes") or [])
    bindings = " ".join(f"{p}={u}" for p, u in (sel.get("ns") or {}).items())
    header = f"{modes.get(case['mode'], '0')}{subtree}|{prefixes}|{bindings}"
    if "\n" in header:
        continue
    seed("c14n", header.encode() + b"\n" + doc)

# Dictionaries: the committed token lists plus names and strings from the corpus.
def dictionary(target, base, extra):
    lines = set()
    for b in base:
        with open(os.path.join(repo, "fuzz", "dict", b)) as f:
            lines.update(l.rstrip("\n") for l in f if l.strip() and not l.startswith("#"))
    for t in extra:
        if 0 < len(t) <= 64 and t.isascii() and t.isprintable():
            lines.add(json.dumps(t, ensure_ascii=True))
    with open(os.path.join(out, target + ".dict"), "w") as f:
        f.write("\n".join(sorted(lines)) + "\n")

json_tokens = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            json_tokens.add(f'"{k}":')
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
    elif isinstance(v, str) and (v.startswith("http") or len(v) <= 24):
        json_tokens.add(f'"{v}"')
for path in json_inputs:
    try:
        walk(json.loads(read(path)))
    except ValueError:
        pass
xml_tokens = set()
for path in files("eps-examples/**/*.xml", "eps-signatures/signed-prescriptions/*.xml"):
    text = read(path).decode("utf-8", "replace")
    xml_tokens.update("<" + n for n in re.findall(r"<([A-Za-z][\w:.-]*)", text))
    xml_tokens.update(" " + n + "=" for n in re.findall(r"\s([A-Za-z][\w:.-]*)=", text))
    xml_tokens.update(re.findall(r'="([^"<&]{1,40})"', text))
for t in ("convert", "prepare", "bundle_json", "verify"):
    dictionary(t, ["fhir.dict"], json_tokens)
for t in ("to_fhir", "c14n", "bundle_signature"):
    dictionary(t, ["xml.dict"], xml_tokens)
for target, n in sorted(counts.items()):
    print(f"{target}: {len(os.listdir(os.path.join(out, target)))} seeds ({n} offered)")
PY
