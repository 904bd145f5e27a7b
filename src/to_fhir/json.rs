//! Writing the FHIR JSON that to-fhir returns, byte for byte in serde_json's pretty layout
//! (two-space indentation, `": "` after keys, `[]` and `{}` when empty, serde_json's string
//! escapes), which is what the reference's output reads as.
//!
//! Written here rather than through serde_json's serializer: that one escapes strings a byte
//! at a time through a table and was the largest single cost of writing a release response;
//! this crosses plain runs of a string a word at a time. A unit test pins the output equal to
//! `serde_json::to_string_pretty` on values with every kind of escape.

use super::common::RAW_NUMBER_MARK;
use crate::json_skim::{bytes_below_space, word_at, zero_bytes, BACKSLASHES, QUOTES};
use serde_json::Value;

/// The value as pretty JSON followed by a newline. A string marked by [`RAW_NUMBER_MARK`]
/// is written as the number text it holds, unquoted.
pub fn write(value: &Value) -> String {
    let mut out = String::with_capacity(64 * 1024);
    write_value(value, 0, &mut out);
    out.push('\n');
    out
}

fn write_value(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            use std::fmt::Write;
            // Formatting into a String cannot fail.
            let _ = write!(out, "{n}");
        }
        Value::String(s) => match s.strip_prefix(RAW_NUMBER_MARK) {
            Some(number) => out.push_str(number),
            None => write_string(s, out),
        },
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                new_line(level + 1, out);
                write_value(item, level + 1, out);
            }
            new_line(level, out);
            out.push(']');
        }
        Value::Object(members) => {
            if members.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (key, member)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                new_line(level + 1, out);
                write_string(key, out);
                out.push_str(": ");
                write_value(member, level + 1, out);
            }
            new_line(level, out);
            out.push('}');
        }
    }
}

/// A line break and `level` steps of two-space indentation, copied from one buffer.
fn new_line(level: usize, out: &mut String) {
    const LINE: &str = "\n                                                                ";
    let mut width = level * 2;
    let first = width.min(LINE.len() - 1);
    out.push_str(&LINE[..1 + first]);
    width -= first;
    while width > 0 {
        let n = width.min(LINE.len() - 1);
        out.push_str(&LINE[1..1 + n]);
        width -= n;
    }
}

/// A quoted JSON string with serde_json's escapes: `\"`, `\\`, the short forms `\b \t \n
/// \f \r`, and `\u00xx` (lower-case hex) for the other control characters; everything else,
/// including DEL and non-ASCII, as it is.
fn write_string(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    out.push('"');
    let mut start = 0;
    let mut i = 0;
    // A word at a time to the next byte that needs an escape; the last few bytes of the
    // string are read as a word padded with a letter, which never needs one.
    while i < bytes.len() {
        let word = word_at(bytes, i).unwrap_or_else(|| {
            let mut padded = [b'a'; 8];
            padded[..bytes.len() - i].copy_from_slice(&bytes[i..]);
            u64::from_le_bytes(padded)
        });
        let hits =
            zero_bytes(word ^ QUOTES) | zero_bytes(word ^ BACKSLASHES) | bytes_below_space(word);
        if hits == 0 {
            i += 8;
            continue;
        }
        i += hits.trailing_zeros() as usize / 8;
        let Some(&byte) = bytes.get(i) else { break };
        let escape: &str = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            _ => "",
        };
        // Escaped bytes are ASCII, so the cuts are on character boundaries.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::write;
    use serde_json::json;

    /// The layout and escapes equal serde_json's own pretty printer, also deeper than one
    /// indentation buffer, with empty containers, every control character, quotes and
    /// backslashes at every position in a word, and non-ASCII text.
    #[test]
    fn matches_serde_json_pretty() {
        let controls: String = (0u8..0x20).map(char::from).collect();
        let mut strings = vec![
            controls.clone(),
            "plain".to_string(),
            "x\"y\\z\u{7f}é€𝄞".to_string(),
            String::new(),
        ];
        for at in 0..17 {
            for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "é"] {
                let mut s = "a".repeat(at);
                s.push_str(special);
                s.push_str(&"b".repeat(17 - at));
                strings.push(s);
            }
        }
        let mut deep = json!({
            "leaf": [1, 1.5, -0.0, {}, [], null, true, false, strings],
            controls: "key with controls",
        });
        for i in 0..40 {
            deep = json!({ format!("k{i}"): [deep, {"n": i}] });
        }
        assert_eq!(
            write(&deep),
            serde_json::to_string_pretty(&deep).unwrap() + "\n"
        );
    }

    /// A marked number is written unquoted, exactly as held.
    #[test]
    fn marked_numbers_are_written_as_their_text() {
        let value = json!({"value": format!("{}1.50", super::RAW_NUMBER_MARK), "n": "1e1"});
        assert_eq!(
            write(&value),
            "{\n  \"value\": 1.50,\n  \"n\": \"1e1\"\n}\n"
        );
    }
}
