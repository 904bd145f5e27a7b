//! HL7 v3 → FHIR: messages prescribers and Spine send, read back into the FHIR shapes the
//! reference implementation returns.
//!
//! | input (root element) | output | module |
//! |---|---|---|
//! | `PORX_IN020101SM31` send message, or a bare `ParentPrescription` | prescription-order Bundle | [`prescription_order`] |
//! | `PORX_IN070101UK31` / `PORX_IN070103UK31` release response | Parameters {`passedPrescriptions`, `failedPrescriptions`} | [`release`] |
//! | `PORX_IN050101UK31` cancellation response | prescription-order-response Bundle | [`cancellation`] |
//! | `MCCI_IN010000UK13` acknowledgement | OperationOutcome | [`acknowledgement`] |
//! | `PORX_IN110101UK30` release rejection | OperationOutcome (with the dispensing Organization contained when the prescription is with another dispenser) | [`release_rejection`] |
//!
//! The stages: [`xml::parse`] (bounded, namespace-aware), [`translate`] (a JSON value
//! built in the reference's key order), [`write`] (pretty JSON). Resource ids are
//! name-based UUIDs ([`ids`]), so the output is a pure function of the input.

pub mod acknowledgement;
pub mod agent_person;
pub mod cancellation;
pub mod common;
pub mod ids;
pub mod instructions;
pub mod json;
pub mod medication_request;
pub mod patient;
pub mod prescription_order;
pub mod provenance;
pub mod release;
pub mod release_rejection;
pub mod xml;

use crate::error::{Issue, IssueCode, Rejection};
use ids::Ids;
pub use json::write;
use serde_json::Value;
use xml::El;

/// Largest HL7 v3 input accepted, in bytes (the canonicaliser's bound).
pub const MAX_INPUT_BYTES: usize = crate::c14n::MAX_INPUT_BYTES;

/// The kinds of HL7 v3 message this direction reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `PORX_IN020101SM31`: a ParentPrescription in its send wrapper.
    SendMessage,
    /// A bare `ParentPrescription`.
    ParentPrescription,
    /// `PORX_IN070101UK31` (nominated) / `PORX_IN070103UK31` (patient) release response.
    ReleaseResponse,
    /// `PORX_IN050101UK31`: the answer to a cancellation request.
    CancellationResponse,
    /// `MCCI_IN010000UK13`: an application acknowledgement.
    Acknowledgement,
    /// `PORX_IN110101UK30`: Spine's refusal of a release request.
    ReleaseRejection,
}

impl Kind {
    /// The kind of message a root element is, if this direction reads it.
    pub fn of(root: &El<'_, '_>) -> Option<Kind> {
        if !root.is_hl7() {
            return None;
        }
        Some(match root.name() {
            "PORX_IN020101SM31" => Kind::SendMessage,
            "ParentPrescription" => Kind::ParentPrescription,
            "PORX_IN070101UK31" | "PORX_IN070103UK31" => Kind::ReleaseResponse,
            "PORX_IN050101UK31" => Kind::CancellationResponse,
            "MCCI_IN010000UK13" => Kind::Acknowledgement,
            "PORX_IN110101UK30" => Kind::ReleaseRejection,
            _ => return None,
        })
    }
}

