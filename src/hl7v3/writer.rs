//! The pretty rendering: the reference implementation's exact formatting.
//!
//! XML declaration, 2-space indentation, `<a/>` for empty elements, attributes in name order,
//! text escaping `& < >`, attribute escaping `& < > " '` (`'` as `&#39;`), and in attribute
//! values each run of tabs or form feeds and each LF or CRLF written as one space (a lone CR
//! is kept, as the reference keeps it).

use super::element::{Content, Element};

/// The XML declaration the reference writes.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// Writes a whole document: declaration, the root element, and a trailing newline.
pub fn write_document(root: &Element) -> String {
    // Sized for the largest messages seen (about 50 KB) so the buffer rarely grows.
    let mut out = String::with_capacity(64 * 1024);
    out.push_str(XML_DECLARATION);
    out.push('\n');
    write_element(root, 0, &mut out);
    out.push('\n');
    out
}

/// Writes one element at an indentation depth (no trailing newline).
pub fn write_element(el: &Element, depth: usize, out: &mut String) {
    indent(depth, out);
    out.push('<');
    out.push_str(&el.name);
    for (name, value) in &el.attrs {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_attribute(value, out);
        out.push('"');
    }
    match &el.content {
        Content::Empty => out.push_str("/>"),
        Content::Text(text) => {
            out.push('>');
            escape_text(text, out);
            close(el, out);
        }
        Content::Children(children) if children.is_empty() => out.push_str("/>"),
        Content::Children(children) => {
            out.push('>');
            for child in children {
                out.push('\n');
                write_element(child, depth + 1, out);
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
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// Escapes an attribute value as the reference does (see the module docs).
pub fn escape_attribute(value: &str, out: &mut String) {
    let bytes = value.as_bytes();
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (rep, len): (&str, usize) = match bytes[i] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&#39;", 1),
            b'\n' => (" ", 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => (" ", 2),
            b'\t' | 0x0c => {
                let mut j = i + 1;
                while j < bytes.len() && matches!(bytes[j], b'\t' | 0x0c) {
                    j += 1;
                }
                (" ", j - i)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&value[last..i]);
        out.push_str(rep);
        i += len;
        last = i;
    }
    out.push_str(&value[last..]);
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
