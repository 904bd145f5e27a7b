//! The prescriber's signature → Provenance.
//!
//! `signature.data` is base64 of the exclusive-canonical form of what `signatureText`
//! holds (the XML-DSig `Signature`, or whatever element stands there), with whitespace-only
//! text dropped as the reference's XML reader drops it; `when` and `recorded` are the author
//! time; the targets are every other resource of the Bundle. The forward translation decodes
//! `data` back into `signatureText` and takes the author time from `when`.
//!
//! A `signatureText` with no element (`nullFlavor="NA"`) gives a Provenance with no `data`:
//! the forward translation then writes `nullFlavor="NA"` again and still keeps the time.

use super::common::{date_time, obj, reference};
use super::xml::{El, Result};
use base64::Engine;
use roxmltree::Node;
use serde_json::{json, Map, Value};

/// The Provenance for a prescription's `author`, or `None` when it has no `signatureText`.
pub fn provenance(
    author: &El<'_, '_>,
    id: &str,
    author_role_id: &str,
    targets: &[String],
) -> Result<Option<Value>> {
    let Some(signature_text) = author.opt("signatureText") else {
        return Ok(None);
    };
    let when = date_time(&author.child("time")?, "value")?;
    let mut signature = Map::new();
    signature.insert("who".into(), reference(author_role_id));
    signature.insert("when".into(), json!(when));
    if let Some(content) = signature_text.node.children().find(|c| c.is_element()) {
        let mut canonical = String::new();
        write_canonical(content, &mut Vec::new(), &mut canonical);
        signature.insert(
            "data".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(canonical)),
        );
    }
    signature.insert(
        "type".into(),
        json!([{"code": "1.2.840.10065.1.12.1.1", "system": "urn:iso-astm:E1762-95:2013"}]),
    );
    Ok(Some(obj([
        ("resourceType", json!("Provenance")),
        ("id", json!(id)),
        ("agent", json!([{"who": reference(author_role_id)}])),
        ("recorded", json!(when)),
        ("signature", Value::Array(vec![Value::Object(signature)])),
        (
            "target",
            Value::Array(targets.iter().map(|t| reference(t)).collect()),
        ),
    ])))
}

/// The prefix a node uses for `uri` (`None` for the default namespace).
fn prefix_of<'a>(node: Node<'a, '_>, uri: &str) -> Option<&'a str> {
    node.lookup_prefix(uri).filter(|p| !p.is_empty())
}

/// Exclusive XML canonicalisation of an element subtree, whitespace-only text left out:
/// each element declares the namespaces it visibly uses that an output ancestor has not
/// already declared with the same URI; attributes sorted by namespace URI then local name.
fn write_canonical<'a>(
    node: Node<'a, '_>,
    rendered: &mut Vec<(&'a str, &'a str)>,
    out: &mut String,
) {
    let depth = rendered.len();
    let uri = node.tag_name().namespace().unwrap_or("");
    let prefix = if uri.is_empty() {
        None
    } else {
        prefix_of(node, uri)
    };
    let mut needed: Vec<(&'a str, &'a str)> = vec![(prefix.unwrap_or(""), uri)];
    let mut attrs: Vec<(&'a str, &'a str, Option<&'a str>, &'a str)> = Vec::new();
    for a in node.attributes() {
        let a_uri = a.namespace().unwrap_or("");
        let a_prefix = if a_uri.is_empty() {
            None
        } else {
            prefix_of(node, a_uri)
        };
        if let Some(p) = a_prefix {
            needed.push((p, a_uri));
        }
        attrs.push((a_uri, a.name(), a_prefix, a.value()));
    }
    let mut declarations: Vec<(&'a str, &'a str)> = Vec::new();
    for (p, u) in needed {
        let in_force = rendered
            .iter()
            .rev()
            .find(|(rp, _)| *rp == p)
            .map(|(_, ru)| *ru)
            .unwrap_or("");
        if in_force != u && !declarations.iter().any(|(dp, _)| *dp == p) {
            declarations.push((p, u));
        }
    }
    declarations.sort_unstable();
    attrs.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

    let push_name = |out: &mut String, p: Option<&str>, local: &str| {
        if let Some(p) = p {
            out.push_str(p);
            out.push(':');
        }
        out.push_str(local);
    };
    let local = node.tag_name().name();
    out.push('<');
    push_name(out, prefix, local);
    for (p, u) in &declarations {
        if p.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(p);
            out.push_str("=\"");
        }
        escape_attribute(u, out);
        out.push('"');
    }
    for (_, attr_local, p, value) in &attrs {
        out.push(' ');
        push_name(out, *p, attr_local);
        out.push_str("=\"");
        escape_attribute(value, out);
        out.push('"');
    }
    out.push('>');
    rendered.extend(declarations);
    for child in node.children() {
        if child.is_element() {
            write_canonical(child, rendered, out);
        } else if child.is_text() {
            let text = child.text().unwrap_or("");
            if !text.trim().is_empty() {
                escape_text(text, out);
            }
        }
    }
    rendered.truncate(depth);
    out.push_str("</");
    push_name(out, prefix, local);
    out.push('>');
}

fn escape_text(text: &str, out: &mut String) {
    escape_with(text, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'\r' => Some("&#xD;"),
        _ => None,
    });
}

fn escape_attribute(value: &str, out: &mut String) {
    escape_with(value, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'"' => Some("&quot;"),
        b'\t' => Some("&#x9;"),
        b'\n' => Some("&#xA;"),
        b'\r' => Some("&#xD;"),
        _ => None,
    });
}

/// Copies `text` with the replacements `escape` names; runs without any are copied whole
/// (every byte replaced is ASCII, so each cut is on a character boundary).
fn escape_with(text: &str, out: &mut String, escape: impl Fn(u8) -> Option<&'static str>) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        if let Some(rep) = escape(b) {
            out.push_str(&text[last..i]);
            out.push_str(rep);
            last = i + 1;
        }
    }
    out.push_str(&text[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(xml: &str, path: &[&str]) -> String {
        let doc = roxmltree::Document::parse(xml).unwrap();
        let mut node = doc.root_element();
        for step in path {
            node = node
                .children()
                .find(|c| c.tag_name().name() == *step)
                .unwrap();
        }
        let mut out = String::new();
        write_canonical(node, &mut Vec::new(), &mut out);
        out
    }

    #[test]
    fn whitespace_dropped_and_namespace_declared_where_used() {
        let xml = "<a xmlns=\"urn:hl7-org:v3\"><s>\n  <Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">\n    <SignedInfo b=\"2\" a=\"1\"/>\n    <Value>x&amp;y</Value>\n  </Signature>\n</s></a>";
        assert_eq!(
            canonical(xml, &["s", "Signature"]),
            "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><SignedInfo a=\"1\" b=\"2\"></SignedInfo><Value>x&amp;y</Value></Signature>"
        );
    }

    #[test]
    fn an_inherited_prefix_is_declared_on_the_apex() {
        let xml = "<r xmlns:ds=\"urn:d\"><ds:Signature><ds:V/></ds:Signature></r>";
        assert_eq!(
            canonical(xml, &["Signature"]),
            "<ds:Signature xmlns:ds=\"urn:d\"><ds:V></ds:V></ds:Signature>"
        );
    }
}