/// The input as text: UTF-8, within the size bound.
pub fn input_text(bytes: &[u8]) -> Result<&str, Rejection> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(Rejection::single(Issue::error(
            IssueCode::TooCostly,
            format!(
                "input is {} bytes, over the limit of {MAX_INPUT_BYTES} bytes",
                bytes.len()
            ),
            None,
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| crate::fhir::not_utf8(bytes, e))?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// The message roots this direction reads, for finding one inside a SOAP envelope.
const MESSAGE_NAMES: [&str; 7] = [
    "PORX_IN020101SM31",
    "PORX_IN070101UK31",
    "PORX_IN070103UK31",
    "PORX_IN050101UK31",
    "MCCI_IN010000UK13",
    "PORX_IN110101UK30",
    "ParentPrescription",
];

/// Spine sends some responses as MIME multipart (an ebXML header part, then the HL7 v3
/// part). For such input (not starting with `<`), the text outside the HL7 v3 message
/// element is blanked — newlines kept, so positions in errors stay those of the input.
fn blank_outside_message(text: &str) -> Option<String> {
    let (start, name) = MESSAGE_NAMES
        .iter()
        .flat_map(|n| {
            [format!("<hl7:{n}"), format!("<{n}")]
                .into_iter()
                .filter_map(move |open| text.find(&open).map(|i| (i, *n)))
        })
        .min()?;
    let end = [format!("</hl7:{name}>"), format!("</{name}>")]
        .iter()
        .filter_map(|close| text.rfind(close.as_str()).map(|i| i + close.len()))
        .max()
        .filter(|&e| e > start)?;
    Some(
        text.char_indices()
            .map(|(i, c)| {
                if (start..end).contains(&i) || c == '\n' {
                    c
                } else {
                    ' '
                }
            })
            .collect(),
    )
}

/// What happens to the signatures of a release response's prescriptions.
#[derive(Clone, Copy)]
pub enum Signatures<'t> {
    /// Each is verified ([`crate::verify`]); the invalid ones go to `failedPrescriptions`
    /// with an OperationOutcome. With no trust anchor, a release response is refused rather
    /// than reported as all failed or all passed.
    Verify {
        trust: &'t crate::verify::Trust,
        at: crate::datetime::Instant,
    },
    /// None is verified: every prescription is listed in `passedPrescriptions`, as the
    /// reference does with verification off, and the Parameters is tagged
    /// `signature-verification` `not-checked` so no reader takes them as verified.
    NotChecked,
}

/// Translates a parsed HL7 v3 document into FHIR JSON, release-response signatures not
/// checked (see [`translate_with`]).
pub fn translate(doc: &roxmltree::Document<'_>) -> Result<Value, Rejection> {
    translate_with(doc, &Signatures::NotChecked)
}

/// Translates a parsed HL7 v3 document into FHIR JSON. The message is the root element,
/// or the first message element inside it (a SOAP envelope, say).
pub fn translate_with(
    doc: &roxmltree::Document<'_>,
    signatures: &Signatures<'_>,
) -> Result<Value, Rejection> {
    let top = El::new(doc.root_element());
    let root = if Kind::of(&top).is_some() {
        top
    } else {
        doc.root_element()
            .descendants()
            .map(El::new)
            .find(|e| e.node.is_element() && Kind::of(e).is_some())
            .unwrap_or(top)
    };
    let Some(kind) = Kind::of(&root) else {
        let ns = root.node.tag_name().namespace().unwrap_or("");
        return Err(root.error(
            IssueCode::NotSupported,
            format!(
                "unsupported message '{}' in namespace '{ns}': expected PORX_IN020101SM31, ParentPrescription, PORX_IN070101UK31, PORX_IN070103UK31, PORX_IN050101UK31, MCCI_IN010000UK13 or PORX_IN110101UK30 in namespace '{}'",
                root.name(),
                xml::HL7_NS
            ),
        ));
    };
    match kind {
        Kind::SendMessage => {
            let message_id = root.child("id")?.req_attr("root")?;
            let parent = root.path("ControlActEvent/subject/ParentPrescription")?;
            let ids = Ids::new(parent.child("id")?.req_attr("root")?.to_lowercase());
            prescription_order::bundle(&parent, message_id, &ids)
        }
        Kind::ParentPrescription => {
            let id = root.child("id")?.req_attr("root")?;
            let ids = Ids::new(id.to_lowercase());
            prescription_order::bundle(&root, id, &ids)
        }
        Kind::ReleaseResponse => release::parameters(&root, signatures),
        Kind::CancellationResponse => cancellation::bundle(&root),
        Kind::Acknowledgement => acknowledgement::operation_outcome(&root),
        Kind::ReleaseRejection => release_rejection::operation_outcome(&root),
    }
}

/// HL7 v3 bytes → FHIR JSON text, release-response signatures not checked (the output
/// says so: see [`Signatures::NotChecked`]). Refused input names its `line:column` and
/// element path.
pub fn to_fhir(input: &[u8]) -> Result<String, Rejection> {
    to_fhir_with(input, &Signatures::NotChecked)
}

/// HL7 v3 bytes → FHIR JSON text, with release-response signatures handled as `signatures`
/// says.
pub fn to_fhir_with(input: &[u8], signatures: &Signatures<'_>) -> Result<String, Rejection> {
    let text = input_text(input)?;
    let text = crate::c14n::normalize_line_ends(text);
    let blanked;
    let text: &str = if text.trim_start().starts_with('<') {
        &text
    } else {
        blanked = blank_outside_message(&text).ok_or_else(|| {
            Rejection::single(Issue::error(
                IssueCode::Structure,
                "input is not XML and holds no HL7 v3 message",
                None,
            ))
        })?;
        &blanked
    };
    let doc = xml::parse(text)?;
    Ok(write(&translate_with(&doc, signatures)?))
}
