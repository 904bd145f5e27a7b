//! What did not travel, and what cannot: lists the Bundle data the HL7 v3 message has no
//! place for (`mappings/carried-paths.tsv`), and refuses a message that would hold a
//! character XML 1.0 cannot carry, naming the FHIRPaths of the input strings that hold it.
//!
//! The not-carried walk reads the JSON lazily (object members as raw JSON text) and skips
//! every subtree that is carried whole, so it costs little on typical Bundles.

use crate::error::{Issue, IssueCode, Rejection};
use crate::hl7v3::{Content, Element};
use crate::json_skim::{bytes_below_space, word_at, zero_bytes, Skim};
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write;
use std::sync::OnceLock;

/// The carried paths as a trie: one node per pattern prefix, stepped by member name or by
/// extension url, so the walk never builds or hashes a whole pattern.
struct Carried {
    nodes: Vec<Node>,
    /// The members any resource may carry (the `*.x` rows, kept without their `*.`).
    any_resource: FxHashSet<&'static str>,
}

#[derive(Default)]
struct Node {
    /// This exact pattern is listed.
    carried: bool,
    members: FxHashMap<&'static str, usize>,
    /// Steps by an extension's url: `extension("url")`.
    urls: FxHashMap<&'static str, usize>,
}

/// The trie's root: its members are resource types (and `Bundle`).
const ROOT: usize = 0;

impl Carried {
    fn load() -> Carried {
        let rows = include_str!("../../mappings/carried-paths.tsv")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next());
        let mut carried = Carried {
            nodes: vec![Node::default()],
            any_resource: FxHashSet::default(),
        };
        for row in rows {
            match row.strip_prefix("*.") {
                Some(member) => {
                    carried.any_resource.insert(member);
                }
                None => {
                    let end = carried.insert(row);
                    carried.nodes[end].carried = true;
                }
            }
        }
        carried
    }

    /// Adds the nodes of `Type.member.member("url")...`; returns the last.
    fn insert(&mut self, pattern: &'static str) -> usize {
        let mut node = ROOT;
        let mut rest = pattern;
        while !rest.is_empty() {
            let (step, by_url);
            if let Some(quoted) = rest.strip_prefix("(\"") {
                let end = quoted.find("\")").unwrap_or(quoted.len());
                (step, by_url) = (&quoted[..end], true);
                rest = quoted.get(end + 2..).unwrap_or("");
            } else {
                let name = rest.strip_prefix('.').unwrap_or(rest);
                let end = name.find(['.', '(']).unwrap_or(name.len());
                (step, by_url) = (&name[..end], false);
                rest = &name[end..];
            }
            let next = self.nodes.len();
            let map = if by_url {
                &mut self.nodes[node].urls
            } else {
                &mut self.nodes[node].members
            };
            node = *map.entry(step).or_insert(next);
            if node == next {
                self.nodes.push(Node::default());
            }
        }
        node
    }

    fn member(&self, node: Option<usize>, name: &str) -> Option<usize> {
        self.nodes[node?].members.get(name).copied()
    }

    fn url(&self, node: Option<usize>, url: &str) -> Option<usize> {
        self.nodes[node?].urls.get(url).copied()
    }

    fn is_carried(&self, node: Option<usize>) -> bool {
        node.is_some_and(|n| self.nodes[n].carried)
    }
}

fn carried() -> &'static Carried {
    static PATHS: OnceLock<Carried> = OnceLock::new();
    PATHS.get_or_init(Carried::load)
}

/// Whether a character may appear in an XML 1.0 document.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// Where the walk is in the pattern: the trie node (`None` once no listed pattern starts
/// here), and what the pattern's last step was.
#[derive(Clone, Copy)]
struct Place {
    node: Option<usize>,
    /// The pattern is a resource type alone, so `*.x` rows apply to its members.
    resource_root: bool,
    /// The last step was a member named `resource`: an object here restarts the pattern at
    /// its `resourceType`.
    resource_member: bool,
    /// The last step was a member named `extension` or `modifierExtension`: its elements are
    /// told apart by their url.
    extension_member: bool,
    /// The last step was an extension's url: its own `url` member only identifies it.
    by_url: bool,
}

/// The FHIRPaths of Bundle data that the HL7 v3 message does not carry.
///
/// A single pass over the JSON text that skips every carried subtree by bracket matching
/// (written by hand: a JSON tree or per-level re-parsing cost several times the translation
/// itself). The input has already been parsed successfully, so it is well-formed JSON.
pub fn not_carried(bundle_json: &str) -> Vec<String> {
    let table = carried();
    let mut out = Vec::new();
    let mut skim = Skim::new(bundle_json);
    let bundle = Place {
        node: table.member(Some(ROOT), "Bundle"),
        resource_root: true,
        resource_member: false,
        extension_member: false,
        by_url: false,
    };
    skim.walk(table, bundle, &mut String::from("Bundle"), &mut out, 0);
    out
}

