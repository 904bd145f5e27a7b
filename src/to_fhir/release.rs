//! Release response (`PORX_IN070101UK31` nominated, `PORX_IN070103UK31` patient) →
//! Parameters with `passedPrescriptions` and `failedPrescriptions` searchset Bundles, one
//! prescription-order Bundle per released `ParentPrescription`.
//!
//! Signatures are not verified here yet (the verify work adds that), so every prescription
//! counts as passed, as the reference's output with verification skipped shows. Only
//! components of the signed message type `PORX_MT122003UK32` are read, as the reference reads
//! them.

use super::common::{date_time, identifier, obj, RFC4122_SYSTEM};
use super::ids::Ids;
use super::prescription_order::{self, entry};
use super::xml::{El, Result};
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

/// Translates a release response.
pub fn parameters(root: &El<'_, '_>) -> Result<Value> {
    let response = root.path("ControlActEvent/subject/PrescriptionReleaseResponse")?;
    let response_id = response.child("id")?.req_attr("root")?;
    let request_id = response
        .path("inFulfillmentOf/priorDownloadRequestRef/id")?
        .req_attr("root")?;
    let ids = Ids::new(format!("release/{}", response_id.to_lowercase()));
    let mut passed = Vec::new();
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
        passed.push(prescription_order::bundle(&parent, request_id, &scoped)?);
    }
    Ok(obj([
        ("resourceType", json!("Parameters")),
        (
            "parameter",
            Value::Array(vec![
                searchset("passedPrescriptions", &response, &ids, passed)?,
                searchset("failedPrescriptions", &response, &ids, Vec::new())?,
            ]),
        ),
    ]))
}
