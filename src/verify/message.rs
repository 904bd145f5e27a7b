//! The inputs the verifier takes, and where their prescriptions are: an HL7 v3
//! ParentPrescription (bare, in a send wrapper, or each released one in a release
//! response), or FHIR — a prescription-order Bundle with a Provenance signature, or a
//! `searchset` Bundle of them, each translated to HL7 v3 as `convert` does and verified in
//! that form.

use super::{hl7_child, hl7_path, verify_prescription, PrescriptionVerdict, Report, Trust};
use crate::context::Context;
use crate::datetime::Instant;
use crate::error::{Issue, IssueCode, Rejection};
use roxmltree::Node;
use serde_json::Value;

/// The release response component type whose ParentPrescription is read (as `to-fhir` reads
/// release responses).
const RELEASED_PRESCRIPTION: &str = "PORX_MT122003UK32";

const SEND_MESSAGES: [&str; 3] = [
    "PORX_IN020101SM31",
    "PORX_IN020101UK31",
    "PORX_IN020102UK31",
];
const RELEASE_RESPONSES: [&str; 2] = ["PORX_IN070101UK31", "PORX_IN070103UK31"];

fn refusal(code: IssueCode, message: impl Into<String>) -> Rejection {
    Rejection::single(Issue::error(code, message, None))
}

/// The message element: the root, or the first known message element inside it (a SOAP
/// envelope, say).
fn message_root<'a, 'i>(doc: &'a roxmltree::Document<'i>) -> Option<Node<'a, 'i>> {
    doc.root_element().descendants().find(|n| {
        let name = n.tag_name().name();
        n.is_element()
            && matches!(n.tag_name().namespace(), None | Some(super::HL7_NS))
            && (name == "ParentPrescription"
                || SEND_MESSAGES.contains(&name)
                || RELEASE_RESPONSES.contains(&name))
    })
}

/// The ParentPrescriptions of an HL7 v3 document, in document order.
pub fn prescriptions<'a, 'i>(
    doc: &'a roxmltree::Document<'i>,
) -> Result<Vec<Node<'a, 'i>>, Rejection> {
    let root = message_root(doc).ok_or_else(|| {
        refusal(
            IssueCode::NotSupported,
            format!(
                "no prescription to verify: expected a ParentPrescription, a send message ({}) or a release response ({}), found '{}'",
                SEND_MESSAGES.join(", "),
                RELEASE_RESPONSES.join(", "),
                doc.root_element().tag_name().name()
            ),
        )
    })?;
    let name = root.tag_name().name();
    let missing = |path: &str| {
        let pos = doc.text_pos_at(root.range().start);
        refusal(
            IssueCode::Structure,
            format!("{name} at {pos} has no {path}"),
        )
    };
    if name == "ParentPrescription" {
        return Ok(vec![root]);
    }
    if SEND_MESSAGES.contains(&name) {
        let path = "ControlActEvent/subject/ParentPrescription";
        return hl7_path(root, path)
            .map(|p| vec![p])
            .ok_or_else(|| missing(path));
    }
    let path = "ControlActEvent/subject/PrescriptionReleaseResponse";
    let response = hl7_path(root, path).ok_or_else(|| missing(path))?;
    Ok(response
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "component")
        .filter(|c| {
            hl7_child(*c, "templateId").and_then(|t| t.attribute("extension"))
                == Some(RELEASED_PRESCRIPTION)
        })
        .filter_map(|c| hl7_child(c, "ParentPrescription"))
        .collect())
}

/// Verifies every prescription of an HL7 v3 text.
pub fn verify_hl7v3(text: &str, trust: &Trust, at: Instant) -> Result<Report, Rejection> {
    let text = crate::to_fhir::input_text(text.as_bytes())?;
    let text = crate::c14n::normalize_line_ends(text);
    let doc = crate::to_fhir::xml::parse(&text)?;
    let verdicts = prescriptions(&doc)?
        .into_iter()
        .map(|p| verify_prescription(p, trust, at))
        .collect();
    Ok(Report {
        checked_at: at.iso_utc(),
        prescriptions: verdicts,
    })
}