/// Appends `[index]`.
fn push_index(path: &mut String, index: usize) {
    path.push('[');
    super::common::push_number(path, index);
    path.push(']');
}

/// Deepest element path the report walks into (a Bundle's deepest element is about a dozen
/// steps down).
const MAX_WALK_DEPTH: usize = 64;

impl<'a> Skim<'a> {
    /// Skips a carried value or walks into one that is not, then steps past its comma.
    fn visit(
        &mut self,
        table: &Carried,
        carried: bool,
        place: Place,
        path: &mut String,
        out: &mut Vec<String>,
        depth: usize,
    ) {
        if carried {
            self.skip();
        } else if depth > MAX_WALK_DEPTH {
            // Deeper than any FHIR element: reported whole, crossed without recursion (each
            // level of `walk` takes stack, and the input may nest thousands deep).
            self.skip();
            out.push(path.clone());
        } else {
            self.walk(table, place, path, out, depth);
        }
        if self.peek() == b',' {
            self.i += 1;
        }
    }

    /// Walks the value at `depth` steps below the Bundle.
    fn walk(
        &mut self,
        table: &Carried,
        place: Place,
        path: &mut String,
        out: &mut Vec<String>,
        depth: usize,
    ) {
        match self.peek() {
            b'{' => {
                let mut place = place;
                if place.resource_member {
                    // A resource restarts the pattern at its type.
                    if let Some(kind) = self.member_string("resourceType") {
                        place.node = table.member(Some(ROOT), &kind);
                        place.resource_root = true;
                    }
                }
                self.i += 1;
                while self.peek() == b'"' {
                    let key = self.string();
                    self.peek();
                    self.i += 1; // ':'
                    let node = table.member(place.node, &key);
                    let carried = table.is_carried(node)
                        || (place.resource_root && table.any_resource.contains(key.as_ref()))
                        || (place.by_url && key == "url");
                    let child = Place {
                        node,
                        resource_root: false,
                        resource_member: key == "resource",
                        extension_member: key == "extension" || key == "modifierExtension",
                        by_url: false,
                    };
                    let path_len = path.len();
                    path.push('.');
                    path.push_str(&key);
                    self.visit(table, carried, child, path, out, depth + 1);
                    path.truncate(path_len);
                }
                self.peek();
                self.i += 1; // '}'
            }
            b'[' => {
                self.i += 1;
                let mut index = 0;
                while !matches!(self.peek(), b']' | 0) {
                    let path_len = path.len();
                    push_index(path, index);
                    let mut element = place;
                    // Extensions are told apart by their url.
                    if place.extension_member && self.peek() == b'{' {
                        if let Some(url) = self.member_string("url") {
                            element.node = table.url(place.node, &url);
                            element.by_url = true;
                            element.resource_root = false;
                            element.resource_member = false;
                            element.extension_member = false;
                        }
                    }
                    let carried = element.by_url && table.is_carried(element.node);
                    self.visit(table, carried, element, path, out, depth + 1);
                    path.truncate(path_len);
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
    refuse_non_xml_in(root, bundle_json, "Bundle")
}

/// [`refuse_non_xml`] for an input whose resource type is `resource_type`.
pub fn refuse_non_xml_in(root: &Element, json: &str, resource_type: &str) -> Result<(), Rejection> {
    let bundle_json = json;
    let Some(bad) = first_non_xml(root) else {
        return Ok(());
    };
    let message = format!(
        "text contains U+{:04X}, a character XML 1.0 cannot carry",
        bad as u32
    );
    let mut paths = Vec::new();
    if let Ok(value) = serde_json::from_str::<Value>(bundle_json) {
        strings_holding(&value, bad, &mut String::from(resource_type), &mut paths);
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
        // A borrowed value is a `'static` string of the program's own (a code, an OID, a
        // mapping table entry): only values built at run time can hold input characters.
        let Cow::Owned(value) = value else {
            continue;
        };
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
    const EFS: u64 = u64::from_ne_bytes([0xEF; 8]);
    let bytes = text.as_bytes();
    let mut i = 0;
    // A word at a time; the last few bytes one by one.
    while let Some(word) = word_at(bytes, i) {
        if bytes_below_space(word) | zero_bytes(word ^ EFS) != 0 {
            return true;
        }
        i += 8;
    }
    bytes[i..].iter().any(|&b| b < 0x20 || b == 0xEF)
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
        // Values built at run time are read; a form feed is written as a space, so passes.
        let form_feed_attribute = Element::new("a").attr("v", String::from("x\u{c}y"));
        assert!(refuse_non_xml(&form_feed_attribute, "{}").is_ok());
        let control_attribute =
            Element::new("a").child(Element::new("b").attr("v", String::from("x\u{1}y")));
        assert!(refuse_non_xml(&control_attribute, "{}").is_err());
    }
}
