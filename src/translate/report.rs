//! A pass over the Bundle's JSON tree: notes strings holding characters XML 1.0 cannot carry
//! (so a refusal can name their FHIRPath), and lists what the HL7 v3 message has no place for
//! (`mappings/carried-paths.tsv`).

use crate::error::{Issue, IssueCode, Rejection};
use crate::hl7v3::{Content, Element};
use serde_json::Value;
use std::sync::OnceLock;

/// What the scan found.
#[derive(Debug, Default)]
pub struct Scan {
    pub not_carried: Vec<String>,
    /// FHIRPaths of strings holding a character XML 1.0 cannot carry, with that character.
    pub non_xml: Vec<(String, char)>,
}

fn carried() -> &'static Vec<&'static str> {
    static PATHS: OnceLock<Vec<&'static str>> = OnceLock::new();
    PATHS.get_or_init(|| {
        include_str!("../../mappings/carried-paths.tsv")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next())
            .collect()
    })
}

fn is_carried(pattern: &str) -> bool {
    let (resource, rest) = pattern.split_once('.').unwrap_or((pattern, ""));
    carried().iter().any(|c| {
        let (c_res, c_rest) = c.split_once('.').unwrap_or((c, ""));
        (c_res == resource || c_res == "*")
            && (rest == c_rest || rest.starts_with(c_rest) && rest[c_rest.len()..].starts_with('.'))
    })
}

/// Whether a character may appear in an XML 1.0 document.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// Scans the Bundle's JSON.
pub fn scan(raw: &Value) -> Scan {
    let mut scan = Scan::default();
    walk(raw, &mut String::from("Bundle"), &mut String::from("Bundle"), &mut scan);
    scan
}

/// Refuses a written message that holds a character XML 1.0 cannot carry, naming the
/// FHIRPaths of the input strings that hold it. (The check runs on the output because some
/// such characters do not survive into it: the reference writes a form feed in an attribute
/// value as a space.)
pub fn refuse_non_xml(root: &Element, scan: &Scan) -> Result<(), Rejection> {
    let Some(bad) = first_non_xml(root) else { return Ok(()) };
    let mut issues: Vec<Issue> = scan
        .non_xml
        .iter()
        .filter(|(_, c)| *c == bad)
        .map(|(path, _)| {
            Issue::error(
                IssueCode::Value,
                format!("text contains U+{:04X}, a character XML 1.0 cannot carry", bad as u32),
                Some(path.clone()),
            )
        })
        .collect();
    if issues.is_empty() {
        issues.push(Issue::error(
            IssueCode::Value,
            format!("the message would contain U+{:04X}, a character XML 1.0 cannot carry", bad as u32),
            None,
        ));
    }
    Err(Rejection { issues })
}

fn first_non_xml(el: &Element) -> Option<char> {
    for (_, value) in &el.attrs {
        // Attribute values are written with tab and form feed runs as spaces.
        if let Some(c) = value.chars().find(|c| *c != '\u{c}' && !is_xml_char(*c)) {
            return Some(c);
        }
    }
    match &el.content {
        Content::Text(t) => t.chars().find(|c| !is_xml_char(*c)),
        Content::Children(children) => children.iter().find_map(first_non_xml),
        Content::Empty => None,
    }
}

fn walk(v: &Value, path: &mut String, pattern: &mut String, scan: &mut Scan) {
    match v {
        Value::Object(map) => {
            // A resource restarts the pattern at its type.
            let restart = map.get("resourceType").and_then(Value::as_str).filter(|_| pattern.ends_with(".resource"));
            let saved_pattern = pattern.clone();
            if let Some(kind) = restart {
                *pattern = kind.to_string();
            }
            for (key, child) in map {
                if key == "url" && pattern.ends_with(')') {
                    continue;
                }
                let path_len = path.len();
                let pattern_len = pattern.len();
                path.push('.');
                path.push_str(key);
                pattern.push('.');
                pattern.push_str(key);
                walk(child, path, pattern, scan);
                path.truncate(path_len);
                pattern.truncate(pattern_len);
            }
            *pattern = saved_pattern;
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let path_len = path.len();
                let pattern_len = pattern.len();
                path.push_str(&format!("[{i}]"));
                if let Some(url) = item.get("url").and_then(Value::as_str) {
                    pattern.push_str(&format!("(\"{url}\")"));
                }
                walk(item, path, pattern, scan);
                path.truncate(path_len);
                pattern.truncate(pattern_len);
            }
        }
        Value::String(s) => {
            if let Some(bad) = s.chars().find(|c| !is_xml_char(*c)) {
                scan.non_xml.push((path.clone(), bad));
            }
            note(path, pattern, scan);
        }
        _ => note(path, pattern, scan),
    }
}

fn note(path: &str, pattern: &str, scan: &mut Scan) {
    if !is_carried(pattern) {
        scan.not_carried.push(path.to_string());
    }
}
