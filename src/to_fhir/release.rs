//! Release response (`PORX_IN070101UK31` nominated, `PORX_IN070103UK31` patient) →
//! Parameters with `passedPrescriptions` and `failedPrescriptions` searchset Bundles, one
//! prescription-order Bundle per released `ParentPrescription`.
//!
//! Each prescription's signature is verified ([`crate::verify`]) when the caller gives a
//! trust configuration: a valid one goes to `passedPrescriptions`; an invalid one goes to
//! `failedPrescriptions`, preceded by the OperationOutcome the reference writes there (one
//! `Signature is invalid.` issue), whose `diagnostics` add which checks failed and why. With
//! [`Signatures::NotChecked`] every prescription is listed as passed and the Parameters is
//! tagged as not checked. Only components of the signed message type `PORX_MT122003UK32` are
//! read, as the reference reads them.

use super::common::{date_time, identifier, obj, RFC4122_SYSTEM};
use super::ids::Ids;
use super::prescription_order::{self, entry};
use super::xml::{El, Result};
use super::Signatures;
use crate::error::IssueCode;
use crate::verify::PrescriptionVerdict;
use serde_json::{json, Value};

const SUPPORTED_MESSAGE_TYPE: &str = "PORX_MT122003UK32";

fn searchset(name: &str, response: &El<'_, '_>, ids: &Ids, resources: Vec<Value>) -> Result<Value> {
    let bundle = obj([
        ("resourceType", json!("Bundle")),
        ("id", json!(ids.id(name))),
        (
            "meta",
            json!({"lastUpdated": date_time(&response.child("effectiveTime")?, "value")?}),
        ),
        (
            "identifier",
            identifier(
                RFC4122_SYSTEM,
                &response.child("id")?.req_attr("root")?.to_lowercase(),
            ),
        ),
        ("type", json!("searchset")),
        ("total", json!(resources.len())),
        (
            "entry",
            Value::Array(resources.into_iter().map(entry).collect()),
        ),
    ]);
    Ok(obj([("name", json!(name)), ("resource", bundle)]))
}

/// The system of the tag that marks a translation whose signatures were not checked.
pub const SIGNATURE_TAG_SYSTEM: &str = "https://fhir.nhs.uk/eps-translator/signature-verification";

/// The OperationOutcome the reference puts before a prescription whose signature failed,
/// with the failed checks in `diagnostics`.
fn invalid_signature_outcome(verdict: &PrescriptionVerdict, id: String, checked_at: &str) -> Value {
    let detail: Vec<String> = verdict
        .failures()
        .map(|c| format!("{} ({}): {}", c.verdict(), c.check.name(), c.detail))
        .collect();
    obj([
        ("resourceType", json!("OperationOutcome")),
        ("meta", json!({"lastUpdated": checked_at})),
        ("id", json!(id)),
        (
            "extension",
            json!([{
                "url": "https://fhir.nhs.uk/StructureDefinition/Extension-Spine-supportingInfo-prescription",
                "valueReference": {"identifier": identifier(RFC4122_SYSTEM, &verdict.id.to_lowercase())},
            }]),
        ),
        (
            "issue",
            json!([{
                "severity": "error",
                "code": "invalid",
                "details": {"coding": [{
                    "system": "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode",
                    "code": "INVALID_VALUE",
                    "display": "Signature is invalid.",
                }]},
                "diagnostics": detail.join("; "),
                "expression": ["Provenance.signature.data"],
            }]),
        ),
    ])
}

/// Translates a release response.
pub fn parameters(root: &El<'_, '_>, signatures: &Signatures<'_>) -> Result<Value> {
    if let Signatures::Verify { trust, .. } = signatures {
        if trust.has_no_anchors() {
            return Err(root.error(
                IssueCode::Processing,
                "a release response's prescriptions are verified before they are listed as passed, and no trust anchor is configured: give the sub-CA or root certificates to trust, or ask explicitly for a translation with signatures not checked (--no-verify)",
            ));
        }
    }
    let response = root.path("ControlActEvent/subject/PrescriptionReleaseResponse")?;
    let response_id = response.child("id")?.req_attr("root")?;
    let request_id = response
        .path("inFulfillmentOf/priorDownloadRequestRef/id")?
        .req_attr("root")?;
    let ids = Ids::new(format!("release/{}", response_id.to_lowercase()));
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for (n, component) in response.children("component").enumerate() {
        let supported = component
            .opt("templateId")
            .and_then(|t| t.attr("extension"))
            == Some(SUPPORTED_MESSAGE_TYPE);
        if !supported {
            continue;
        }
        let parent = component.child("ParentPrescription")?;
        let prescription_id = parent.child("id")?.req_attr("root")?.to_lowercase();
        let scoped = ids.nested(&format!("{n}/{prescription_id}"));
        let bundle = prescription_order::bundle(&parent, request_id, &scoped)?;
        match signatures {
            Signatures::Verify { trust, at } => {
                let verdict = crate::verify::verify_prescription(parent.node, trust, *at);
                if verdict.is_valid() {
                    passed.push(bundle);
                } else {
                    let id = scoped.id("invalid-signature");
                    failed.push(invalid_signature_outcome(&verdict, id, &at.iso_utc()));
                    failed.push(bundle);
                }
            }
            Signatures::NotChecked => passed.push(bundle),
        }
    }
    let parameter = Value::Array(vec![
        searchset("passedPrescriptions", &response, &ids, passed)?,
        searchset("failedPrescriptions", &response, &ids, failed)?,
    ]);
    Ok(match signatures {
        Signatures::Verify { .. } => obj([
            ("resourceType", json!("Parameters")),
            ("parameter", parameter),
        ]),
        Signatures::NotChecked => obj([
            ("resourceType", json!("Parameters")),
            (
                "meta",
                json!({"tag": [{
                    "system": SIGNATURE_TAG_SYSTEM,
                    "code": "not-checked",
                    "display": "prescription signatures were not verified",
                }]}),
            ),
            ("parameter", parameter),
        ]),
    })
}
