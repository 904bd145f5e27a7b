#!/usr/bin/env python3
"""Differential test of eps-translator against the reference implementation (the oracle).

Makes many prescription-order / prescription-order-update Bundles from seed Bundles by structural
edits (edits.py), runs `convert` and `prepare` on each with both implementations, compares the
answers and writes a report that groups the differences into classes.

    python3 tools/differential/differential.py            # 3,000 inputs, seed 1

See README.md beside this file for the options, the output and how to read the report.
"""
import argparse
import concurrent.futures
import datetime
import difflib
import fnmatch
import glob
import hashlib
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import edits as E  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SHARED = os.environ.get("EPS_SHARED_DIR", os.path.normpath(os.path.join(REPO, "..", "shared")))
DEFAULT_ORACLE = os.path.join(SHARED, "tools", "eps-reference", "oracle.js")
DEFAULT_OURS = os.path.join(REPO, "target", "release-quick", "eps-translator")
CONVERT_NOW = "2022-02-01T00:00:00Z"
PREPARE_NOW = "2024-12-09T11:50:04+00:00"
OPS = ("convert", "prepare")

CATEGORIES = [
    ("identical", "both accepted, identical"),
    ("refused-same", "both refused, same issues"),
    ("refused-message", "both refused, message differs"),
    ("accept-refuse", "accept/refuse mismatch"),
    ("output-differs", "both accepted, output differs"),
    ("oracle-crash", "oracle crashed (HTTP 500)"),
    ("ours-failed", "ours failed (no answer)"),
]
DIFF_CATEGORIES = {"refused-message", "accept-refuse", "output-differs", "oracle-crash", "ours-failed"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Seeds and generation


def find_seeds():
    paths = sorted(p for p in glob.glob(os.path.join(REPO, "golden", "convert", "*.json"))
                   if not os.path.basename(p).startswith("err_"))
    ex = os.path.join(SHARED, "eps-examples")
    for pat in ("*-Process-Request-Send-200_OK.json", "*-Process-Request-Cancel-200_OK.json",
                "*-Prepare-Request-200_OK.json"):
        paths += sorted(glob.glob(os.path.join(ex, "**", pat), recursive=True))
    seeds, seen = [], set()
    for p in paths:
        with open(p, "rb") as f:
            raw = f.read()
        try:
            tree = E.load_json(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        canon = E.dump_json(tree)
        if canon in seen:
            continue
        seen.add(canon)
        seeds.append((seed_slug(p), p, canon))
    return seeds


def seed_slug(path):
    if path.startswith(os.path.join(REPO, "golden")):
        return "golden-" + os.path.splitext(os.path.basename(path))[0]
    rel = os.path.relpath(path, os.path.join(SHARED, "eps-examples"))
    parts = rel.replace(".json", "").split(os.sep)
    abbrev = {"primary-care": "pc", "secondary-care": "sc", "nominated-pharmacy": "nom", "no-nominated-pharmacy": "nonom",
              "medical-prescriber": "med", "clinical-practitioner": "clin", "repeat-dispensing": "rd",
              "homecare": "hc", "community": "com", "prescribing-and-professional-codes": "ppc",
              "controlled-drugs": "cd", "responsible-party": "rp", "responsible-party-org": "rporg"}
    short = [abbrev.get(x, x) for x in parts[:-1]]
    last = parts[-1].replace("-Process-Request-", "-").replace("-Request-200_OK", "").replace("-200_OK", "")
    return "ex-" + "-".join(short + [last])


SAFE = re.compile(r"[^A-Za-z0-9._=,+()\[\]-]+")


def case_name(index, slug, labels):
    text = f"{index:05d}_{slug}__" + ("+".join(labels) if labels else "seed")
    text = SAFE.sub("_", text)
    return text[:200]


def make_case(seeds, seed, index):
    """The Bundle of case `index`: a function of (seed, index) only."""
    rng = random.Random(f"{seed}:{index}")
    slug, path, canon = seeds[rng.randrange(len(seeds))]
    bundle = E.load_json(canon)
    labels = []
    for edit in E.choose_edits(rng):
        try:
            label = edit(bundle, rng)
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            label = None
        if label:
            labels.append(label)
    return slug, path, labels, E.dump_json(bundle)


def generate(seeds, seed, count, only=None):
    """Unedited seeds first, then edited cases until `count` distinct inputs."""
    cases, seen = [], set()
    for slug, path, canon in seeds:
        seen.add(canon)
        if only is None:
            cases.append({"name": SAFE.sub("_", f"seed_{slug}"), "seed": path, "edits": [], "text": canon})
    if only is not None:
        for index in only:
            slug, path, labels, text = make_case(seeds, seed, index)
            cases.append({"name": case_name(index, slug, labels), "seed": path, "edits": labels, "text": text})
        return cases
    index = 0
    while len(cases) < count and index < count * 20:
        slug, path, labels, text = make_case(seeds, seed, index)
        index += 1
        if not labels or text in seen:
            continue
        seen.add(text)
        cases.append({"name": case_name(index - 1, slug, labels), "seed": path, "edits": labels, "text": text})
    return cases


# --------------------------------------------------------------------------------------------
# Oracle


class OracleDriver:
    """One `node oracle_driver.js` process answering requests in turn."""

    def __init__(self, oracle):
        self.oracle = oracle
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["nice", "-n", "10", "node", os.path.join(HERE, "oracle_driver.js"), self.oracle],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8", bufsize=1)

    def ask(self, args):
        for attempt in range(2):
            if self.proc is None or self.proc.poll() is not None:
                self.start()
            try:
                self.proc.stdin.write(json.dumps({"id": 0, "args": args}) + "\n")
                self.proc.stdin.flush()
                line = self.proc.stdout.readline()
                if line:
                    r = json.loads(line)
                    return {"exit": r["exit"], "stdout": r["stdout"], "stderr": r["stderr"]}
            except (BrokenPipeError, OSError, ValueError):
                pass
            self.close()
        return {"exit": 70, "stdout": "", "stderr": "oracle driver died"}

    def close(self):
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
            self.proc = None


def per_file_oracle(oracle, args):
    p = subprocess.run(["nice", "-n", "10", "node", oracle] + args, capture_output=True, text=True,
                       encoding="utf-8", timeout=120)
    return {"exit": p.returncode, "stdout": p.stdout, "stderr": p.stderr}


class Oracle:
    """Oracle answers, cached on disk by the hash of (oracle.js, subcommand, input bytes)."""

    def __init__(self, oracle, cache_dir, jobs, per_file):
        self.oracle = oracle
        self.cache_dir = cache_dir
        self.jobs = jobs
        self.per_file = per_file
        with open(oracle, "rb") as f:
            self.fingerprint = hashlib.sha256(f.read()).hexdigest()[:16]
        os.makedirs(cache_dir, exist_ok=True)
        self.hits = 0
        self.calls = 0

    def key(self, op, data):
        h = hashlib.sha256()
        h.update(f"{self.fingerprint}\n{op}\n".encode())
        h.update(data)
        return h.hexdigest()

    def cache_path(self, key):
        return os.path.join(self.cache_dir, key[:2], key + ".json")

    def run_all(self, requests, progress=None):
        """requests: list of (op, path, data). Returns the answers in order."""
        answers = [None] * len(requests)
        todo = queue.Queue()
        for i, (op, path, data) in enumerate(requests):
            k = self.key(op, data)
            cp = self.cache_path(k)
            if os.path.exists(cp):
                with open(cp, encoding="utf-8") as f:
                    answers[i] = json.load(f)
                self.hits += 1
            else:
                todo.put((i, op, path, k))
        pending = todo.qsize()
        done = [0]
        lock = threading.Lock()

        def worker():
            driver = None if self.per_file else OracleDriver(self.oracle)
            try:
                while True:
                    try:
                        i, op, path, k = todo.get_nowait()
                    except queue.Empty:
                        return
                    args = [op, path]
                    a = per_file_oracle(self.oracle, args) if driver is None else driver.ask(args)
                    answers[i] = a
                    if a["exit"] in (0, 1, 2):
                        cp = self.cache_path(k)
                        os.makedirs(os.path.dirname(cp), exist_ok=True)
                        tmp = cp + f".{threading.get_ident()}.tmp"
                        with open(tmp, "w", encoding="utf-8") as f:
                            json.dump(a, f)
                        os.replace(tmp, cp)
                    with lock:
                        done[0] += 1
                        self.calls += 1
                        if progress and done[0] % 250 == 0:
                            progress(f"oracle: {done[0]}/{pending}")
            finally:
                if driver is not None:
                    driver.close()

        threads = [threading.Thread(target=worker) for _ in range(max(1, self.jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return answers


# --------------------------------------------------------------------------------------------
# Ours


def run_ours(ours, op, path):
    if op == "convert":
        args = [ours, "convert", "--creation-time", CONVERT_NOW, path]
    elif op == "prepare":
        args = [ours, "prepare", "--signing-time", PREPARE_NOW, path]
    elif op == "fragments":
        args = [ours, "prepare", "--signing-time", PREPARE_NOW, "--show", "fragments", path]
    else:
        raise ValueError(op)
    try:
        p = subprocess.run(["nice", "-n", "10"] + args, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return {"exit": 124, "stdout": "", "stderr": "timeout"}
    return {"exit": p.returncode, "stdout": p.stdout.decode("utf-8", "replace"),
            "stderr": p.stderr.decode("utf-8", "replace")}


def run_ours_all(ours, requests, jobs, progress=None):
    answers = [None] * len(requests)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futs = {pool.submit(run_ours, ours, op, path): i for i, (op, path, _) in enumerate(requests)}
        for n, fut in enumerate(concurrent.futures.as_completed(futs), 1):
            answers[futs[fut]] = fut.result()
            if progress and n % 500 == 0:
                progress(f"ours: {n}/{len(requests)}")
    return answers


# --------------------------------------------------------------------------------------------
# Comparison

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def mask(text, limit=160):
    text = UUID_RE.sub("<uuid>", text or "")
    text = re.sub(r"urn:uuid:<uuid>", "<ref>", text)
    text = re.sub(r"\d{3,}", "<n>", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit] + "…"


def issues_of(stdout):
    try:
        oo = json.loads(stdout)
    except ValueError:
        return None
    out = []
    for i in oo.get("issue") or []:
        expr = i.get("expression")
        details = None
        codings = (i.get("details") or {}).get("coding") if isinstance(i.get("details"), dict) else None
        if isinstance(codings, list) and codings and isinstance(codings[0], dict):
            details = (codings[0].get("code"), codings[0].get("display"))
        out.append((i.get("code"), i.get("diagnostics"), details, tuple(expr) if isinstance(expr, list) else expr))
    return out


def refusal_key(stdout):
    """What two refusals must share to count as the same: each error issue's code and text (the
    diagnostics, or the display of its Spine coding where the reference puts the text there).
    Where the place is named (the reference's type-relative FHIRPath or none; ours a Bundle
    FHIRPath) is not compared: docs/deviations.md."""
    try:
        oo = json.loads(stdout)
    except ValueError:
        return None
    key = []
    for i in oo.get("issue") or []:
        if i.get("severity") not in ("error", "fatal"):
            continue
        codings = (i.get("details") or {}).get("coding") if isinstance(i.get("details"), dict) else None
        display = codings[0].get("display") if isinstance(codings, list) and codings and isinstance(codings[0], dict) else None
        key.append((i.get("code"), re.sub(r"\s+", " ", i.get("diagnostics") or display or "").strip()))
    return key


def issue_text(issue):
    code, diag, details, expr = issue
    e = ", ".join(map(str, expr)) if isinstance(expr, tuple) else str(expr or "")
    msg = diag if diag is not None else ""
    if details:
        msg = (msg + " " if msg else "") + f"[{details[0]}] {details[1]}"
    return f"{code}: {msg}" + (f" @ {e}" if e else "")


def shape_difference(a, b):
    """What differs between two issues with the same message text (oracle a, ours b)."""
    parts = []
    if a[0] != b[0]:
        parts.append(f"code {a[0]} vs {b[0]}")
    da, db = (a[2] or (None,))[0], (b[2] or (None,))[0]
    if (a[1] is None) != (b[1] is None) or da != db:
        ka = f"details {da}" if da else "diagnostics"
        kb = f"details {db}" if db else "diagnostics"
        if ka != kb:
            parts.append(f"text in {ka} vs {kb}")
    if a[3] != b[3]:
        parts.append("expression differs")
    return "; ".join(parts) if parts else "whitespace differs"


def message_text(issue):
    code, diag, details, expr = issue
    text = diag if diag else (details[1] if details else "")
    return re.sub(r"\s+", " ", text or "").strip()


def mask_issue(text):
    text = re.sub(r"\[\d+\]", "[*]", text)
    text = re.sub(r"(Received|But got:) .*?(?= @ |$)", r"\1 …", text)
    text = re.sub(r"'(?!https?:)[^']*'", "'…'", text)
    text = re.sub(r"line \d+ column \d+", "line … column …", text)
    return mask(text)


def verdict(ans, side):
    e = ans["exit"]
    if e == 0:
        return "ok"
    if e == 1:
        return "refused"
    if side == "oracle" and e == 2:
        return "crash"
    return "failed"


def strip_ns(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


def xml_first_diff(a_text, b_text):
    """(path, what) of the first difference between two XML documents, or None."""
    try:
        a = ET.fromstring(a_text.encode("utf-8"))
        b = ET.fromstring(b_text.encode("utf-8"))
    except ET.ParseError as e:
        try:
            a = ET.fromstring(("<fragments>" + a_text + "</fragments>").encode("utf-8"))
            b = ET.fromstring(("<fragments>" + b_text + "</fragments>").encode("utf-8"))
        except ET.ParseError:
            return ("(unparsable)", f"XML does not parse: {e}")

    def walk(x, y, path):
        tx, ty = strip_ns(x.tag), strip_ns(y.tag)
        if tx != ty:
            return (path, f"element <{tx}> (oracle) vs <{ty}> (ours)")
        here = f"{path}/{tx}"
        for k in sorted(set(x.attrib) | set(y.attrib)):
            if x.attrib.get(k) != y.attrib.get(k):
                kk = strip_ns(k)
                if k not in y.attrib:
                    return (f"{here}/@{kk}", "attribute missing in ours")
                if k not in x.attrib:
                    return (f"{here}/@{kk}", "attribute extra in ours")
                if not y.attrib[k] or not x.attrib[k]:
                    return (f"{here}/@{kk}", "attribute value differs: " + ("ours empty" if x.attrib[k] else "oracle empty"))
                return (f"{here}/@{kk}", "attribute value differs: " + text_change(x.attrib[k], y.attrib[k]))
        if (x.text or "").strip() != (y.text or "").strip():
            return (f"{here}/text()", "text differs: " + text_change((x.text or "").strip(), (y.text or "").strip()))
        xc, yc = list(x), list(y)
        for cx, cy in zip(xc, yc):
            if strip_ns(cx.tag) != strip_ns(cy.tag):
                xs = [strip_ns(c.tag) for c in xc]
                ys = [strip_ns(c.tag) for c in yc]
                if strip_ns(cy.tag) in xs[xc.index(cx):]:
                    return (f"{here}/{strip_ns(cx.tag)}", "element missing in ours")
                if strip_ns(cx.tag) in ys[yc.index(cy):]:
                    return (f"{here}/{strip_ns(cy.tag)}", "element extra in ours")
                return (f"{here}/{strip_ns(cx.tag)}", f"element <{strip_ns(cx.tag)}> (oracle) vs <{strip_ns(cy.tag)}> (ours)")
            r = walk(cx, cy, here)
            if r:
                return r
        if len(xc) > len(yc):
            return (f"{here}/{strip_ns(xc[len(yc)].tag)}", "element missing in ours")
        if len(yc) > len(xc):
            return (f"{here}/{strip_ns(yc[len(xc)].tag)}", "element extra in ours")
        if (x.tail or "").strip() != (y.tail or "").strip():
            return (f"{here}/tail()", "text differs")
        return None

    r = walk(a, b, "")
    if r is None:
        return ("(serialisation)", "same tree, different bytes")
    return r


TAG_RE = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(/?)([A-Za-z_][\w:.-]*)[^>]*?(/?)>", re.S)


def line_first_diff(a, b):
    """(element path, what) of the first differing line, for output that only differs in
    serialisation or does not parse."""
    al, bl = a.splitlines(), b.splitlines()
    n = next((i for i, (x, y) in enumerate(zip(al, bl)) if x != y), min(len(al), len(bl)))
    prefix = "\n".join(al[:n])
    stack = []
    for m in TAG_RE.finditer(prefix):
        if m.group(2) is None or m.group(3):
            continue
        if m.group(1):
            if stack and stack[-1] == m.group(2):
                stack.pop()
        else:
            stack.append(m.group(2))
    x = al[n] if n < len(al) else ""
    y = bl[n] if n < len(bl) else ""
    kinds = [k for k, mark in (("CDATA", "<![CDATA["), ("comment", "<!--"), ("processing instruction", "<?"),
                               ("character reference", "&#")) if mark in x or mark in y]
    what = "serialisation differs" + (f": {', '.join(kinds)}" if kinds else "")
    return ("/" + "/".join(strip_ns(t) for t in stack), what)


def text_change(a, b):
    """The first change from text a (oracle) to text b (ours), in a few stable words."""
    def clip(t):
        t = re.sub(r"\d+", "#", t)
        return t if len(t) <= 12 else t[:12] + "…"
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "insert":
            return f"ours adds «{clip(b[j1:j2])}»"
        if tag == "delete":
            return f"ours lacks «{clip(a[i1:i2])}»"
        if tag == "replace":
            return f"«{clip(a[i1:i2])}» becomes «{clip(b[j1:j2])}»"
    return "white space"


def short_path(path):
    for anchor in ("/ParentPrescription/", "/CancellationRequest/", "/FragmentsToBeHashed/"):
        if anchor in path:
            return anchor.strip("/") + "/…/" + "/".join(path.split(anchor, 1)[1].split("/")[-5:])
    parts = path.strip("/").split("/")
    return "/".join(parts[-6:])


def diff_excerpt(a, b, limit=14):
    lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), "oracle", "ours", n=2, lineterm=""))
    if len(lines) > limit:
        lines = lines[:limit] + [f"… ({len(lines) - limit} more diff lines)"]
    return "\n".join(lines)


def compare(op, o, u):
    """(category, signature, excerpt) for one input and one operation."""
    vo, vu = verdict(o, "oracle"), verdict(u, "ours")
    if vo == "crash":
        err = next((ln for ln in o["stderr"].splitlines() if ln.startswith("uncaught:")), o["stderr"][:120])
        err = err.replace("uncaught: ", "")
        frames = [m.group(1) for m in re.finditer(r"^\s+at ([\w.$<>]+) \(", o["stderr"], re.M)
                  if not m.group(1).startswith(("Array.", "Generator.", "Object.<anonymous>", "new "))][:2]
        where = " in " + " < ".join(frames) if frames else ""
        ours = {"ok": "accepts", "refused": "refuses", "failed": "fails"}[vu]
        message = None
        if vu == "refused":
            iu = issues_of(u["stdout"]) or []
            message = mask_issue(issue_text(iu[0])) if iu else "?"
        return ("oracle-crash", f"{op}: oracle crashes ({mask(err, 100)}{where}); ours {ours}",
                "\n".join(o["stderr"].splitlines()[:6]) + "\n--- ours ---\n" + u["stdout"][:400], message)
    if vu == "failed" or vo == "failed":
        who = "ours" if vu == "failed" else "oracle"
        ans = u if vu == "failed" else o
        return ("ours-failed", f"{op}: {who} exits {ans['exit']} ({mask(ans['stderr'].strip().splitlines()[-1] if ans['stderr'].strip() else '', 100)})",
                ans["stderr"][-800:])
    if vo == "refused" and vu == "refused":
        io, iu = issues_of(o["stdout"]), issues_of(u["stdout"])
        if io == iu or refusal_key(o["stdout"]) == refusal_key(u["stdout"]):
            return ("refused-same", None, None)
        io, iu = io or [], iu or []
        k = next((j for j in range(min(len(io), len(iu))) if io[j] != iu[j]), None)
        if k is None:
            k = min(len(io), len(iu))
        fo = issue_text(io[k]) if k < len(io) else "(no further issue)"
        fu = issue_text(iu[k]) if k < len(iu) else "(no further issue)"
        ours_message = mask_issue(fu)
        if k >= len(io):
            sig = f"{op}: both refuse, ours adds an issue: «{mask_issue(fu)}»"
        elif k >= len(iu):
            sig = f"{op}: both refuse, oracle adds an issue: «{mask_issue(fo)}»"
        elif message_text(io[k]) == message_text(iu[k]):
            sig = f"{op}: both refuse, same text, {shape_difference(io[k], iu[k])}"
        else:
            sig = f"{op}: both refuse, different message: oracle «{mask_issue(fo)}»"
        excerpt = "oracle:\n" + "\n".join("  " + issue_text(i) for i in io) + "\nours:\n" + "\n".join("  " + issue_text(i) for i in iu)
        return ("refused-message", sig, excerpt, ours_message)
    if vo == "refused" and vu == "ok":
        io = issues_of(o["stdout"]) or []
        sig = f"{op}: oracle refuses «{mask_issue(issue_text(io[0])) if io else '?'}», ours accepts"
        return ("accept-refuse", sig, "oracle:\n" + "\n".join("  " + issue_text(i) for i in io))
    if vo == "ok" and vu == "refused":
        iu = issues_of(u["stdout"]) or []
        first = mask_issue(issue_text(iu[0])) if iu else "?"
        # a JSON type error is one rule whichever element it is found in
        general = re.sub(r"^(value: invalid JSON: invalid type: .*?) at line … column … @ .*$", r"\1 (any element)", first)
        sig = f"{op}: ours refuses «{general}», oracle accepts"
        return ("accept-refuse", sig, "ours:\n" + "\n".join("  " + issue_text(i) for i in iu), first)
    # both accepted
    if op == "convert":
        if o["stdout"] == u["stdout"]:
            return ("identical", None, None)
        if o["stdout"].rstrip("\n") == u["stdout"].rstrip("\n"):
            return ("output-differs", f"{op}: trailing newline differs", repr(o["stdout"][-20:]) + " vs " + repr(u["stdout"][-20:]))
        path, what = xml_first_diff(o["stdout"], u["stdout"])
        if path in ("(serialisation)", "(unparsable)"):
            path, what = line_first_diff(o["stdout"], u["stdout"])
        path = re.sub(r"\[\d+\]", "", path)
        return ("output-differs", f"{op}: XML differs at {short_path(path)} ({what})", diff_excerpt(o["stdout"], u["stdout"]))
    po, pu = prepare_fields(o["stdout"]), prepare_fields(u["stdout"])
    if po == pu:
        return ("identical", None, None)
    what = [k for k in ("digest", "timestamp", "algorithm") if po.get(k) != pu.get(k)]
    excerpt = "\n".join(f"{k}: oracle {str(po.get(k))[:70]} | ours {str(pu.get(k))[:70]}" for k in what)
    if what == ["timestamp"] or what == ["algorithm"]:
        return ("output-differs", f"{op}: {what[0]} differs", excerpt)
    return ("output-differs", f"{op}: {'+'.join(what)} differs", excerpt)   # refined with fragments later


def prepare_fields(stdout):
    try:
        p = json.loads(stdout)
    except ValueError:
        return {"unparsable": stdout[:80]}
    out = {}
    for prm in p.get("parameter") or []:
        out[prm.get("name")] = prm.get("valueString", prm.get("valueCode"))
    return out


# --------------------------------------------------------------------------------------------
# Allowlist


def load_allowlist(path):
    rules = []
    if not path or not os.path.exists(path):
        return rules
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            rules.append((parts[0].strip(), parts[1].strip(), parts[2].strip()))
    return rules


def explained(rules, op, signature):
    for rop, pattern, reason in rules:
        if rop in ("*", op) and fnmatch.fnmatchcase(signature, pattern):
            return reason
    return None


# --------------------------------------------------------------------------------------------
# Main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=3000, help="inputs, unedited seeds included (default 3000)")
    ap.add_argument("--seed", default="1", help="random seed (default 1)")
    ap.add_argument("--ours", default=DEFAULT_OURS, help="eps-translator binary")
    ap.add_argument("--oracle", default=DEFAULT_ORACLE, help="oracle.js")
    ap.add_argument("--out", default=os.path.join(REPO, "target", "differential"), help="output directory")
    ap.add_argument("--report", default=None, help="report file (default OUT/report.md)")
    ap.add_argument("--allowlist", default=os.path.join(HERE, "allowlist.tsv"),
                    help="documented deviations: op<TAB>signature glob<TAB>reason")
    ap.add_argument("--jobs", type=int, default=2, help="processes at a time (default 2)")
    ap.add_argument("--oracle-per-file", action="store_true",
                    help="one `node oracle.js` per call instead of the long-lived driver")
    ap.add_argument("--case", action="append", type=int, default=None,
                    help="only case INDEX (the 5-digit number that starts a case name); repeatable")
    ap.add_argument("--ops", default="convert,prepare", help="operations to compare (default convert,prepare)")
    ap.add_argument("--examples", type=int, default=3, help="example inputs listed per class in the report")
    args = ap.parse_args()

    started = time.time()
    out = os.path.abspath(args.out)
    report_path = args.report or os.path.join(out, "report.md")
    ops = [x for x in args.ops.split(",") if x in OPS]
    if not os.path.exists(args.ours):
        log(f"waiting for {args.ours} …")
        while not os.path.exists(args.ours):
            time.sleep(15)
        time.sleep(5)

    seeds = find_seeds()
    cases = generate(seeds, args.seed, args.count, only=args.case)
    inputs_dir = os.path.join(out, "inputs")
    shutil.rmtree(inputs_dir, ignore_errors=True)
    os.makedirs(inputs_dir)
    for c in cases:
        c["path"] = os.path.join(inputs_dir, c["name"] + ".json")
        c["data"] = c["text"].encode("utf-8")
        with open(c["path"], "wb") as f:
            f.write(c["data"])
    t_gen = time.time() - started
    log(f"{len(cases)} inputs from {len(seeds)} seeds ({t_gen:.1f} s)")

    requests = [(op, c["path"], c["data"]) for c in cases for op in ops]
    oracle = Oracle(args.oracle, os.path.join(out, "cache", "oracle"), args.jobs, args.oracle_per_file)
    t0 = time.time()
    o_answers = oracle.run_all(requests, progress=log)
    t_oracle = time.time() - t0
    log(f"oracle: {oracle.calls} calls, {oracle.hits} cached ({t_oracle:.0f} s)")
    t0 = time.time()
    u_answers = run_ours_all(args.ours, requests, args.jobs, progress=log)
    t_ours = time.time() - t0
    log(f"ours: {len(requests)} calls ({t_ours:.0f} s)")

    rules = load_allowlist(args.allowlist)
    results = []
    edits_of = {c["path"]: [re.sub(r"\(.*", "", e) for e in c["edits"]] for c in cases}
    for (op, path, data), o, u in zip(requests, o_answers, u_answers):
        cat, sig, excerpt, *rest = compare(op, o, u)
        results.append({"op": op, "path": path, "cat": cat, "sig": sig, "excerpt": excerpt, "o": o, "u": u,
                        "ours_message": rest[0] if rest else None, "edits": edits_of.get(path, [])})

    # Digest differences: name the first difference in the hashed fragments.
    frag = [r for r in results if r["op"] == "prepare" and r["cat"] == "output-differs" and "digest" in r["sig"]]
    if frag:
        freqs = [("fragments", r["path"], open(r["path"], "rb").read()) for r in frag]
        fo = oracle.run_all(freqs)
        fu = run_ours_all(args.ours, freqs, args.jobs)
        for r, a, b in zip(frag, fo, fu):
            if a["exit"] == 0 and b["exit"] == 0:
                if a["stdout"] == b["stdout"]:
                    r["sig"] += " (hashed fragments equal)"
                else:
                    path, what = xml_first_diff(a["stdout"], b["stdout"])
                    path = re.sub(r"\[\d+\]", "", path)
                    r["sig"] = f"prepare: digest differs; fragments differ at {short_path(path)} ({what})"
                    r["excerpt"] = diff_excerpt(a["stdout"].replace("><", ">\n<"), b["stdout"].replace("><", ">\n<"))
            else:
                r["sig"] += f" (fragments: oracle exit {a['exit']}, ours exit {b['exit']})"

    for r in results:
        r["reason"] = explained(rules, r["op"], r["sig"]) if r["sig"] else None

    write_outputs(args, out, report_path, cases, seeds, results, oracle,
                  {"generate": t_gen, "oracle": t_oracle, "ours": t_ours, "total": time.time() - started}, ops)


def write_outputs(args, out, report_path, cases, seeds, results, oracle, times, ops):
    # counts
    counts = {op: {k: 0 for k, _ in CATEGORIES} for op in ops}
    expl = {op: 0 for op in ops}
    for r in results:
        counts[r["op"]][r["cat"]] += 1
        if r["reason"]:
            expl[r["op"]] += 1
    # classes
    classes = {}
    for r in results:
        if r["cat"] not in DIFF_CATEGORIES:
            continue
        classes.setdefault(r["sig"], []).append(r)
    ordered = sorted(classes.items(), key=lambda kv: (kv[1][0]["reason"] is not None, kv[1][0]["op"], -len(kv[1]), kv[0]))
    diff_dir = os.path.join(out, "differences")
    shutil.rmtree(diff_dir, ignore_errors=True)
    os.makedirs(diff_dir)
    class_rows = []
    for n, (sig, rs) in enumerate(ordered, 1):
        cid = f"C{n:02d}"
        cdir = os.path.join(diff_dir, f"{cid}-{rs[0]['op']}")
        os.makedirs(cdir, exist_ok=True)
        with open(os.path.join(cdir, "CLASS.txt"), "w", encoding="utf-8") as f:
            f.write(sig + "\n")
            if rs[0]["reason"]:
                f.write(f"explained: {rs[0]['reason']}\n")
        kept = []
        for r in rs:
            base = os.path.splitext(os.path.basename(r["path"]))[0]
            dst = os.path.join(cdir, base + ".json")
            shutil.copyfile(r["path"], dst)
            ext = "xml" if r["op"] == "convert" and r["o"]["exit"] == 0 else "json"
            with open(os.path.join(cdir, f"{base}.oracle-{r['op']}.{ext}"), "w", encoding="utf-8") as f:
                f.write(r["o"]["stdout"])
            uext = "xml" if r["op"] == "convert" and r["u"]["exit"] == 0 else "json"
            with open(os.path.join(cdir, f"{base}.ours-{r['op']}.{uext}"), "w", encoding="utf-8") as f:
                f.write(r["u"]["stdout"])
            kept.append(dst)
        # the smallest inputs make the best examples
        kept.sort(key=lambda p: (os.path.basename(p).count("+"), os.path.getsize(p)))
        ours_messages, edit_counts = {}, {}
        for r in rs:
            if r["ours_message"]:
                ours_messages[r["ours_message"]] = ours_messages.get(r["ours_message"], 0) + 1
            for e in set(r["edits"]) or {"(unedited seed)"}:
                edit_counts[e] = edit_counts.get(e, 0) + 1
        class_rows.append({"id": cid, "op": rs[0]["op"], "cat": rs[0]["cat"], "signature": sig, "count": len(rs),
                           "ours_messages": sorted(ours_messages.items(), key=lambda kv: -kv[1]),
                           "edits": sorted(edit_counts.items(), key=lambda kv: -kv[1])[:4],
                           "inputs": sorted(r["path"] for r in rs),
                           "explained": rs[0]["reason"], "examples": kept[:args.examples],
                           "excerpt": min(rs, key=lambda r: os.path.getsize(r["path"]))["excerpt"]})

    by_inputs = {}
    for c in class_rows:
        if c["op"] == "convert":
            by_inputs.setdefault(tuple(c["inputs"]), c["id"])
    for c in class_rows:
        c["same_as"] = by_inputs.get(tuple(c["inputs"])) if c["op"] != "convert" else None
    unexplained = sum(c["count"] for c in class_rows if not c["explained"])
    labels = dict(CATEGORIES)
    lines = []
    lines.append("# Differential report: eps-translator vs the reference oracle")
    lines.append("")
    lines.append(f"- run: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
                 f"seed `{args.seed}`, {len(cases)} inputs from {len(seeds)} seed Bundles")
    try:
        mtime = datetime.datetime.fromtimestamp(os.path.getmtime(args.ours), datetime.timezone.utc)
        lines.append(f"- ours: `{args.ours}` (built {mtime.strftime('%Y-%m-%d %H:%M UTC')})")
    except OSError:
        lines.append(f"- ours: `{args.ours}`")
    lines.append(f"- oracle: `{args.oracle}` ({oracle.calls} calls, {oracle.hits} answers from the cache)")
    lines.append(f"- time: {times['total']:.0f} s (generate {times['generate']:.0f} s, oracle {times['oracle']:.0f} s, "
                 f"ours {times['ours']:.0f} s)")
    lines.append(f"- inputs and answers of every difference: `{os.path.join(out, 'differences')}/<class>/`")
    lines.append("")
    lines.append("## Counts")
    lines.append("")
    lines.append("| | " + " | ".join(ops) + " |")
    lines.append("|---|" + "---:|" * len(ops))
    lines.append("| inputs | " + " | ".join(str(sum(counts[op].values())) for op in ops) + " |")
    for k, label in CATEGORIES:
        lines.append(f"| {label} | " + " | ".join(str(counts[op][k]) for op in ops) + " |")
    lines.append("| of the differences: explained (allowlist) | " + " | ".join(str(expl[op]) for op in ops) + " |")
    lines.append("")
    lines.append(f"**Unexplained differences: {unexplained}** in "
                 f"{sum(1 for c in class_rows if not c['explained'])} classes; "
                 f"explained: {sum(c['count'] for c in class_rows if c['explained'])} in "
                 f"{sum(1 for c in class_rows if c['explained'])} classes.")
    lines.append("")
    lines.append("## Difference classes")
    lines.append("")
    for c in class_rows:
        lines.append(f"### {c['id']} · {c['signature']}")
        lines.append("")
        lines.append(f"- {c['count']} input(s); {labels[c['cat']]}"
                     + (f"; the same inputs as {c['same_as']}" if c["same_as"] else "")
                     + (f"; **explained**: {c['explained']}" if c["explained"] else ""))
        lines.append("- edits in these inputs: " + ", ".join(f"{e} {k}/{c['count']}" for e, k in c["edits"]))
        for m, k in c["ours_messages"][:4]:
            lines.append(f"- ours says ({k}×): «{m}»")
        if len(c["ours_messages"]) > 4:
            lines.append(f"- ours says: {len(c['ours_messages']) - 4} other messages")
        for ex in c["examples"]:
            lines.append(f"- example: `{ex}`")
        if c["excerpt"]:
            lines.append("")
            lines.append("```")
            lines.append(c["excerpt"].rstrip())
            lines.append("```")
        lines.append("")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(report_path)), exist_ok=True)
    with open(report_path, "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump({"counts": counts, "explained": expl, "unexplained": unexplained, "times": times,
                   "inputs": len(cases), "classes": [{k: v for k, v in c.items() if k not in ("excerpt", "inputs")}
                                                      for c in class_rows]},
                  f, indent=2)
    with open(os.path.join(out, "results.jsonl"), "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps({"input": os.path.basename(r["path"]), "op": r["op"], "category": r["cat"],
                                "signature": r["sig"], "explained": r["reason"],
                                "oracle_exit": r["o"]["exit"], "ours_exit": r["u"]["exit"]}) + "\n")
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump([{"name": c["name"], "seed": c["seed"], "edits": c["edits"]} for c in cases], f, indent=1)

    # stdout: the counts and one line per class
    print("\n".join(lines[:lines.index("## Difference classes")]))
    print("## Difference classes")
    for c in class_rows:
        print(f"{c['id']} [{c['count']}] {c['signature']}" + (f"  (explained)" if c["explained"] else "")
              + (f"  (= {c['same_as']} inputs)" if c["same_as"] else ""))
        print(f"      e.g. {c['examples'][0] if c['examples'] else ''}")
    print(f"\nreport: {report_path}")


if __name__ == "__main__":
    main()
