//! Release rejection (`PORX_IN110101UK30`) → OperationOutcome, as the reference returns it.
//!
//! The acknowledgement decides the shape ([`acknowledgement::outcome`]): `AA` an
//! informational issue, `AR` the `acknowledgementDetail` codes, `AE`/`CE` one issue for the
//! rejection reason (`PrescriptionReleaseReject/pertinentInformation/pertinentRejectionReason/value`,
//! a Spine dispense error code mapped by `mappings/spine-error-codes.tsv`). When the reason
//! is `PRESCRIPTION_WITH_ANOTHER_DISPENSER`, the dispensing organisation that holds the
//! prescription (the reason's `performer/AgentPerson/representedOrganization`) is a
//! contained Organization, referenced by an `Extension-Spine-supportingInfo` extension; with
//! no performer, the Organization is named and coded `UNKNOWN`, as the reference does.
//! The Organization's id is name-based on the message id (see [`super::ids`]).

use super::acknowledgement;
use super::common::{addresses, identifier, telecoms, ODS_SYSTEM};
use super::ids::Ids;
use super::xml::{El, Result};
use serde_json::{json, Map, Value};

const WITH_ANOTHER_DISPENSER: &str = "PRESCRIPTION_WITH_ANOTHER_DISPENSER";
const SUPPORTING_INFO: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-Spine-supportingInfo";

/// Translates a release rejection.
pub fn operation_outcome(root: &El<'_, '_>) -> Result<Value> {
    let mut outcome = acknowledgement::outcome(root, |root| {
        let reason = root.path(
            "ControlActEvent/subject/PrescriptionReleaseReject/pertinentInformation/pertinentRejectionReason",
        )?;
        Ok(vec![reason.child("value")?])
    })?;
    let with_another_dispenser = outcome["issue"].as_array().is_some_and(|issues| {
        issues.iter().any(|i| {
            i["details"]["coding"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["code"] == WITH_ANOTHER_DISPENSER))
        })
    });
    if !with_another_dispenser {
        return Ok(outcome);
    }
    let ids = Ids::new(format!(
        "release-rejection/{}",
        root.child("id")?.req_attr("root")?.to_lowercase()
    ));
    let id = ids.id("dispensing-organization");
    let org = root.opt_path(
        "ControlActEvent/subject/PrescriptionReleaseReject/pertinentInformation/pertinentRejectionReason/performer/AgentPerson/representedOrganization",
    );
    let organization = match org {
        Some(org) => organization(&org, &id)?,
        None => json!({
            "id": id,
            "resourceType": "Organization",
            "name": "UNKNOWN",
            "identifier": [identifier(ODS_SYSTEM, "UNKNOWN")],
        }),
    };
    outcome["contained"] = json!([organization]);
    outcome["extension"] = json!([{
        "url": SUPPORTING_INFO,
        "valueReference": {"reference": format!("#{id}")},
    }]);
    Ok(outcome)
}

/// The organisation holding the prescription: ODS code, and its name, telecoms and
/// addresses when given.
fn organization(org: &El<'_, '_>, id: &str) -> Result<Value> {
    let mut out = Map::new();
    out.insert("resourceType".into(), json!("Organization"));
    out.insert("id".into(), json!(id));
    let ods = org.child("id")?.req_attr("extension")?;
    out.insert("identifier".into(), json!([identifier(ODS_SYSTEM, ods)]));
    if let Some(name) = org.opt("name") {
        out.insert("name".into(), json!(name.text()));
    }
    let t = telecoms(org.children("telecom"))?;
    if !t.is_empty() {
        out.insert("telecom".into(), Value::Array(t));
    }
    let a = addresses(org.children("addr"))?;
    if !a.is_empty() {
        out.insert("address".into(), Value::Array(a));
    }
    Ok(Value::Object(out))
}
