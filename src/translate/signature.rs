//! The prescriber's signature: the Provenance signature that belongs to the requester, its
//! time, and its XML-DSig `Signature` carried inside `signatureText`.

use super::common::*;
use super::Input;
use crate::error::{Issue, IssueCode};
use crate::fhir::*;
use crate::hl7v3::element::Element;
use base64::Engine;
use std::borrow::Cow;

/// The signature found for a prescription.
pub struct FoundSignature<'r> {
    pub when: &'r str,
    pub when_path: String,
    pub data: Option<&'r str>,
    pub data_path: String,
}

/// The Provenance signature whose `who` is the requester; at most one may match.
/// A signature matching only case-insensitively is ignored, with a warning.
pub fn find<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    requester: &str,
    warnings: &mut Vec<Issue>,
) -> Result<Option<FoundSignature<'b>>> {
    let mut exact = Vec::new();
    let mut loose = Vec::new();
    for (index, prov) in input.all(|r| match r {
        Resource::Provenance(p) => Some(p),
        _ => None,
    }) {
        for (s, sig) in prov.signature.iter().enumerate() {
            let who = sig.who.as_ref().and_then(|w| w.reference.as_deref());
            let path = format!("Bundle.entry[{index}].resource.signature[{s}]");
            match who {
                Some(w) if w == requester => exact.push((path, sig)),
                Some(w) if w.eq_ignore_ascii_case(requester) => loose.push(path),
                _ => {}
            }
        }
    }
    if exact.len() > 1 {
        return Err(invalid(
            "Bundle.entry.resource.ofType(Provenance).signature",
            format!("Too many values submitted. Expected at most 1 element where who.reference == '{requester}'."),
        ));
    }
    let Some((path, sig)) = exact.pop() else {
        for path in loose {
            warnings.push(Issue::warning(
                IssueCode::Value,
                format!(
                    "signature's who.reference matches the requester '{requester}' only when case is ignored; it is not used and the prescription is treated as unsigned"
                ),
                Some(join(&path, ".who.reference")),
            ));
        }
        return Ok(None);
    };
    let when = required(sig.when.as_deref(), join(&path, ".when"))?;
    Ok(Some(FoundSignature {
        when,
        when_path: join(&path, ".when"),
        data: sig.data.as_deref(),
        data_path: join(&path, ".data"),
    }))
}

/// Decodes the base64 `Signature` XML into an element tree, as the reference re-serialises it:
/// whitespace-only text between elements dropped, namespace declarations kept as attributes.
pub fn signature_xml(data: &str, path: &str) -> Result<Element> {
    with_signature_document(data, path, |doc| {
        crate::hl7v3::reader::read_element(doc.root_element())
    })
}

/// Refuses exactly what [`signature_xml`] refuses, without building the tree.
pub fn check_signature_xml(data: &str, path: &str) -> Result<()> {
    with_signature_document(data, path, |_| ())
}

/// Decodes and parses the base64 `Signature` XML, then reads the parsed document with `read`.
fn with_signature_document<T>(
    data: &str,
    path: &str,
    read: impl FnOnce(&roxmltree::Document<'_>) -> T,
) -> Result<T> {
    let bad = || invalid(path, "Invalid signature format.");
    // Base64 is ASCII: line breaks are dropped byte by byte, and only when there are any.
    let compact: Cow<[u8]> = if data.bytes().any(|b| b.is_ascii_whitespace()) {
        Cow::Owned(data.bytes().filter(|b| !b.is_ascii_whitespace()).collect())
    } else {
        Cow::Borrowed(data.as_bytes())
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    // The bounded parser: roxmltree alone recurses once per nesting level.
    let normalized = crate::c14n::normalize_line_ends(&text);
    let doc = crate::c14n::parse_document(&normalized).map_err(|e| {
        let code = if e.is_too_costly() {
            IssueCode::TooCostly
        } else {
            IssueCode::Invalid
        };
        crate::error::Rejection::at(code, path, format!("Invalid signature format: {e}"))
    })?;
    Ok(read(&doc))
}
