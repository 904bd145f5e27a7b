//! What did not travel, and what cannot: lists the Bundle data the HL7 v3 message has no
//! place for (`mappings/carried-paths.tsv`), and refuses a message that would hold a
//! character XML 1.0 cannot carry, naming the FHIRPaths of the input strings that hold it.
//!
//! The not-carried walk reads the JSON lazily (object members as raw JSON text) and skips
//! every subtree that is carried whole, so it costs little on typical Bundles.

use crate::error::{Issue, IssueCode, Rejection};
use crate::hl7v3::{Content, Element};
use crate::json_skim::Skim;
use rustc_hash::FxHashSet;
use serde_json::Value;
use std::fmt::Write;
use std::sync::OnceLock;

/// The carried paths: exact patterns (`Patient.name`), and the members any resource may
/// carry (the `*.id` rows, kept without their `*.`).
struct Carried {
    exact: FxHashSet<&'static str>,
    any_resource: FxHashSet<&'static str>,
}

fn carried() -> &'static Carried {
    static PATHS: OnceLock<Carried> = OnceLock::new();
    PATHS.get_or_init(|| {
        let rows = include_str!("../../mappings/carried-paths.tsv")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next());
        let (mut exact, mut any_resource) = (FxHashSet::default(), FxHashSet::default());
        for row in rows {
            match row.strip_prefix("*.") {
                Some(member) => any_resource.insert(member),
                None => exact.insert(row),
            };
        }
        Carried {
            exact,
            any_resource,
        }
    })
}

/// Whether a character may appear in an XML 1.0 document.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// The FHIRPaths of Bundle data that the HL7 v3 message does not carry.
///
/// A single pass over the JSON text that skips every carried subtree by bracket matching
/// (written by hand: a JSON tree or per-level re-parsing cost several times the translation
/// itself). The input has already been parsed successfully, so it is well-formed JSON.
pub fn not_carried(bundle_json: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut skim = Skim::new(bundle_json);
    skim.walk(
        &mut String::from("Bundle"),
        &mut String::from("Bundle"),
        &mut out,
    );
    out
}

/// Whether this exact pattern (or its `*.` form) is listed: the walk checks every level on the
/// way down, so a carried ancestor has already stopped it.
fn carried_here(pattern: &str) -> bool {
    let set = carried();
    if set.exact.contains(pattern) {
        return true;
    }
    // `*.x` rows name one member of any resource (`*.id`, `*.meta`).
    let bytes = pattern.as_bytes();
    match bytes.iter().position(|&b| b == b'.') {
        Some(dot)
            if !bytes[dot + 1..]
                .iter()
                .any(|b| matches!(b, b'.' | b'[' | b'(')) =>
        {
            set.any_resource.contains(&pattern[dot + 1..])
        }
        _ => false,
    }
}

impl<'a> Skim<'a> {
    /// Skips a carried value or walks into one that is not, then steps past its comma.
    fn visit(
        &mut self,
        carried: bool,
        path: &mut String,
        pattern: &mut String,
        out: &mut Vec<String>,
    ) {
        if carried {
            self.skip();
        } else {
            self.walk(path, pattern, out);
        }
        if self.peek() == b',' {
            self.i += 1;
        }
    }

    fn walk(&mut self, path: &mut String, pattern: &mut String, out: &mut Vec<String>) {
        match self.peek() {
            b'{' => {
                // A resource restarts the pattern at its type.
                let saved = if pattern.ends_with(".resource") {
                    self.member_string("resourceType")
                        .map(|k| std::mem::replace(pattern, k.into_owned()))
                } else {
                    None
                };
                self.i += 1;
                while self.peek() == b'"' {
                    let key = self.string();
                    self.peek();
                    self.i += 1; // ':'
                    let (path_len, pattern_len) = (path.len(), pattern.len());
                    path.push('.');
                    path.push_str(&key);
                    pattern.push('.');
                    pattern.push_str(&key);
                    let identifying_url = key == "url" && pattern[..pattern_len].ends_with(')');
                    let carried = identifying_url || carried_here(pattern);
                    self.visit(carried, path, pattern, out);
                    path.truncate(path_len);
                    pattern.truncate(pattern_len);
                }
                self.peek();
                self.i += 1; // '}'
                if let Some(saved) = saved {
                    *pattern = saved;
                }
            }
            b'[' => {
                self.i += 1;
                let mut index = 0;
                while !matches!(self.peek(), b']' | 0) {
                    let (path_len, pattern_len) = (path.len(), pattern.len());
                    let _ = write!(path, "[{index}]");
                    // Extensions are told apart by their url.
                    let extension_array =
                        pattern.ends_with(".extension") || pattern.ends_with(".modifierExtension");
                    if extension_array && self.peek() == b'{' {
                        if let Some(url) = self.member_string("url") {
                            let _ = write!(pattern, "(\"{url}\")");
                        }
                    }
                    let carried = carried_here(pattern);
                    self.visit(carried, path, pattern, out);
                    path.truncate(path_len);
                    pattern.truncate(pattern_len);
                    index += 1;
                }
                self.i += 1; // ']'
            }
            _ => {
                self.skip();
                out.push(path.clone());
            }
        }
    }
}

