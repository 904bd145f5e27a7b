"""Structural edits of prescription-order / prescription-order-update Bundles.

Every edit is a function `edit(bundle, rng) -> label | None`: it changes the Bundle (a parsed JSON
tree) in place and returns a short label naming what it did, parameters included, or None when it
does not apply to this Bundle (then the Bundle is unchanged). All choices come from `rng`, so a
fixed seed gives the same edits.

Numbers are kept with their source text (see `load_json` / `dump_json`), so a Bundle that is only
re-serialised is the seed byte for byte apart from white space.
"""
import copy
import json
import os
import re
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

# --------------------------------------------------------------------------------------------
# JSON with numbers kept as written


class Num(str):
    """A JSON number kept as its source text (e.g. `1.50`, `1E2`)."""


_NUM_MARK = "\u0000NUM:"


def load_json(text):
    return json.loads(text, parse_float=Num, parse_int=Num)


def _mark(obj):
    if isinstance(obj, Num):
        return _NUM_MARK + str(obj) + "\u0000"
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, (int, float)):
        return _NUM_MARK + json.dumps(obj) + "\u0000"
    if isinstance(obj, dict):
        return {k: _mark(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mark(v) for v in obj]
    return obj


_NUM_RE = re.compile(r'"\\u0000NUM:([^"\\]*)\\u0000"')


def dump_json(obj):
    text = json.dumps(_mark(obj), indent=2, ensure_ascii=False)
    return _NUM_RE.sub(lambda m: m.group(1), text) + "\n"


# --------------------------------------------------------------------------------------------
# Mapping tables


def _tsv_keys(name):
    path = os.path.join(REPO, "mappings", name)
    keys = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                keys.append(line.split("\t")[0].strip())
    except OSError:
        pass
    return keys


COURSE_OF_THERAPY = _tsv_keys("course-of-therapy.tsv") or ["acute", "continuous", "continuous-repeat-dispensing"]
TELECOM_USE = _tsv_keys("telecom-use.tsv") or ["home", "work", "temp", "mobile"]
ADDRESS_USE = _tsv_keys("address-use.tsv") or ["home", "work", "temp", "billing"]
NAME_USE = _tsv_keys("name-use.tsv") or ["usual", "official"]
GENDER = _tsv_keys("gender.tsv") or ["male", "female", "other", "unknown"]
JOB_ROLES = _tsv_keys("sds-job-role-names.tsv") or ["R8000", "R8001", "R8003"]
PROFESSIONAL_SYSTEMS = _tsv_keys("professional-codes.tsv")

FHIR_UK = "https://fhir.hl7.org.uk/Id/"
PRACTITIONER_SYSTEMS = {
    # system: a value of the shape the reference expects for it
    "https://fhir.nhs.uk/Id/sds-user-id": "555086689106",
    FHIR_UK + "gmc-number": "C1234567",
    FHIR_UK + "gmp-number": "G1234567",
    FHIR_UK + "nmc-number": "12A3456B",
    FHIR_UK + "gphc-number": "2083469",
    FHIR_UK + "hcpc-number": "PA123456",
    FHIR_UK + "din-number": "977677",
    FHIR_UK + "professional-code": "unknown",
    FHIR_UK + "nhsbsa-spurious-code": "612345",
    "https://fhir.nhs.uk/Id/made-up-system": "123",
}
for _s in PROFESSIONAL_SYSTEMS:
    PRACTITIONER_SYSTEMS.setdefault(_s, "1234567")

PRESCRIPTION_TYPES = ["0101", "0104", "0105", "0108", "0109", "0113", "0114", "0116", "0117",
                      "0119", "0120", "0121", "0122", "0123", "0124", "0125", "0201", "0204",
                      "0205", "1001", "1004", "1005", "1008", "1009", "1012", "1013", "1014",
                      "1024", "1025", "5001", "9999", "01", ""]

EXT_PRESCRIPTION_TYPE = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType"
EXT_RESPONSIBLE = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner"
EXT_REPEAT_INFO = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation"
EXT_PERFORMER_SITE = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PerformerSiteType"
EXT_ENDORSEMENT = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionEndorsement"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
COT_SYSTEM = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"
JOB_ROLE_SYSTEM = "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode"

# --------------------------------------------------------------------------------------------
# Helpers


def entries(b, rtype=None):
    out = []
    for e in b.get("entry") or []:
        if isinstance(e, dict) and isinstance(e.get("resource"), dict):
            if rtype is None or e["resource"].get("resourceType") == rtype:
                out.append(e)
    return out


def resources(b, rtype):
    return [e["resource"] for e in entries(b, rtype)]


def new_uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def pick_index(rng, items):
    return rng.randrange(len(items)) if items else None


def resolve(b, ref):
    if not isinstance(ref, dict):
        return None
    r = ref.get("reference")
    for e in entries(b):
        if r and e.get("fullUrl") == r:
            return e["resource"]
    return None


def requester_role(b):
    mrs = resources(b, "MedicationRequest")
    if not mrs:
        return None
    return resolve(b, mrs[0].get("requester"))


def role_practitioner(b):
    role = requester_role(b)
    if role is None:
        return None
    return resolve(b, role.get("practitioner"))


def role_organization(b):
    role = requester_role(b)
    if role is None:
        return None
    return resolve(b, role.get("organization"))


def all_paths(node, prefix="", depth=0, max_depth=5):
    """(path, parent, key) of every element below node (dict keys and list items)."""
    out = []
    if depth > max_depth:
        return out
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "resourceType":
                continue
            p = f"{prefix}.{k}" if prefix else k
            out.append((p, node, k))
            out.extend(all_paths(v, p, depth + 1, max_depth))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            p = f"{prefix}[{i}]"
            out.append((p, node, i))
            out.extend(all_paths(v, p, depth + 1, max_depth))
    return out


def _random_resource(b, rng, skip=()):
    es = [e for e in entries(b) if e["resource"].get("resourceType") not in skip]
    if not es:
        return None, None
    e = rng.choice(es)
    return e, e["resource"]


def _rlabel(b, res):
    t = res.get("resourceType", "?")
    same = resources(b, t)
    if len(same) > 1:
        for i, r in enumerate(same):
            if r is res:
                return f"{t}{i}"
    return t


# --------------------------------------------------------------------------------------------
# Generic structural edits


def rm_entry(b, rng):
    e, res = _random_resource(b, rng, skip=("MessageHeader",) if rng.random() < 0.9 else ())
    if e is None:
        return None
    label = _rlabel(b, res)
    b["entry"].remove(e)
    return f"rm-entry({label})"


def dup_entry(b, rng):
    e, res = _random_resource(b, rng)
    if e is None:
        return None
    label = _rlabel(b, res)
    twin = copy.deepcopy(e)
    mode = rng.choice(["same-id", "new-id"])
    if mode == "new-id":
        twin["fullUrl"] = "urn:uuid:" + new_uuid(rng)
        if isinstance(twin["resource"].get("id"), str):
            twin["resource"]["id"] = twin["fullUrl"][9:]
        if twin["resource"].get("resourceType") == "MedicationRequest":
            for ident in twin["resource"].get("identifier") or []:
                if isinstance(ident, dict) and "prescription-order-item-number" in str(ident.get("system")):
                    ident["value"] = new_uuid(rng)
    b["entry"].insert(b["entry"].index(e) + 1, twin)
    return f"dup-entry({label},{mode})"


def reorder_entries(b, rng):
    es = b.get("entry")
    if not isinstance(es, list) or len(es) < 2:
        return None
    mode = rng.choice(["reverse", "shuffle", "header-last", "mr-reverse"])
    if mode == "reverse":
        es.reverse()
    elif mode == "shuffle":
        rng.shuffle(es)
    elif mode == "header-last":
        hs = entries(b, "MessageHeader")
        if not hs:
            return None
        es.remove(hs[0])
        es.append(hs[0])
    else:
        idx = [i for i, e in enumerate(es) if e in entries(b, "MedicationRequest")]
        if len(idx) < 2:
            return None
        vals = [es[i] for i in idx][::-1]
        for i, v in zip(idx, vals):
            es[i] = v
    return f"reorder-entries({mode})"


def rm_element(b, rng):
    e, res = _random_resource(b, rng)
    if e is None:
        return None
    paths = all_paths(res)
    if not paths:
        return None
    path, parent, key = rng.choice(paths)
    del parent[key]
    return f"rm({_rlabel(b, res)}.{path})"


def empty_element(b, rng):
    e, res = _random_resource(b, rng)
    if e is None:
        return None
    paths = [p for p in all_paths(res) if isinstance(p[1], dict)]
    if not paths:
        return None
    path, parent, key = rng.choice(paths)
    kind = rng.choice(["empty-string", "empty-array", "empty-object", "null"])
    parent[key] = {"empty-string": "", "empty-array": [], "empty-object": {}, "null": None}[kind]
    return f"empty({_rlabel(b, res)}.{path}={kind})"


def dup_array_item(b, rng):
    e, res = _random_resource(b, rng)
    if e is None:
        return None
    paths = [p for p in all_paths(res) if isinstance(p[1], list)]
    if not paths:
        return None
    path, parent, key = rng.choice(paths)
    parent.insert(key + 1, copy.deepcopy(parent[key]))
    return f"dup({_rlabel(b, res)}.{path})"


def reverse_array(b, rng):
    e, res = _random_resource(b, rng)
    if e is None:
        return None
    paths = [p for p in all_paths(res) if isinstance(p[1], dict) and isinstance(p[1][p[2]], list)
             and len(p[1][p[2]]) > 1]
    if not paths:
        return None
    path, parent, key = rng.choice(paths)
    parent[key].reverse()
    return f"reverse({_rlabel(b, res)}.{path})"


def extra_resource(b, rng):
    """A resource nothing references: a copy of an Organization, Practitioner or PractitionerRole,
    its telecom varied."""
    es = [e for e in entries(b) if e["resource"].get("resourceType") in ("Organization", "Practitioner", "PractitionerRole")]
    if not es:
        return None
    e = rng.choice(es)
    twin = copy.deepcopy(e)
    twin["fullUrl"] = "urn:uuid:" + new_uuid(rng)
    r = twin["resource"]
    if isinstance(r.get("id"), str):
        r["id"] = twin["fullUrl"][9:]
    mode = rng.choice(["as-is", "telecom-no-use", "telecom-no-value", "telecom-empty", "no-telecom", "telecom-bad-use"])
    if mode == "telecom-no-use":
        r["telecom"] = [{"system": "phone", "value": "0113 000 0000"}]
    elif mode == "telecom-no-value":
        r["telecom"] = [{"system": "phone", "use": "work"}]
    elif mode == "telecom-empty":
        r["telecom"] = []
    elif mode == "no-telecom":
        r.pop("telecom", None)
    elif mode == "telecom-bad-use":
        r["telecom"] = [{"system": "phone", "value": "0113 000 0000", "use": "bogus"}]
    b["entry"].append(twin)
    return f"extra({r.get('resourceType')} {mode})"


# --------------------------------------------------------------------------------------------
# Identifier systems


def practitioner_system(b, rng):
    prs = resources(b, "Practitioner")
    if not prs:
        return None
    pr = rng.choice(prs)
    idents = pr.get("identifier")
    if not isinstance(idents, list):
        return None
    system = rng.choice(sorted(PRACTITIONER_SYSTEMS))
    short = system.rsplit("/", 1)[-1]
    mode = rng.choice(["swap", "add", "replace-all", "empty-value", "remove"])
    if mode == "swap" and idents:
        i = rng.randrange(len(idents))
        if not isinstance(idents[i], dict):
            return None
        idents[i]["system"] = system
        return f"prac-ident(swap[{i}]->{short})"
    if mode == "add":
        value = PRACTITIONER_SYSTEMS[system] if rng.random() < 0.8 else "X"
        idents.append({"system": system, "value": value})
        return f"prac-ident(add {short}={value})"
    if mode == "replace-all":
        keep = [i for i in idents if isinstance(i, dict) and "sds-user-id" in str(i.get("system"))]
        pr["identifier"] = keep + [{"system": system, "value": PRACTITIONER_SYSTEMS[system]}]
        return f"prac-ident(only {short})"
    if mode == "empty-value" and idents:
        i = rng.randrange(len(idents))
        if not isinstance(idents[i], dict):
            return None
        idents[i]["value"] = ""
        return f"prac-ident(empty-value[{i}])"
    if mode == "remove" and idents:
        i = rng.randrange(len(idents))
        del idents[i]
        return f"prac-ident(rm[{i}])"
    return None


def role_identifier(b, rng):
    roles = resources(b, "PractitionerRole")
    if not roles:
        return None
    role = rng.choice(roles)
    idents = role.setdefault("identifier", [])
    if not isinstance(idents, list):
        return None
    mode = rng.choice(["add-spurious", "add-spurious-bad", "rm-profile-id", "swap-system", "add-job-role-id", "empty-value"])
    if mode == "add-spurious":
        idents.append({"system": FHIR_UK + "nhsbsa-spurious-code", "value": "612345"})
    elif mode == "add-spurious-bad":
        idents.append({"system": FHIR_UK + "nhsbsa-spurious-code", "value": ""})
    elif mode == "rm-profile-id":
        n = len(idents)
        idents[:] = [i for i in idents if not (isinstance(i, dict) and "sds-role-profile-id" in str(i.get("system")))]
        if len(idents) == n:
            return None
    elif mode == "swap-system" and idents:
        i = rng.randrange(len(idents))
        if not isinstance(idents[i], dict):
            return None
        idents[i]["system"] = rng.choice(sorted(PRACTITIONER_SYSTEMS))
        mode += f"[{i}]->{idents[i]['system'].rsplit('/', 1)[-1]}"
    elif mode == "add-job-role-id":
        idents.append({"system": "https://fhir.nhs.uk/Id/sds-job-role-id", "value": "R8000"})
    elif mode == "empty-value" and idents:
        i = rng.randrange(len(idents))
        if not isinstance(idents[i], dict):
            return None
        idents[i]["value"] = ""
        mode += f"[{i}]"
    else:
        return None
    return f"role-ident({mode})"


def patient_identifier(b, rng):
    pts = resources(b, "Patient")
    if not pts:
        return None
    pt = pts[0]
    mode = rng.choice(["system", "value-empty", "two", "rm"])
    idents = pt.get("identifier")
    if not isinstance(idents, list) or not idents or not isinstance(idents[0], dict):
        return None
    if mode == "system":
        idents[0]["system"] = "https://fhir.nhs.uk/Id/not-nhs-number"
    elif mode == "value-empty":
        idents[0]["value"] = ""
    elif mode == "two":
        idents.append({"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9449304130"})
    else:
        del pt["identifier"]
    return f"patient-ident({mode})"


# --------------------------------------------------------------------------------------------
# Codes


def job_role(b, rng):
    roles = resources(b, "PractitionerRole")
    if not roles:
        return None
    role = rng.choice(roles)
    code = rng.choice(JOB_ROLES)
    mode = rng.choice(["full", "bare", "system", "rm", "two-codings", "empty"])
    codes = role.get("code")
    if mode == "rm":
        if "code" not in role:
            return None
        del role["code"]
        return "job-role(rm)"
    if mode == "empty":
        role["code"] = []
        return "job-role(empty-array)"
    coding = {"system": JOB_ROLE_SYSTEM, "code": f"S8000:G8000:{code}" if mode == "full" else code}
    if mode == "system":
        coding = {"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName", "code": code}
    if mode == "two-codings":
        role["code"] = [{"coding": [coding, {"system": JOB_ROLE_SYSTEM, "code": "S8000:G8000:R8001"}]}]
    else:
        role["code"] = [{"coding": [coding]}]
    return f"job-role({mode}:{coding['code']})"


def _set_cot(mr, code):
    mr["courseOfTherapyType"] = {"coding": [{"system": COT_SYSTEM, "code": code}]}


def course_of_therapy(b, rng):
    mrs = resources(b, "MedicationRequest")
    if not mrs:
        return None
    choices = COURSE_OF_THERAPY + ["bogus", ""]
    mode = rng.choice(["all", "one", "mix", "rm-one"])
    if mode == "all":
        code = rng.choice(choices)
        for mr in mrs:
            _set_cot(mr, code)
        return f"cot(all={code})"
    if mode == "one":
        i = rng.randrange(len(mrs))
        code = rng.choice(choices)
        _set_cot(mrs[i], code)
        return f"cot(MR{i}={code})"
    if mode == "mix":
        if len(mrs) < 2:
            b["entry"].append(_twin_mr(b, rng, mrs[0]))
            mrs = resources(b, "MedicationRequest")
        codes = [rng.choice(COURSE_OF_THERAPY) for _ in mrs]
        for mr, c in zip(mrs, codes):
            _set_cot(mr, c)
        return f"cot(mix={','.join(codes)})"
    i = rng.randrange(len(mrs))
    if "courseOfTherapyType" not in mrs[i]:
        return None
    del mrs[i]["courseOfTherapyType"]
    return f"cot(rm MR{i})"


def _twin_mr(b, rng, mr):
    twin = {"fullUrl": "urn:uuid:" + new_uuid(rng), "resource": copy.deepcopy(mr)}
    for ident in twin["resource"].get("identifier") or []:
        if isinstance(ident, dict):
            ident["value"] = new_uuid(rng)
    return twin


def add_medication_request(b, rng):
    mrs = entries(b, "MedicationRequest")
    if not mrs:
        return None
    n = rng.choice([1, 3])
    for _ in range(n):
        b["entry"].append(_twin_mr(b, rng, rng.choice(mrs)["resource"]))
    return f"add-mr({n})"


def prescription_type(b, rng):
    mrs = resources(b, "MedicationRequest")
    if not mrs:
        return None
    code = rng.choice(PRESCRIPTION_TYPES)
    mode = rng.choice(["all", "all", "one", "rm"])
    targets = mrs if mode != "one" else [mrs[rng.randrange(len(mrs))]]
    for mr in targets:
        exts = mr.setdefault("extension", [])
        if not isinstance(exts, list):
            return None
        found = [x for x in exts if isinstance(x, dict) and x.get("url") == EXT_PRESCRIPTION_TYPE]
        if mode == "rm":
            for x in found:
                exts.remove(x)
            continue
        if found:
            found[0]["valueCoding"] = {"system": "https://fhir.nhs.uk/CodeSystem/prescription-type", "code": code}
        else:
            exts.append({"url": EXT_PRESCRIPTION_TYPE,
                         "valueCoding": {"system": "https://fhir.nhs.uk/CodeSystem/prescription-type", "code": code}})
    return "ptype(rm)" if mode == "rm" else f"ptype({mode}={code})"


def gender(b, rng):
    pts = resources(b, "Patient")
    if not pts:
        return None
    g = rng.choice(GENDER + ["bogus", "", None])
    if g is None:
        pts[0].pop("gender", None)
        return "gender(rm)"
    pts[0]["gender"] = g
    return f"gender({g})"


# --------------------------------------------------------------------------------------------
# Telecom, address, name


def _with_key(b, key):
    return [e["resource"] for e in entries(b) if isinstance(e["resource"].get(key), list)]


def telecom(b, rng):
    kinds = ["Organization", "PractitionerRole", "Practitioner", "HealthcareService", "Patient"]
    rtype = rng.choice(kinds)
    rs = resources(b, rtype)
    if not rs:
        return None
    r = rng.choice(rs)
    lbl = _rlabel(b, r)
    tel = r.get("telecom")
    mode = rng.choice(["use", "rm-use", "rm-value", "empty-value", "add", "two", "system", "empty-list", "rm", "rm-system"])
    if mode in ("add", "two") or not isinstance(tel, list) or not tel:
        use = rng.choice(TELECOM_USE)
        r["telecom"] = (tel if isinstance(tel, list) else []) + [{"system": "phone", "value": "01234 567890", "use": use}]
        if mode == "two":
            r["telecom"].append({"system": "email", "value": "a@example.org", "use": rng.choice(TELECOM_USE)})
        return f"telecom({lbl} add {use}{' +email' if mode == 'two' else ''})"
    t = tel[0]
    if not isinstance(t, dict):
        return None
    if mode == "use":
        use = rng.choice(TELECOM_USE + ["old", "bogus"])
        t["use"] = use
        return f"telecom({lbl} use={use})"
    if mode == "rm-use":
        t.pop("use", None)
    elif mode == "rm-value":
        t.pop("value", None)
    elif mode == "empty-value":
        t["value"] = ""
    elif mode == "system":
        t["system"] = rng.choice(["email", "fax", "url", "sms", "other", "pager"])
        return f"telecom({lbl} system={t['system']})"
    elif mode == "empty-list":
        r["telecom"] = []
    elif mode == "rm":
        del r["telecom"]
    elif mode == "rm-system":
        t.pop("system", None)
    return f"telecom({lbl} {mode})"


def address(b, rng):
    rtype = rng.choice(["Patient", "Organization", "Organization", "Location", "PractitionerRole"])
    rs = resources(b, rtype)
    if not rs:
        return None
    r = rng.choice(rs)
    lbl = _rlabel(b, r)
    addrs = r.get("address")
    if isinstance(addrs, dict):  # Location.address is one Address
        addrs_list, single = [addrs], True
    elif isinstance(addrs, list) and addrs:
        addrs_list, single = addrs, False
    else:
        r["address"] = [{"use": "work", "line": ["1 Street"], "postalCode": "LS1 1AA"}]
        return f"addr({lbl} add)"
    a = addrs_list[0]
    if not isinstance(a, dict):
        return None
    mode = rng.choice(["use", "rm-use", "line-only", "no-line", "text-only", "city-district",
                       "empty-line", "postcode-only", "two", "empty-list", "rm", "empty-obj", "type"])
    if mode == "use":
        use = rng.choice(ADDRESS_USE + ["old", "bogus"])
        a["use"] = use
        return f"addr({lbl} use={use})"
    if mode == "rm-use":
        a.pop("use", None)
    elif mode == "line-only":
        for k in list(a):
            if k not in ("line", "use"):
                del a[k]
    elif mode == "no-line":
        a.pop("line", None)
    elif mode == "text-only":
        a.clear()
        a["text"] = "1 Street, Town, LS1 1AA"
    elif mode == "city-district":
        a["city"] = "LEEDS"
        a["district"] = "WEST YORKSHIRE"
        a["state"] = "ENGLAND"
        a["country"] = "GB"
    elif mode == "empty-line":
        a["line"] = []
    elif mode == "postcode-only":
        a.clear()
        a["postalCode"] = "LS1 1AA"
    elif mode == "two":
        if single:
            return None
        addrs.append({"use": rng.choice(ADDRESS_USE), "line": ["2 Other Road"], "postalCode": "LS2 2BB"})
    elif mode == "empty-list":
        r["address"] = [] if not single else {}
    elif mode == "rm":
        del r["address"]
    elif mode == "empty-obj":
        a.clear()
    elif mode == "type":
        a["type"] = rng.choice(["postal", "physical", "both"])
    return f"addr({lbl} {mode})"


def name(b, rng):
    rtype = rng.choice(["Patient", "Practitioner", "Practitioner"])
    rs = resources(b, rtype)
    if not rs:
        return None
    r = rng.choice(rs)
    lbl = _rlabel(b, r)
    names = r.get("name")
    if not isinstance(names, list) or not names or not isinstance(names[0], dict):
        r["name"] = [{"family": "SMITH", "given": ["JO"]}]
        return f"name({lbl} add)"
    n = names[0]
    mode = rng.choice(["use", "rm-use", "text-only", "no-given", "no-family", "no-prefix", "given-many",
                       "suffix", "two", "empty-list", "rm", "empty-obj", "text-and-parts", "empty-family"])
    if mode == "use":
        use = rng.choice(NAME_USE + ["nickname", "old", "maiden", "bogus"])
        n["use"] = use
        return f"name({lbl} use={use})"
    if mode == "rm-use":
        n.pop("use", None)
    elif mode == "text-only":
        n.clear()
        n["text"] = "Dr Jo Smith"
    elif mode == "no-given":
        n.pop("given", None)
    elif mode == "no-family":
        n.pop("family", None)
    elif mode == "no-prefix":
        n.pop("prefix", None)
    elif mode == "given-many":
        n["given"] = ["ANNA", "MARIA", "JO"]
    elif mode == "suffix":
        n["suffix"] = ["PHD", "MBE"]
    elif mode == "two":
        names.append({"use": rng.choice(NAME_USE), "family": "OTHER", "given": ["SAM"]})
    elif mode == "empty-list":
        r["name"] = []
    elif mode == "rm":
        del r["name"]
    elif mode == "empty-obj":
        n.clear()
    elif mode == "text-and-parts":
        n["text"] = "Free text name"
    elif mode == "empty-family":
        n["family"] = ""
    return f"name({lbl} {mode})"


# --------------------------------------------------------------------------------------------
# Absent / empty / present optional elements


def general_practitioner(b, rng):
    pts = resources(b, "Patient")
    if not pts:
        return None
    pt = pts[0]
    mode = rng.choice(["absent", "V81999", "empty-array", "other", "two", "reference", "no-identifier", "empty-value"])
    if mode == "absent":
        if "generalPractitioner" not in pt:
            return None
        del pt["generalPractitioner"]
    elif mode == "V81999":
        pt["generalPractitioner"] = [{"identifier": {"system": ODS, "value": "V81999"}}]
    elif mode == "empty-array":
        pt["generalPractitioner"] = []
    elif mode == "other":
        pt["generalPractitioner"] = [{"identifier": {"system": ODS, "value": "Y12345"}}]
    elif mode == "two":
        pt["generalPractitioner"] = [{"identifier": {"system": ODS, "value": "A83008"}},
                                     {"identifier": {"system": ODS, "value": "B81001"}}]
    elif mode == "reference":
        orgs = entries(b, "Organization")
        if not orgs:
            return None
        pt["generalPractitioner"] = [{"reference": orgs[0]["fullUrl"]}]
    elif mode == "no-identifier":
        pt["generalPractitioner"] = [{"display": "SOME SURGERY"}]
    elif mode == "empty-value":
        pt["generalPractitioner"] = [{"identifier": {"system": ODS, "value": ""}}]
    return f"gp({mode})"


def part_of(b, rng):
    org = role_organization(b) if rng.random() < 0.8 else None
    if org is None:
        orgs = resources(b, "Organization")
        if not orgs:
            return None
        org = rng.choice(orgs)
    mode = rng.choice(["absent", "absent", "empty-object", "reference", "display-only", "identifier-only", "empty-value"])
    if mode == "absent":
        if "partOf" not in org:
            return None
        del org["partOf"]
    elif mode == "empty-object":
        org["partOf"] = {}
    elif mode == "reference":
        other = {"resourceType": "Organization",
                 "identifier": [{"system": ODS, "value": "84H"}], "name": "NHS COUNTY DURHAM CCG"}
        url = "urn:uuid:" + new_uuid(rng)
        b["entry"].append({"fullUrl": url, "resource": other})
        org["partOf"] = {"reference": url}
    elif mode == "display-only":
        org["partOf"] = {"display": "SOME CCG"}
    elif mode == "identifier-only":
        org["partOf"] = {"identifier": {"system": ODS, "value": "84H"}}
    elif mode == "empty-value":
        org["partOf"] = {"identifier": {"system": ODS, "value": ""}, "display": "X"}
    return f"partOf({_rlabel(b, org)} {mode})"


def healthcare_service(b, rng):
    role = requester_role(b) if rng.random() < 0.8 else None
    if role is None:
        roles = resources(b, "PractitionerRole")
        if not roles:
            return None
        role = rng.choice(roles)
    mode = rng.choice(["rm", "add-ref", "add-identifier", "empty-array", "two"])
    hs = entries(b, "HealthcareService")
    if mode == "rm":
        if "healthcareService" not in role:
            return None
        del role["healthcareService"]
    elif mode in ("add-ref", "two"):
        if hs:
            url = hs[0]["fullUrl"]
        else:
            url = "urn:uuid:" + new_uuid(rng)
            b["entry"].append({"fullUrl": url, "resource": {
                "resourceType": "HealthcareService",
                "identifier": [{"use": "usual", "system": ODS, "value": "A99968"}],
                "active": True, "name": "SOMERSET BOWEL CANCER SCREENING CENTRE",
                "telecom": [{"system": "phone", "value": "01823 333444", "use": "work"}]}})
        role["healthcareService"] = [{"reference": url}] * (2 if mode == "two" else 1)
    elif mode == "add-identifier":
        role["healthcareService"] = [{"identifier": {"system": ODS, "value": "A99968"}, "display": "SERVICE"}]
    elif mode == "empty-array":
        role["healthcareService"] = []
    return f"hcs({mode})"


def role_practitioner_shape(b, rng):
    role = requester_role(b) if rng.random() < 0.8 else None
    if role is None:
        roles = resources(b, "PractitionerRole")
        if not roles:
            return None
        role = rng.choice(roles)
    prac = resolve(b, role.get("practitioner"))
    mode = rng.choice(["identifier", "identifier-gmc", "ref+identifier", "absent", "display-only", "empty-object",
                       "identifier-responsible", "identifier-responsible", "responsible-self"])
    if mode in ("identifier-responsible", "responsible-self"):
        # the role is also named by every MedicationRequest's ResponsiblePractitioner extension, which
        # lets its practitioner be given by identifier
        url = next((e.get("fullUrl") for e in entries(b, "PractitionerRole") if e["resource"] is role), None)
        if url is None:
            return None
        for mr in resources(b, "MedicationRequest"):
            exts = mr.setdefault("extension", [])
            if not isinstance(exts, list):
                return None
            exts[:] = [x for x in exts if not (isinstance(x, dict) and x.get("url") == EXT_RESPONSIBLE)]
            exts.append({"url": EXT_RESPONSIBLE, "valueReference": {"reference": url}})
        if mode == "identifier-responsible":
            system, value = rng.choice([("https://fhir.nhs.uk/Id/sds-user-id", "555086689106"),
                                        (FHIR_UK + "gmc-number", "C1234567"), (FHIR_UK + "din-number", "977677"),
                                        (FHIR_UK + "nmc-number", "12A3456B")])
            role["practitioner"] = {"identifier": {"system": system, "value": value}}
            if rng.random() < 0.6:
                role["practitioner"]["display"] = "DR JO SMITH"
            mode += "=" + system.rsplit("/", 1)[-1] + ("+display" if "display" in role["practitioner"] else "")
        return f"role-practitioner({mode})"
    if mode == "identifier":
        role["practitioner"] = {"identifier": {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "555086689106"},
                                "display": "DR JO SMITH"}
    elif mode == "identifier-gmc":
        role["practitioner"] = {"identifier": {"system": FHIR_UK + "gmc-number", "value": "C1234567"}}
    elif mode == "ref+identifier":
        if not isinstance(role.get("practitioner"), dict) or "reference" not in role["practitioner"]:
            return None
        role["practitioner"]["identifier"] = {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "555086689106"}
    elif mode == "absent":
        if "practitioner" not in role:
            return None
        del role["practitioner"]
    elif mode == "display-only":
        role["practitioner"] = {"display": "DR JO SMITH"}
    elif mode == "empty-object":
        role["practitioner"] = {}
    if mode in ("identifier", "identifier-gmc", "absent") and prac is not None and rng.random() < 0.5:
        b["entry"] = [e for e in b["entry"] if e.get("resource") is not prac]
        mode += ",rm-Practitioner"
    return f"role-practitioner({mode})"


def role_organization_shape(b, rng):
    role = requester_role(b) if rng.random() < 0.8 else None
    if role is None:
        roles = resources(b, "PractitionerRole")
        if not roles:
            return None
        role = rng.choice(roles)
    mode = rng.choice(["identifier", "absent", "ref+identifier", "display-only"])
    if mode == "identifier":
        role["organization"] = {"identifier": {"system": ODS, "value": "A83008"}, "display": "HALLGARTH SURGERY"}
    elif mode == "absent":
        if "organization" not in role:
            return None
        del role["organization"]
    elif mode == "ref+identifier":
        if not isinstance(role.get("organization"), dict) or "reference" not in role["organization"]:
            return None
        role["organization"]["identifier"] = {"system": ODS, "value": "A83008"}
    else:
        role["organization"] = {"display": "HALLGARTH SURGERY"}
    return f"role-organization({mode})"


def communication_request(b, rng):
    crs = resources(b, "CommunicationRequest")
    lists = entries(b, "List")
    mode = rng.choice(["string-only", "reference-only", "both", "two-strings", "attachment", "empty-array",
                       "rm-payload", "string+attachment", "add-cr", "rm-cr", "empty-string"])
    added = ""
    if mode == "add-cr" or not crs:
        if mode == "rm-cr":
            return None
        pts = entries(b, "Patient")
        if not pts:
            return None
        cr = {"resourceType": "CommunicationRequest", "status": "unknown",
              "subject": {"reference": pts[0]["fullUrl"]},
              "payload": [{"contentString": "Patient info text"}],
              "requester": {"type": "Organization", "identifier": {"system": ODS, "value": "RBA"}},
              "recipient": [{"type": "Patient", "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                                               "value": "9453740519"}}]}
        b["entry"].append({"fullUrl": "urn:uuid:" + new_uuid(rng), "resource": cr})
        if mode == "add-cr":
            return "comm(add)"
        added = "add,"
    else:
        cr = crs[0]
    if mode == "rm-cr":
        b["entry"] = [e for e in b["entry"] if e.get("resource") is not cr]
        return "comm(rm)"

    def list_ref():
        if lists:
            return {"reference": lists[0]["fullUrl"]}
        url = "urn:uuid:" + new_uuid(rng)
        b["entry"].append({"fullUrl": url, "resource": {
            "resourceType": "List", "status": "current", "mode": "snapshot", "code": {"text": "Repeat Medications"},
            "entry": [{"item": {"display": "Bendroflumethiazide 2.5mg tablets (3/6)"}}]}})
        return {"reference": url}

    if mode == "string-only":
        cr["payload"] = [{"contentString": "Please collect from reception"}]
    elif mode == "reference-only":
        cr["payload"] = [{"contentReference": list_ref()}]
    elif mode == "both":
        cr["payload"] = [{"contentString": "Info", "contentReference": list_ref()}]
    elif mode == "two-strings":
        cr["payload"] = [{"contentString": "First"}, {"contentString": "Second"}]
    elif mode == "attachment":
        cr["payload"] = [{"contentAttachment": {"contentType": "text/plain", "data": "SGVsbG8="}}]
    elif mode == "string+attachment":
        cr["payload"] = [{"contentString": "Info", "contentAttachment": {"contentType": "text/plain", "data": "SGVsbG8="}}]
    elif mode == "empty-array":
        cr["payload"] = []
    elif mode == "rm-payload":
        cr.pop("payload", None)
    elif mode == "empty-string":
        cr["payload"] = [{"contentString": ""}]
    return f"comm({added}{mode})"


def provenance(b, rng):
    provs = entries(b, "Provenance")
    if not provs:
        return None
    p = provs[0]["resource"]
    mode = rng.choice(["rm", "rm-signature", "signature-empty-array", "two-signatures", "who-other", "when-other",
                       "data-empty", "rm-data"])
    sigs = p.get("signature")
    if mode == "rm":
        b["entry"].remove(provs[0])
    elif mode == "rm-signature":
        p.pop("signature", None)
    elif mode == "signature-empty-array":
        p["signature"] = []
    elif not isinstance(sigs, list) or not sigs or not isinstance(sigs[0], dict):
        return None
    elif mode == "two-signatures":
        sigs.append(copy.deepcopy(sigs[0]))
    elif mode == "who-other":
        sigs[0]["who"] = {"reference": "urn:uuid:" + new_uuid(rng)}
    elif mode == "when-other":
        sigs[0]["when"] = rng.choice(["2022-03-04T05:06:07+00:00", "2022-03-04T05:06:07.123Z", "2022-03-04T06:06:07+01:00"])
        mode += "=" + sigs[0]["when"]
    elif mode == "data-empty":
        sigs[0]["data"] = ""
    elif mode == "rm-data":
        sigs[0].pop("data", None)
    return f"provenance({mode})"


def signature_xml(b, rng):
    """Vary the XML-DSig document carried base64-encoded in Provenance.signature.data."""
    import base64
    provs = resources(b, "Provenance")
    sigs = [s for p in provs for s in (p.get("signature") or []) if isinstance(s, dict) and isinstance(s.get("data"), str)]
    if not sigs:
        return None
    sig = sigs[0]
    try:
        xml = base64.b64decode(sig["data"]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    mode = rng.choice(["xml-declaration", "comment", "ds-prefix", "rm-keyinfo", "add-object", "lf-only",
                       "no-whitespace", "id-attribute", "extra-namespace", "not-xml", "cdata", "entity",
                       "processing-instruction", "empty-keyinfo"])
    ns = 'xmlns="http://www.w3.org/2000/09/xmldsig#"'
    if mode == "xml-declaration":
        xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + xml.lstrip()
    elif mode == "comment":
        xml = xml.replace("<SignatureValue>", "<!-- a comment --><SignatureValue>", 1)
    elif mode == "ds-prefix":
        xml = re.sub(r"<(/?)([A-Za-z0-9]+)", r"<\1ds:\2", xml).replace(ns, 'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"')
    elif mode == "rm-keyinfo":
        xml = re.sub(r"\s*<KeyInfo>.*</KeyInfo>", "", xml, flags=re.S)
    elif mode == "add-object":
        xml = xml.replace("</Signature>", "<Object Id=\"o1\"><Extra>x</Extra></Object></Signature>", 1)
    elif mode == "lf-only":
        xml = xml.replace("\r\n", "\n")
    elif mode == "no-whitespace":
        xml = re.sub(r">\s+<", "><", xml).strip()
    elif mode == "id-attribute":
        xml = xml.replace("<Signature " + ns, "<Signature Id=\"sig-1\" " + ns, 1)
    elif mode == "extra-namespace":
        xml = xml.replace("<Signature " + ns, "<Signature " + ns + ' xmlns:foo="urn:example:foo"', 1)
    elif mode == "not-xml":
        xml = "this is not XML"
    elif mode == "cdata":
        xml = re.sub(r"<DigestValue>([^<]*)</DigestValue>", r"<DigestValue><![CDATA[\1]]></DigestValue>", xml, count=1)
    elif mode == "entity":
        xml = xml.replace("<SignatureValue>", "<SignatureValue>&#x41;", 1)
    elif mode == "processing-instruction":
        xml = xml.replace("<SignedInfo>", "<?pi data?><SignedInfo>", 1)
    elif mode == "empty-keyinfo":
        xml = re.sub(r"<KeyInfo>.*</KeyInfo>", "<KeyInfo></KeyInfo>", xml, flags=re.S)
    sig["data"] = base64.b64encode(xml.encode("utf-8")).decode("ascii")
    return f"signature-xml({mode})"


# --------------------------------------------------------------------------------------------
# Dosage, quantity


def dosage(b, rng):
    mrs = resources(b, "MedicationRequest")
    if not mrs:
        return None
    i = rng.randrange(len(mrs))
    mr = mrs[i]
    dis = mr.get("dosageInstruction")
    if not isinstance(dis, list) or not dis or not isinstance(dis[0], dict):
        return None
    base = dis[0]
    mode = rng.choice(["seq-1-2", "seq-1-1", "seq-2-1", "seq-0", "seq-1-absent", "two-no-seq", "three-seq-1-1-2",
                       "seq-single", "text-absent", "text-empty", "add-additional", "patient-instruction",
                       "empty-array", "rm", "seq-negative", "seq-decimal", "seq-string", "text-absent-two"])
    def twin(seq, text=None):
        d = copy.deepcopy(base)
        if seq is None:
            d.pop("sequence", None)
        else:
            d["sequence"] = seq
        if text is not None:
            d["text"] = text
        return d
    if mode == "seq-1-2":
        mr["dosageInstruction"] = [twin(Num("1")), twin(Num("2"), "then another")]
    elif mode == "seq-1-1":
        mr["dosageInstruction"] = [twin(Num("1")), twin(Num("1"), "and also")]
    elif mode == "seq-2-1":
        mr["dosageInstruction"] = [twin(Num("2")), twin(Num("1"), "first")]
    elif mode == "seq-0":
        mr["dosageInstruction"] = [twin(Num("0")), twin(Num("1"), "then")]
    elif mode == "seq-1-absent":
        mr["dosageInstruction"] = [twin(Num("1")), twin(None, "then")]
    elif mode == "two-no-seq":
        mr["dosageInstruction"] = [twin(None), twin(None, "then")]
    elif mode == "three-seq-1-1-2":
        mr["dosageInstruction"] = [twin(Num("1")), twin(Num("1"), "and"), twin(Num("2"), "then")]
    elif mode == "seq-single":
        mr["dosageInstruction"] = [twin(Num("3"))]
    elif mode == "text-absent":
        base.pop("text", None)
    elif mode == "text-empty":
        base["text"] = ""
    elif mode == "add-additional":
        base["additionalInstruction"] = [{"coding": [{"system": "http://snomed.info/sct", "code": "421769005",
                                                       "display": "Follow directions"}]}]
    elif mode == "patient-instruction":
        base["patientInstruction"] = "Take with food"
    elif mode == "empty-array":
        mr["dosageInstruction"] = []
    elif mode == "rm":
        del mr["dosageInstruction"]
    elif mode == "seq-negative":
        mr["dosageInstruction"] = [twin(Num("-1")), twin(Num("1"), "then")]
    elif mode == "seq-decimal":
        mr["dosageInstruction"] = [twin(Num("1.0")), twin(Num("2"), "then")]
    elif mode == "seq-string":
        mr["dosageInstruction"] = [twin("1"), twin("2", "then")]
    elif mode == "text-absent-two":
        a, c = twin(Num("1")), twin(Num("2"))
        a.pop("text", None)
        c.pop("text", None)
        mr["dosageInstruction"] = [a, c]
    return f"dosage(MR{i} {mode})"


def quantity(b, rng):
    mrs = resources(b, "MedicationRequest")
    if not mrs:
        return None
    i = rng.randrange(len(mrs))
    dr = mrs[i].get("dispenseRequest")
    if not isinstance(dr, dict):
        return None
    q = dr.get("quantity")
    mode = rng.choice(["value", "rm-unit", "rm-code", "rm-system", "rm", "empty-unit", "rm-value", "string-value", "empty-object"])
    if mode == "rm":
        if q is None:
            return None
        del dr["quantity"]
        return f"quantity(MR{i} rm)"
    if mode == "empty-object":
        dr["quantity"] = {}
        return f"quantity(MR{i} empty-object)"
    if not isinstance(q, dict):
        return None
    if mode == "value":
        v = rng.choice(["0", "1", "1.50", "0.5", "1E2", "100000000", "28.000", "-1"])
        q["value"] = Num(v)
        return f"quantity(MR{i} value={v})"
    if mode == "rm-unit":
        q.pop("unit", None)
    elif mode == "rm-code":
        q.pop("code", None)
    elif mode == "rm-system":
        q.pop("system", None)
    elif mode == "empty-unit":
        q["unit"] = ""
    elif mode == "rm-value":
        q.pop("value", None)
    elif mode == "string-value":
        q["value"] = "12"
    return f"quantity(MR{i} {mode})"


# --------------------------------------------------------------------------------------------
# Agreement between MedicationRequests and other MedicationRequest fields


def mr_disagree(b, rng):
    mrs = resources(b, "MedicationRequest")
    if len(mrs) < 2:
        return None
    mr = mrs[-1]
    field = rng.choice(["groupIdentifier", "authoredOn", "numberOfRepeatsAllowed", "validityPeriod",
                        "expectedSupplyDuration", "performer", "site-type", "repeat-info", "responsible", "subject"])
    dr = mr.setdefault("dispenseRequest", {})
    if field == "groupIdentifier":
        gi = mr.get("groupIdentifier")
        if not isinstance(gi, dict):
            return None
        gi["value"] = "A0548B-A99968-451F2X"
    elif field == "authoredOn":
        mr["authoredOn"] = "2021-01-01T00:00:00+00:00"
    elif field == "numberOfRepeatsAllowed":
        dr["numberOfRepeatsAllowed"] = Num(str(rng.choice([0, 2, 5])))
    elif field == "validityPeriod":
        dr["validityPeriod"] = {"start": "2021-01-01", "end": "2021-06-01"}
    elif field == "expectedSupplyDuration":
        dr["expectedSupplyDuration"] = {"value": Num("7"), "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"}
    elif field == "performer":
        dr["performer"] = {"identifier": {"system": ODS, "value": "FA999"}}
    elif field == "site-type":
        dr["extension"] = [{"url": EXT_PERFORMER_SITE, "valueCoding": {
            "system": "https://fhir.nhs.uk/CodeSystem/dispensing-site-preference", "code": "P2"}}]
    elif field == "repeat-info":
        mr.setdefault("extension", []).append({"url": EXT_REPEAT_INFO, "extension": [
            {"url": "authorisationExpiryDate", "valueDateTime": "2030-01-01"}]})
    elif field == "responsible":
        roles = entries(b, "PractitionerRole")
        if not roles:
            return None
        mr.setdefault("extension", []).append({"url": EXT_RESPONSIBLE, "valueReference": {"reference": roles[-1]["fullUrl"]}})
    elif field == "subject":
        mr["subject"] = {"reference": "urn:uuid:" + new_uuid(rng)}
    return f"mr-disagree({field})"


def repeat_dispensing(b, rng):
    mrs = resources(b, "MedicationRequest")
    if not mrs:
        return None
    mode = rng.choice(["make-rd", "make-rd-no-validity", "make-rd-no-duration", "make-rd-no-repeats",
                       "repeat-info-rm", "repeat-info-empty", "repeats-zero"])
    for mr in mrs:
        dr = mr.setdefault("dispenseRequest", {})
        if not isinstance(dr, dict):
            return None
        if mode.startswith("make-rd"):
            _set_cot(mr, "continuous-repeat-dispensing")
            if mode != "make-rd-no-validity":
                dr.setdefault("validityPeriod", {"start": "2021-05-07", "end": "2022-05-07"})
            else:
                dr.pop("validityPeriod", None)
            if mode != "make-rd-no-duration":
                dr.setdefault("expectedSupplyDuration", {"value": Num("28"), "unit": "day",
                                                         "system": "http://unitsofmeasure.org", "code": "d"})
            else:
                dr.pop("expectedSupplyDuration", None)
            if mode != "make-rd-no-repeats":
                dr.setdefault("numberOfRepeatsAllowed", Num("5"))
            else:
                dr.pop("numberOfRepeatsAllowed", None)
            exts = mr.setdefault("extension", [])
            if isinstance(exts, list) and not any(isinstance(x, dict) and x.get("url") == EXT_REPEAT_INFO for x in exts):
                exts.append({"url": EXT_REPEAT_INFO, "extension": [
                    {"url": "numberOfRepeatPrescriptionsAllowed", "valueUnsignedInt": Num("5")},
                    {"url": "authorisationExpiryDate", "valueDateTime": "2022-05-07"}]})
        elif mode == "repeat-info-rm":
            if isinstance(mr.get("extension"), list):
                mr["extension"] = [x for x in mr["extension"] if not (isinstance(x, dict) and x.get("url") == EXT_REPEAT_INFO)]
        elif mode == "repeat-info-empty":
            for x in mr.get("extension") or []:
                if isinstance(x, dict) and x.get("url") == EXT_REPEAT_INFO:
                    x["extension"] = []
        elif mode == "repeats-zero":
            dr["numberOfRepeatsAllowed"] = Num("0")
    return f"repeat({mode})"


def mr_field(b, rng):
    mrs = resources(b, "MedicationRequest")
    if not mrs:
        return None
    i = rng.randrange(len(mrs))
    mr = mrs[i]
    mode = rng.choice(["status", "intent", "medication-both", "medication-reference", "substitution-rm",
                       "substitution-true", "category-rm", "note", "endorsement", "status-reason", "performer-rm",
                       "performer-site", "item-id-dup", "item-id-rm"])
    if mode == "status":
        v = rng.choice(["active", "cancelled", "on-hold", "draft", "completed"])
        mr["status"] = v
        return f"mr(MR{i} status={v})"
    if mode == "intent":
        v = rng.choice(["order", "original-order", "instance-order", "plan", "reflex-order", "proposal", "filler-order"])
        mr["intent"] = v
        return f"mr(MR{i} intent={v})"
    if mode == "medication-both":
        meds = entries(b, "Medication")
        url = meds[0]["fullUrl"] if meds else "urn:uuid:" + new_uuid(rng)
        mr["medicationReference"] = {"reference": url}
        if "medicationCodeableConcept" not in mr:
            mr["medicationCodeableConcept"] = {"coding": [{"system": "http://snomed.info/sct", "code": "322237000",
                                                           "display": "Paracetamol 500mg soluble tablets"}]}
    elif mode == "medication-reference":
        cc = mr.pop("medicationCodeableConcept", None)
        if cc is None:
            return None
        url = "urn:uuid:" + new_uuid(rng)
        b["entry"].append({"fullUrl": url, "resource": {"resourceType": "Medication", "code": cc}})
        mr["medicationReference"] = {"reference": url}
    elif mode == "substitution-rm":
        if "substitution" not in mr:
            return None
        del mr["substitution"]
    elif mode == "substitution-true":
        mr["substitution"] = {"allowedBoolean": True}
    elif mode == "category-rm":
        if "category" not in mr:
            return None
        del mr["category"]
    elif mode == "note":
        mr["note"] = [{"text": "Dispenser note"}] if rng.random() < 0.7 else [{"text": "a"}, {"text": "b"}]
    elif mode == "endorsement":
        mr.setdefault("extension", []).append({"url": EXT_ENDORSEMENT, "valueCodeableConcept": {"coding": [
            {"system": "https://fhir.nhs.uk/CodeSystem/medicationrequest-endorsement", "code": rng.choice(["FS", "ACBS", "SLS"])}]}})
    elif mode == "status-reason":
        mr["statusReason"] = {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-reason",
                                          "code": rng.choice(["0001", "0002", "0008", "9999"])}]}
    elif mode == "performer-rm":
        dr = mr.get("dispenseRequest")
        if not isinstance(dr, dict) or "performer" not in dr:
            return None
        del dr["performer"]
    elif mode == "performer-site":
        dr = mr.get("dispenseRequest")
        if not isinstance(dr, dict):
            return None
        code = rng.choice(["P1", "P2", "P3", "0004", "X9"])
        dr["extension"] = [{"url": EXT_PERFORMER_SITE, "valueCoding": {
            "system": "https://fhir.nhs.uk/CodeSystem/dispensing-site-preference", "code": code}}]
        return f"mr(MR{i} site={code})"
    elif mode in ("item-id-dup", "item-id-rm"):
        if len(mrs) < 2 and mode == "item-id-dup":
            return None
        idents = mr.get("identifier")
        if not isinstance(idents, list):
            return None
        if mode == "item-id-rm":
            mr["identifier"] = []
        else:
            mr["identifier"] = copy.deepcopy(mrs[0 if i else 1].get("identifier"))
    return f"mr(MR{i} {mode})"


def cancellation(b, rng):
    hdr = resources(b, "MessageHeader")
    if not hdr or not isinstance(hdr[0].get("eventCoding"), dict):
        return None
    mrs = resources(b, "MedicationRequest")
    if not mrs:
        return None
    mode = rng.choice(["status-active", "rm-status-reason", "reason-code", "make-update", "make-order", "bundle-type",
                       "event-bogus", "two-mrs"])
    if mode == "status-active":
        mrs[0]["status"] = "active"
    elif mode == "rm-status-reason":
        if "statusReason" not in mrs[0]:
            return None
        del mrs[0]["statusReason"]
    elif mode == "reason-code":
        code = rng.choice(["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "9999"])
        mrs[0]["statusReason"] = {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-reason",
                                              "code": code, "display": "Reason"}]}
        return f"cancel(reason={code})"
    elif mode == "make-update":
        hdr[0]["eventCoding"]["code"] = "prescription-order-update"
        for mr in mrs:
            mr["status"] = "cancelled"
            mr["statusReason"] = {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-reason",
                                              "code": "0001", "display": "Prescribing Error"}]}
    elif mode == "make-order":
        hdr[0]["eventCoding"]["code"] = "prescription-order"
    elif mode == "bundle-type":
        t = rng.choice(["collection", "document", "transaction", "", None])
        if t is None:
            b.pop("type", None)
        else:
            b["type"] = t
        return f"bundle-type({t})"
    elif mode == "event-bogus":
        hdr[0]["eventCoding"]["code"] = rng.choice(["dispense-notification", "bogus", ""])
        return f"event({hdr[0]['eventCoding']['code']})"
    elif mode == "two-mrs":
        b["entry"].append(_twin_mr(b, rng, mrs[0]))
    return f"cancel({mode})"


# --------------------------------------------------------------------------------------------

EDITS = [
    # (function, weight)
    (rm_entry, 4), (dup_entry, 3), (reorder_entries, 3), (rm_element, 8), (empty_element, 6),
    (dup_array_item, 4), (reverse_array, 2), (extra_resource, 3),
    (practitioner_system, 8), (role_identifier, 4), (patient_identifier, 2),
    (job_role, 4), (course_of_therapy, 6), (add_medication_request, 2), (prescription_type, 6), (gender, 3),
    (telecom, 8), (address, 6), (name, 6),
    (general_practitioner, 5), (part_of, 5), (healthcare_service, 4),
    (role_practitioner_shape, 5), (role_organization_shape, 4),
    (communication_request, 5), (provenance, 4), (signature_xml, 4),
    (dosage, 7), (quantity, 4), (mr_disagree, 5), (repeat_dispensing, 4), (mr_field, 6), (cancellation, 4),
]


def choose_edits(rng):
    funcs = [f for f, _ in EDITS]
    weights = [w for _, w in EDITS]
    n = rng.choices([1, 2, 3], weights=[5, 3, 2])[0]
    return rng.choices(funcs, weights=weights, k=n)