/// The prescription-order Bundles of a FHIR input: the Bundle itself, or each Bundle entry
/// of a `searchset`.
fn bundles(value: &Value) -> Result<Vec<(Option<usize>, &Value)>, Rejection> {
    if value.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(refusal(
            IssueCode::Invalid,
            "expected a FHIR Bundle (a prescription-order message, or a searchset of them)",
        ));
    }
    if value.get("type").and_then(Value::as_str) != Some("searchset") {
        return Ok(vec![(None, value)]);
    }
    let found: Vec<(Option<usize>, &Value)> = array(value, "/entry")
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((Some(i), e.get("resource")?)))
        .filter(|(_, r)| r.get("resourceType").and_then(Value::as_str) == Some("Bundle"))
        .collect();
    if found.is_empty() {
        return Err(refusal(
            IssueCode::Invalid,
            "the searchset Bundle holds no prescription Bundle (Bundle.entry.resource)",
        ));
    }
    Ok(found)
}

/// The array at a JSON pointer; empty when there is none.
fn array<'v>(value: &'v Value, pointer: &str) -> &'v [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Refuses a Provenance signature whose XML carries a document type declaration: the
/// translation would expand its entities, and a signature is judged on the bytes as signed.
fn refuse_signature_dtd(bundle: &Value, path: &str) -> Result<(), Rejection> {
    for (i, entry) in array(bundle, "/entry").iter().enumerate() {
        for (j, signature) in array(entry, "/resource/signature").iter().enumerate() {
            let Some(data) = signature.get("data").and_then(Value::as_str) else {
                continue;
            };
            let decoded = super::dsig::decode_base64(data).unwrap_or_default();
            if memchr::memmem::find(&decoded, b"<!DOCTYPE").is_some() {
                return Err(Rejection::at(
                    IssueCode::Structure,
                    format!("{path}.entry[{i}].resource.signature[{j}].data"),
                    "the signature XML carries a document type declaration (DTD); none is accepted: entities are never expanded in a signature",
                ));
            }
        }
    }
    Ok(())
}

/// Verifies the prescriptions of a FHIR input: each Bundle is translated to HL7 v3 (its
/// Provenance signature goes into `author/signatureText`, its `when` into `author/time`)
/// and verified in that form. A Bundle that does not translate is refused, naming where.
pub fn verify_fhir(input: &[u8], trust: &Trust, at: Instant) -> Result<Report, Rejection> {
    let value: Value = serde_json::from_slice(input)
        .map_err(|e| refusal(IssueCode::Structure, format!("input is not JSON: {e}")))?;
    let ctx = Context::new(at);
    let mut verdicts = Vec::new();
    for (entry, bundle) in bundles(&value)? {
        let bytes = serde_json::to_vec(bundle)
            .map_err(|e| refusal(IssueCode::Processing, e.to_string()))?;
        let path = entry.map_or_else(
            || "Bundle".to_string(),
            |n| format!("Bundle.entry[{n}].resource"),
        );
        refuse_signature_dtd(bundle, &path)?;
        let translated = crate::translate::convert(&bytes, &ctx).map_err(|mut r| {
            for issue in &mut r.issues {
                let inner = issue.expression.take().unwrap_or_else(|| "Bundle".into());
                let inner = inner.strip_prefix("Bundle").unwrap_or(&inner);
                issue.expression = Some(format!("{path}{inner}"));
            }
            r
        })?;
        let report = verify_hl7v3(&translated.xml, trust, at)?;
        let identifier = bundle
            .pointer("/identifier/value")
            .and_then(Value::as_str)
            .map(str::to_string);
        verdicts.extend(report.prescriptions.into_iter().map(|mut p| {
            p.message_identifier = identifier.clone().or(p.message_identifier);
            p
        }));
    }
    Ok(Report {
        checked_at: at.iso_utc(),
        prescriptions: verdicts,
    })
}

/// Verifies HL7 v3 XML or FHIR JSON, told apart by the first character.
pub fn verify(input: &[u8], trust: &Trust, at: Instant) -> Result<Report, Rejection> {
    let first = input
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    if first == Some(b'{') {
        verify_fhir(input, trust, at)
    } else {
        let text = crate::to_fhir::input_text(input)?;
        verify_hl7v3(text, trust, at)
    }
}

/// Keeps the verdicts' ids usable as `messageIdentifier`s.
pub fn message_identifier(verdict: &PrescriptionVerdict) -> String {
    verdict
        .message_identifier
        .clone()
        .unwrap_or_else(|| verdict.id.to_lowercase())
}
