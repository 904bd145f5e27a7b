//! Escaping of character data for canonical output (C14N 1.0 section 2.3).

/// Appends `s` as canonical text-node content: `&`, `<`, `>` and carriage return escaped.
pub(crate) fn text(out: &mut Vec<u8>, s: &str) {
    escape(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// Appends `s` as a canonical attribute value: `&`, `<`, `"`, tab, line feed and carriage
/// return escaped.
pub(crate) fn attribute(out: &mut Vec<u8>, s: &str) {
    escape(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#x9;"),
        b'\n' => Some(b"&#xA;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// Appends comment or processing-instruction content with XML line-end normalisation
/// (`\r\n` and lone `\r` become `\n`), which roxmltree leaves undone for these nodes.
pub(crate) fn raw_with_newlines(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' {
            out.extend_from_slice(&bytes[start..i]);
            out.push(b'\n');
            if bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Copies runs of ordinary bytes in one go and replaces the special ones. All special bytes
/// are ASCII, so UTF-8 sequences pass through untouched.
#[inline]
fn escape(out: &mut Vec<u8>, s: &str, special: impl Fn(u8) -> Option<&'static [u8]>) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(replacement) = special(b) {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(replacement);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}
