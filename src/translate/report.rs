//! A pass over the Bundle's JSON tree: notes strings holding characters XML 1.0 cannot carry
//! (so a refusal can name their FHIRPath), and lists what the HL7 v3 message has no place for
//! (`mappings/carried-paths.tsv`).

use crate::error::{Issue, IssueCode, Rejection};
use crate::hl7v3::{Content, Element};
use serde_json::Value;
use std::collections::HashSet;
use std::fmt::Write;
use std::sync::OnceLock;

/// What the scan found.
#[derive(Debug, Default)]
pub struct Scan {
    pub not_carried: Vec<String>,
    /// FHIRPaths of strings holding a character XML 1.0 cannot carry, with that character.
    pub non_xml: Vec<(String, char)>,
}

/// The carried paths, split into exact patterns per resource type and `*` (any resource).
fn carried() -> &'static HashSet<&'static str> {
    static PATHS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    PATHS.get_or_init(|| {
        include_str!("../../mappings/carried-paths.tsv")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next())
            .collect()
    })
}

/// Whether a leaf pattern (`Type.a.b.c`) lies under a carried path: some prefix of it ending
/// at a `.` boundary, or the same prefix under `*.`, is listed.
fn is_carried(pattern: &str) -> bool {
    let set = carried();
    let rest_start = pattern.find('.').map_or(pattern.len(), |i| i + 1);
    let mut wildcard = String::with_capacity(pattern.len());
    let boundaries = pattern
        .match_indices('.')
        .map(|(i, _)| i)
        .skip(1)
        .chain(std::iter::once(pattern.len()));
    for end in boundaries {
        let prefix = &pattern[..end];
        if set.contains(prefix) {
            return true;
        }
        if rest_start <= end {
            wildcard.clear();
            wildcard.push_str("*.");
            wildcard.push_str(&pattern[rest_start..end]);
            if set.contains(wildcard.as_str()) {
                return true;
            }
        }
    }
    false
}

/// Whether a character may appear in an XML 1.0 document.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// Scans the Bundle's JSON.
pub fn scan(raw: &Value) -> Scan {
    let mut scan = Scan::default();
    walk(
        raw,
        &mut String::from("Bundle"),
        &mut String::from("Bundle"),
        &mut scan,
    );
    scan
}

/// Refuses a written message that holds a character XML 1.0 cannot carry, naming the
/// FHIRPaths of the input strings that hold it. (The check runs on the output because some
/// such characters do not survive into it: the reference writes a form feed in an attribute
/// value as a space.)
pub fn refuse_non_xml(root: &Element, scan: &Scan) -> Result<(), Rejection> {
    let Some(bad) = first_non_xml(root) else {
        return Ok(());
    };
    let mut issues: Vec<Issue> = scan
        .non_xml
        .iter()
        .filter(|(_, c)| *c == bad)
        .map(|(path, _)| {
            Issue::error(
                IssueCode::Value,
                format!(
                    "text contains U+{:04X}, a character XML 1.0 cannot carry",
                    bad as u32
                ),
                Some(path.clone()),
            )
        })
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
            let restart = map
                .get("resourceType")
                .and_then(Value::as_str)
                .filter(|_| pattern.ends_with(".resource"));
            let saved_pattern = restart.map(|kind| std::mem::replace(pattern, kind.to_string()));
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
            if let Some(saved) = saved_pattern {
                *pattern = saved;
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let path_len = path.len();
                let pattern_len = pattern.len();
                let _ = write!(path, "[{i}]");
                if let Some(url) = item.get("url").and_then(Value::as_str) {
                    let _ = write!(pattern, "(\"{url}\")");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carried_paths_match_by_prefix_and_wildcard() {
        assert!(is_carried("Patient.name.given"));
        assert!(is_carried("Location.id"));
        assert!(is_carried(
            "MedicationRequest.dispenseRequest.quantity.value"
        ));
        assert!(!is_carried("MedicationRequest.substitution.allowedBoolean"));
        assert!(!is_carried("Patient.nameX"));
    }
}