/// Refuses a written message that holds a character XML 1.0 cannot carry, naming the
/// FHIRPaths of the input strings that hold it. (The check runs on the output because some
/// such characters do not survive into it: the reference writes a form feed in an attribute
/// value as a space.)
pub fn refuse_non_xml(root: &Element, bundle_json: &str) -> Result<(), Rejection> {
    let Some(bad) = first_non_xml(root) else {
        return Ok(());
    };
    let message = format!(
        "text contains U+{:04X}, a character XML 1.0 cannot carry",
        bad as u32
    );
    let mut paths = Vec::new();
    if let Ok(value) = serde_json::from_str::<Value>(bundle_json) {
        strings_holding(&value, bad, &mut String::from("Bundle"), &mut paths);
    }
    let mut issues: Vec<Issue> = paths
        .into_iter()
        .map(|p| Issue::error(IssueCode::Value, message.clone(), Some(p)))
        .collect();
    if issues.is_empty() {
        issues.push(Issue::error(
            IssueCode::Value,
            format!(
                "the message would contain U+{:04X}, a character XML 1.0 cannot carry",
                bad as u32
            ),
            None,
        ));
    }
    Err(Rejection { issues })
}

fn first_non_xml(el: &Element) -> Option<char> {
    for (_, value) in &el.attrs {
        // Attribute values are written with tab and form feed runs as spaces.
        if may_hold_non_xml(value) {
            if let Some(c) = value.chars().find(|c| *c != '\u{c}' && !is_xml_char(*c)) {
                return Some(c);
            }
        }
    }
    match &el.content {
        Content::Text(t) if may_hold_non_xml(t) => t.chars().find(|c| !is_xml_char(*c)),
        Content::Text(_) => None,
        Content::Children(children) => children.iter().find_map(first_non_xml),
        Content::Empty => None,
    }
}

/// A byte-level screen: the only characters XML 1.0 cannot carry are controls below a
/// space (UTF-8 bytes below 0x20) and U+FFFE/U+FFFF (which start with byte 0xEF), so text
/// without either byte needs no character-by-character check.
fn may_hold_non_xml(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 || b == 0xEF)
}

fn strings_holding(v: &Value, bad: char, path: &mut String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (key, child) in map {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                strings_holding(child, bad, path, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                strings_holding(item, bad, path, out);
                path.truncate(len);
            }
        }
        Value::String(s) if s.contains(bad) => out.push(path.clone()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_only_leaves_outside_carried_paths() {
        let bundle = r#"{"resourceType":"Bundle","entry":[{"fullUrl":"urn:x","resource":{"resourceType":"MedicationRequest",
            "id":"1","substitution":{"allowedBoolean":false},"extension":[{"url":"u","valueString":"v"}],
            "dispenseRequest":{"quantity":{"value":1,"extra":2}}}},
            {"resource":{"resourceType":"Patient","name":[{"given":["A"]}],"nameX":"y"}}]}"#;
        assert_eq!(
            not_carried(bundle),
            vec![
                "Bundle.entry[0].resource.substitution.allowedBoolean",
                "Bundle.entry[0].resource.extension[0].valueString",
                "Bundle.entry[0].resource.dispenseRequest.quantity.extra",
                "Bundle.entry[1].resource.nameX",
            ]
        );
    }

    #[test]
    fn a_non_xml_character_is_refused_with_its_path() {
        let root = Element::new("a").text("x\u{0}y");
        let err =
            refuse_non_xml(&root, r#"{"entry":[{"resource":{"name":"x\u0000y"}}]}"#).unwrap_err();
        assert_eq!(
            err.issues[0].expression.as_deref(),
            Some("Bundle.entry[0].resource.name")
        );
        let form_feed_attribute = Element::new("a").attr("v", "x\u{c}y");
        assert!(refuse_non_xml(&form_feed_attribute, "{}").is_ok());
    }
}
