//! The exclusive-canonical rendering (XML-DSig `xml-exc-c14n#`, no comments) of an element
//! tree, written straight from the model — no serialise-and-reparse on the signing path.
//!
//! It produces exactly what a standard canonicaliser outputs after parsing the pretty
//! rendering: attribute values as an XML parser normalises them (each run of tabs or form
//! feeds, each LF, CRLF or CR becomes a space, as the pretty writer and attribute-value
//! normalisation together make them), text with CRLF and CR as LF (end-of-line handling),
//! then C14N escaping. Namespace declarations are ordinary `xmlns` attributes in this model;
//! a declaration is written where it is not already in force from an output ancestor, as
//! exclusive C14N does for the visibly used default namespace (the only kind these trees use).

use super::element::{Content, Element};
use super::scan::{next_not_plain, PLAIN};

/// Appends the canonical form of `el` to `out`. `inherited_default` is the default namespace
/// in force from the canonical output's ancestors (`""` for none).
pub fn write_canonical(el: &Element, inherited_default: &str, out: &mut Vec<u8>) {
    write_canonical_part(el, inherited_default, None, &|_, _, _| true, out);
}

/// Which children a part keeps: `keep(depth, parent name, child)`, depth 1 for the part's
/// own children.
pub type Keep<'k> = dyn Fn(usize, &str, &Element) -> bool + 'k;

/// The canonical form of `el` as if its `xmlns` were `default_ns` (when given) and without
/// the children `keep` refuses: a signature fragment written from the message tree as it
/// is, with no copy made to adjust.
pub fn write_canonical_part(
    el: &Element,
    inherited_default: &str,
    default_ns: Option<&str>,
    keep: &Keep<'_>,
    out: &mut Vec<u8>,
) {
    write_at(el, inherited_default, default_ns, 0, keep, out);
}

fn write_at(
    el: &Element,
    inherited_default: &str,
    own_default: Option<&str>,
    depth: usize,
    keep: &Keep<'_>,
    out: &mut Vec<u8>,
) {
    out.push(b'<');
    out.extend_from_slice(el.name.as_bytes());
    let mut default_ns = inherited_default;
    // Declarations sort first among an element's attributes, so a default one is first.
    let declared = el.attrs.first().filter(|(name, _)| name == "xmlns");
    if let Some(ns) = own_default.or(declared.map(|(_, value)| value.as_ref())) {
        if ns != inherited_default {
            out.extend_from_slice(b" xmlns=\"");
            escape_attribute(ns, out);
            out.push(b'"');
        }
        default_ns = ns;
    }
    for (name, value) in &el.attrs {
        if name == "xmlns" || name.starts_with("xmlns:") {
            continue;
        }
        out.push(b' ');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_attribute(value, out);
        out.push(b'"');
    }
    out.push(b'>');
    match &el.content {
        Content::Empty => {}
        Content::Text(t) => escape_text(t, out),
        Content::Children(children) => {
            for c in children.iter().filter(|c| keep(depth + 1, &el.name, c)) {
                write_at(c, default_ns, None, depth + 1, keep, out);
            }
        }
    }
    out.extend_from_slice(b"</");
    out.extend_from_slice(el.name.as_bytes());
    out.push(b'>');
}

/// A table of the bytes an escaping loop must look at (class 1); the rest are copied as
/// they are ([`PLAIN`]).
const fn special_bytes(special: &[u8]) -> [u8; 256] {
    let mut table = [PLAIN; 256];
    let mut i = 0;
    while i < special.len() {
        table[special[i] as usize] = 1;
        i += 1;
    }
    table
}

const TEXT_SPECIAL: [u8; 256] = special_bytes(b"&<>\r");
const ATTRIBUTE_SPECIAL: [u8; 256] = special_bytes(b"&<\"\r\n\t\x0c");

/// C14N text escaping after XML end-of-line handling.
fn escape_text(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let mut last = 0;
    let mut i = 0;
    loop {
        i = next_not_plain(bytes, &TEXT_SPECIAL, i);
        let Some(&b) = bytes.get(i) else { break };
        let (rep, skip): (&[u8], usize) = match b {
            b'&' => (b"&amp;", 1),
            b'<' => (b"&lt;", 1),
            b'>' => (b"&gt;", 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => (b"\n", 2),
            b'\r' => (b"\n", 1),
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        i += skip;
        last = i;
    }
    out.extend_from_slice(&bytes[last..]);
}

/// C14N attribute escaping of the value a parser would see from the pretty rendering.
fn escape_attribute(value: &str, out: &mut Vec<u8>) {
    let bytes = value.as_bytes();
    let mut last = 0;
    let mut i = 0;
    loop {
        i = next_not_plain(bytes, &ATTRIBUTE_SPECIAL, i);
        let Some(&b) = bytes.get(i) else { break };
        let (rep, skip): (&[u8], usize) = match b {
            b'&' => (b"&amp;", 1),
            b'<' => (b"&lt;", 1),
            b'"' => (b"&quot;", 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => (b" ", 2),
            b'\n' | b'\r' => (b" ", 1),
            b'\t' | 0x0c => {
                let mut j = i + 1;
                while j < bytes.len() && matches!(bytes[j], b'\t' | 0x0c) {
                    j += 1;
                }
                (b" ", j - i)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        i += skip;
        last = i;
    }
    out.extend_from_slice(&bytes[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_elements_are_expanded_and_namespaces_declared_once() {
        let el = Element::new("a")
            .attr("xmlns", "urn:x")
            .attr("v", "1 & <2> \"3\"\t\tend\r\nx")
            .child(Element::new("b").text("p\r\nq\rr & <s>"));
        let mut out = Vec::new();
        write_canonical(&el, "", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<a xmlns=\"urn:x\" v=\"1 &amp; &lt;2> &quot;3&quot; end x\"><b>p\nq\nr &amp; &lt;s&gt;</b></a>"
        );
    }
}
