//! Generators of hostile input families, shared by `tests/hostile_families.rs` (each
//! completes or is refused naming its limit) and `benches/growth.rs` (how cost grows).
#![allow(dead_code)]

use base64::Engine;

/// The golden minimal Bundle, parsed.
pub fn base_bundle() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/convert/acute_minimal.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The golden minimal Bundle with `xml` as the requester's Provenance signature.
pub fn bundle_signed_with(xml: &str) -> Vec<u8> {
    let mut bundle = base_bundle();
    let data = base64::engine::general_purpose::STANDARD.encode(xml);
    bundle["entry"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000099",
            "resource": {"resourceType": "Provenance", "signature": [{
                "when": "2022-01-31T00:00:00+00:00",
                "who": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000005"},
                "data": data}]}
        }));
    serde_json::to_vec(&bundle).unwrap()
}

/// Root declarations plus one more on each child.
pub fn namespaces(n: usize) -> String {
    let root: String = (0..n).map(|i| format!(" xmlns:p{i}='urn:p{i}'")).collect();
    let children: String = (0..n)
        .map(|i| format!("<p0:c xmlns:q{i}='urn:q{i}'/>"))
        .collect();
    format!("<Signature xmlns='http://www.w3.org/2000/09/xmldsig#'{root}>{children}</Signature>")
}

pub fn attributes(n: usize) -> String {
    let attrs: String = (0..n).map(|i| format!(" a{i}='v'")).collect();
    format!("<Signature xmlns='http://www.w3.org/2000/09/xmldsig#'{attrs}/>")
}

pub fn dtd_defaults(defaults: usize, elements: usize) -> String {
    let defs: String = (0..defaults)
        .map(|i| format!(" d{i} CDATA 'v{i}'"))
        .collect();
    format!(
        "<!DOCTYPE r [<!ATTLIST a{defs}>]><r>{}</r>",
        "<a/>".repeat(elements)
    )
}

pub fn nested(depth: usize) -> String {
    format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
}

/// `copies` chains of 100 nested `a` around one `b`: `//a//b` selects each `b` from 100
/// context nodes.
pub fn chains(copies: usize) -> String {
    let chain = format!("{}<b/>{}", "<a>".repeat(100), "</a>".repeat(100));
    format!("<r>{}</r>", chain.repeat(copies))
}

/// `n` inclusive-namespace prefixes.
pub fn prefixes(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("p{i}")).collect()
}

/// An attribute value and a text node of `len` bytes each.
pub fn long_strings(len: usize) -> String {
    format!("<a b='{}'>{}</a>", "x".repeat(len), "y".repeat(len))
}

/// The base Bundle with a wide array where a string list is expected, and one nobody reads.
pub fn wide_arrays(n: usize) -> Vec<u8> {
    let mut b = base_bundle();
    b["entry"][2]["resource"]["name"][0]["given"] = serde_json::Value::Array(vec!["X".into(); n]);
    b["x-wide"] = serde_json::Value::Array(vec![1.into(); n]);
    serde_json::to_vec(&b).unwrap()
}

/// The base Bundle with `n` entries nothing refers to.
pub fn many_entries(n: usize) -> Vec<u8> {
    let mut b = base_bundle();
    let extra = serde_json::json!({"fullUrl": "urn:uuid:x", "resource": {"resourceType": "Basic"}});
    b["entry"]
        .as_array_mut()
        .unwrap()
        .extend(std::iter::repeat_n(extra, n));
    serde_json::to_vec(&b).unwrap()
}

/// The base Bundle with a `depth`-deep array nobody reads.
pub fn deep_arrays(depth: usize) -> Vec<u8> {
    let text = String::from_utf8(serde_json::to_vec(&base_bundle()).unwrap()).unwrap();
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    text.replacen('{', &format!("{{\"x-deep\": {deep},"), 1)
        .into_bytes()
}

/// The base Bundle with its one MedicationRequest repeated as `n` line items (each its own
/// entry and item number).
pub fn many_line_items(n: usize) -> Vec<u8> {
    let mut b = base_bundle();
    let entries = b["entry"].as_array_mut().unwrap();
    let item = entries[1].clone();
    entries.remove(1);
    for i in 0..n {
        let mut e = item.clone();
        e["fullUrl"] = format!("urn:uuid:10000000-0000-4000-8000-{i:012}").into();
        e["resource"]["identifier"][0]["value"] = format!("b0000000-0000-4000-8000-{i:012}").into();
        entries.insert(1 + i, e);
    }
    serde_json::to_vec(&b).unwrap()
}
