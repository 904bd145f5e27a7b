//! The pretty rendering: the reference implementation's exact formatting.
//!
//! XML declaration, 2-space indentation, `<a/>` for empty elements, attributes in name order,
//! text escaping `& < >`, attribute escaping `& < > " '` (`'` as `&#39;`), and in attribute
//! values each run of tabs or form feeds and each LF or CRLF written as one space (a lone CR
//! is kept, as the reference keeps it).

use super::element::{Content, Element};
use super::scan::{next_not_plain, PLAIN};

/// The XML declaration the reference writes.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// Writes a whole document: declaration, the root element, and a trailing newline.
pub fn write_document(root: &Element) -> String {
    write_document_screened(root).0
}

/// [`write_document`], also saying whether any text or attribute value may hold a character
/// XML 1.0 cannot carry: a control character other than tab, LF and CR, or the byte 0xEF that
/// starts U+FFFE and U+FFFF. The screen rides on the escaping loops, which read every byte
/// anyway; `true` calls for the exact check (`translate::report::refuse_non_xml`).
pub fn write_document_screened(root: &Element) -> (String, bool) {
    // Sized for the largest messages seen (about 50 KB) so the buffer rarely grows.
    let mut out = String::with_capacity(64 * 1024);
    out.push_str(XML_DECLARATION);
    out.push('\n');
    let mut suspect = false;
    write_screened(root, 0, &mut out, &mut suspect);
    out.push('\n');
    (out, suspect)
}

/// Writes one element at an indentation depth (no trailing newline).
pub fn write_element(el: &Element, depth: usize, out: &mut String) {
    write_screened(el, depth, out, &mut false);
}

fn write_screened(el: &Element, depth: usize, out: &mut String, suspect: &mut bool) {
    indent(depth, out);
    out.push('<');
    out.push_str(&el.name);
    for (name, value) in &el.attrs {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        *suspect |= escape_attribute_screened(value, out);
        out.push('"');
    }
    match &el.content {
        Content::Empty => out.push_str("/>"),
        Content::Text(text) => {
            out.push('>');
            *suspect |= escape_text_screened(text, out);
            close(el, out);
        }
        Content::Children(children) if children.is_empty() => out.push_str("/>"),
        Content::Children(children) => {
            out.push('>');
            for child in children {
                out.push('\n');
                write_screened(child, depth + 1, out, suspect);
            }
            out.push('\n');
            indent(depth, out);
            close(el, out);
        }
    }
}

fn close(el: &Element, out: &mut String) {
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
}

fn indent(depth: usize, out: &mut String) {
    const SPACES: &str = "                                                                ";
    let mut width = depth * 2;
    while width > 0 {
        let n = width.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        width -= n;
    }
}

/// Escapes text content: `&`, `<` and `>`.
pub fn escape_text(text: &str, out: &mut String) {
    escape_text_screened(text, out);
}

// How the escaping loops class a byte, besides `PLAIN` (copied as it is):
/// Escaped or rewritten (in text: `& < >`; in attribute values also quotes and whitespace).
const SPECIAL: u8 = 1;
/// May start a character XML 1.0 cannot carry (see [`write_document_screened`]).
const SUSPECT: u8 = 2;

const fn byte_classes(special: &[u8]) -> [u8; 256] {
    let mut table = [PLAIN; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = SUSPECT;
        b += 1;
    }
    table[b'\t' as usize] = PLAIN;
    table[b'\n' as usize] = PLAIN;
    table[b'\r' as usize] = PLAIN;
    table[0xEF] = SUSPECT;
    let mut i = 0;
    while i < special.len() {
        table[special[i] as usize] = SPECIAL;
        i += 1;
    }
    table
}

const TEXT_CLASSES: [u8; 256] = byte_classes(b"&<>");
const ATTRIBUTE_CLASSES: [u8; 256] = byte_classes(b"&<>\"'\n\r\t\x0c");

fn escape_text_screened(text: &str, out: &mut String) -> bool {
    let bytes = text.as_bytes();
    let mut suspect = false;
    let mut last = 0;
    let mut i = 0;
    loop {
        i = next_not_plain(bytes, &TEXT_CLASSES, i);
        let Some(&b) = bytes.get(i) else { break };
        if TEXT_CLASSES[usize::from(b)] == SUSPECT {
            suspect = true;
            i += 1;
            continue;
        }
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            _ => "&gt;",
        };
        out.push_str(&text[last..i]);
        out.push_str(rep);
        i += 1;
        last = i;
    }
    out.push_str(&text[last..]);
    suspect
}

/// Escapes an attribute value as the reference does (see the module docs).
pub fn escape_attribute(value: &str, out: &mut String) {
    escape_attribute_screened(value, out);
}

fn escape_attribute_screened(value: &str, out: &mut String) -> bool {
    let bytes = value.as_bytes();
    let mut suspect = false;
    let mut last = 0;
    let mut i = 0;
    loop {
        i = next_not_plain(bytes, &ATTRIBUTE_CLASSES, i);
        let Some(&b) = bytes.get(i) else { break };
        if ATTRIBUTE_CLASSES[usize::from(b)] == SUSPECT {
            suspect = true;
            i += 1;
            continue;
        }
        let (rep, len): (&str, usize) = match b {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&#39;", 1),
            b'\n' => (" ", 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => (" ", 2),
            b'\r' => {
                // A lone CR is kept, as the reference keeps it.
                i += 1;
                continue;
            }
            _ => {
                // Tabs and form feeds: each run is one space.
                let mut j = i + 1;
                while j < bytes.len() && matches!(bytes[j], b'\t' | 0x0c) {
                    j += 1;
                }
                (" ", j - i)
            }
        };
        out.push_str(&value[last..i]);
        out.push_str(rep);
        i += len;
        last = i;
    }
    out.push_str(&value[last..]);
    suspect
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_whitespace_and_quotes() {
        let mut out = String::new();
        escape_attribute("Tab\tLF\nCRLF\r\nCR\rFF\x0cEND 'a' \"b\" <&>", &mut out);
        assert_eq!(
            out,
            "Tab LF CRLF CR\rFF END &#39;a&#39; &quot;b&quot; &lt;&amp;&gt;"
        );
    }

    #[test]
    fn text_keeps_quotes_and_newlines() {
        let mut out = String::new();
        escape_text("a & <b> \"q\" 'x'\r\n", &mut out);
        assert_eq!(out, "a &amp; &lt;b&gt; \"q\" 'x'\r\n");
    }

    #[test]
    fn screen_flags_controls_and_0xef_but_not_tab_lf_cr() {
        let doc = |text: &str, attr: &str| {
            Element::new("a")
                .attr("v", attr.to_string())
                .text(text.to_string())
        };
        assert!(!write_document_screened(&doc("t\tl\nc\r é", "t\tl\nc\r\u{c}")).1);
        assert!(write_document_screened(&doc("x\u{0}", "")).1);
        assert!(write_document_screened(&doc("", "x\u{1f}")).1);
        assert!(write_document_screened(&doc("\u{fffe}", "")).1);
        assert!(write_document_screened(&doc("\u{c}", "")).1);
    }

    #[test]
    fn pretty_layout() {
        let doc = Element::new("a")
            .attr("z", "1")
            .attr("b", "2")
            .child(Element::new("c"))
            .child(Element::new("d").text("x"));
        assert_eq!(
            write_document(&doc),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a b=\"2\" z=\"1\">\n  <c/>\n  <d>x</d>\n</a>\n"
        );
    }
}
