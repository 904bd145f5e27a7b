//! Unusual HL7 v3 input never crashes `to_fhir`: in our golden send messages and release
//! rejections (and, when the corpus is present, a release response and the Spine
//! responses), each element in turn is removed, emptied or duplicated, and each attribute
//! value and text replaced by odd values; every result must be FHIR JSON that parses or a
//! refusal that says what is wrong — never a panic.

mod common;

use common::Sweep;
use eps_translator::to_fhir::to_fhir;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Text edits: replace `range` of the document with `with`.
struct Edit {
    range: Range<usize>,
    with: String,
    what: String,
}

/// Odd values an attribute or a text takes in turn.
const ODD_VALUES: [&str; 6] = [
    "",
    "x",
    "-1",
    "99999999999999999999",
    "2022-13-45",
    "&#xFFFE;",
];

/// Where the HL7 v3 message is: the whole input, or in a multipart Spine response the last
/// XML part (the first is the ebXML envelope).
fn message_region(text: &str) -> Range<usize> {
    if text.starts_with('<') {
        return 0..text.len();
    }
    let start = text.rfind("<?xml").expect("an XML part");
    let end = text[start..].rfind('>').expect("a closing tag") + start + 1;
    start..end
}

fn edits(text: &str) -> Vec<Edit> {
    let region = message_region(text);
    let xml = &text[region.clone()];
    let doc = roxmltree::Document::parse(xml).expect("test input parses");
    let mut out = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let range = node.range();
        let name = node.tag_name().name();
        // The start tag ends at the first `>` after its last attribute (a value may hold `>`).
        let after_attributes = node
            .attributes()
            .next_back()
            .map_or(range.start, |a| a.range().end);
        let start_tag_end = xml[after_attributes..].find('>').unwrap() + after_attributes + 1;
        out.push(Edit {
            range: range.clone(),
            with: String::new(),
            what: format!("remove <{name}> at {}", range.start),
        });
        if !xml[..start_tag_end].ends_with("/>") {
            // The element with its start tag made empty.
            let start_tag = &xml[range.start..start_tag_end - 1];
            out.push(Edit {
                range: range.clone(),
                with: format!("{start_tag}/>"),
                what: format!("empty <{name}> at {}", range.start),
            });
        }
        out.push(Edit {
            range: range.clone(),
            with: format!("{0}{0}", &xml[range.clone()]),
            what: format!("repeat <{name}> at {}", range.start),
        });
        for attr in node.attributes() {
            for value in ODD_VALUES {
                out.push(Edit {
                    range: attr.range_value(),
                    with: value.to_string(),
                    what: format!("<{name} {}=\"{value}\"> at {}", attr.name(), range.start),
                });
            }
        }
    }
    for node in doc
        .descendants()
        .filter(|n| n.is_text() && !n.text().unwrap().trim().is_empty())
    {
        for value in ODD_VALUES {
            out.push(Edit {
                range: node.range(),
                with: value.to_string(),
                what: format!("text at {} = \"{value}\"", node.range().start),
            });
        }
    }
    out
}

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files =
        common::find_files(&root.join("golden/convert"), &|name| name.ends_with(".xml"));
    files.extend(common::find_files(
        &root.join("golden/to-fhir/responses"),
        &|name| name.ends_with(".xml"),
    ));
    if let Some(shared) = common::shared_dir("to_fhir_mutations") {
        files.push(shared.join("eps-release-responses/release_success.xml"));
        files.extend(common::find_files(
            &shared.join("eps-spine-responses"),
            &|name| name.ends_with(".xml"),
        ));
    }
    files
}

#[test]
fn mutated_messages_are_translated_or_refused_never_crash() {
    let mut sweep = Sweep::new();
    for path in inputs() {
        let xml = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let region = message_region(&xml);
        for edit in edits(&xml) {
            let mut input = xml.clone();
            let range = edit.range.start + region.start..edit.range.end + region.start;
            input.replace_range(range, &edit.with);
            let what = format!("{name}: {}", edit.what);
            sweep.runs += 1;
            if let Some(Ok(json)) = sweep.run(&what, || to_fhir(input.as_bytes())) {
                sweep.accepted += 1;
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
                    sweep
                        .failures
                        .push(format!("{what}: wrote JSON that does not parse: {e}"));
                }
            }
        }
    }
    sweep.finish("to_fhir_mutations");
}
