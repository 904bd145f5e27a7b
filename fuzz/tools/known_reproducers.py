#!/usr/bin/env python3
"""Writes the known cost reproducers of issue 19 into fuzz/regressions/<target>/, sized to
stay under 200 KB each (the cost limits refuse them well before that size):

  python3 fuzz/tools/known_reproducers.py

A file named too-costly-* must be refused with the too-costly issue; the replay test
(tests/fuzz_replay.rs) checks that, and that every other file completes or is refused
clearly."""
import base64, json, os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "regressions")


def write(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) < 200_000, (target, name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


DSIG = "http://www.w3.org/2000/09/xmldsig#"


def namespaces(n, root_name="Signature", ns=DSIG):
    decls = "".join(f" xmlns:p{i}='urn:p{i}'" for i in range(n))
    children = "".join(f"<p0:c xmlns:q{i}='urn:q{i}'/>" for i in range(n))
    return f"<{root_name} xmlns='{ns}'{decls}>{children}</{root_name}>"


def attributes(n):
    return "<Signature xmlns='%s'%s/>" % (DSIG, "".join(f" a{i}='v'" for i in range(n)))


# Namespace declarations: 2,000 on the root, one more on each of 2,000 children.
ns = namespaces(2000)
write("c14n", "too-costly-namespace-declarations", "0\n" + ns)
write("to_fhir", "too-costly-namespace-declarations",
      namespaces(2000, "PORX_IN020101SM31", "urn:hl7-org:v3"))
write("bundle_signature", "too-costly-namespace-declarations", ns)
bundle = json.load(open(os.path.join(here, "..", "..", "golden", "convert", "acute_minimal.json")))
bundle["entry"].append({
    "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000099",
    "resource": {"resourceType": "Provenance", "signature": [{
        "when": "2022-01-31T00:00:00+00:00",
        "who": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000005"},
        "data": base64.b64encode(ns.encode()).decode()}]}})
write("verify", "too-costly-namespace-declarations-bundle", json.dumps(bundle))
# Many attributes on one element (12,000 here; the report had 50,000).
write("c14n", "too-costly-attributes", "2\n" + attributes(12000))
write("to_fhir", "too-costly-attributes", attributes(12000))
# DTD attribute defaults applied to many elements.
defs = "".join(f" d{i} CDATA 'v{i}'" for i in range(1500))
write("c14n", "too-costly-dtd-defaults",
      "2\n<!DOCTYPE r [<!ATTLIST a%s>]><r>%s</r>" % (defs, "<a/>" * 2000))
# A descendant selection under a descendant selection, over many deep chains.
chain = "<a>" * 100 + "<b/>" + "</a>" * 100
write("c14n", "subtree-descendants", "0//a//b\n<r>%s</r>" % (chain * 250))
# A long InclusiveNamespaces prefix list.
prefixes = " ".join(f"p{i}" for i in range(20000))
write("c14n", "prefix-list", "0|%s\n%s" % (prefixes, namespaces(100)))
