//! Acknowledgement (`MCCI_IN010000UK13`) → OperationOutcome, as the reference returns it:
//! `AA` an informational issue; `AE`/`CE` one issue per `ControlActEvent/reason` error code;
//! `AR` one issue per `acknowledgementDetail` code — the Spine error codes mapped by
//! `mappings/spine-error-codes.tsv`. `meta.lastUpdated` is the message's `creationTime`
//! (nothing here reads the clock).

use super::common::date_time;
use super::xml::{El, Result};
use crate::error::IssueCode;
use crate::mappings::{table, Table};
use serde_json::{json, Value};

const PRESCRIBE_ERRORS: &str = "2.16.840.1.113883.2.1.3.2.4.17.22";
const DISPENSE_ERRORS: &str = "2.16.840.1.113883.2.1.3.2.4.16.34";
const EPS_ISSUE_CODES: &str = "https://fhir.nhs.uk/CodeSystem/EPS-IssueCode";
const SPINE_CODES: &str = "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode";

fn issue(code: &El<'_, '_>) -> Result<Value> {
    let value = code.req_attr("code")?;
    let display = code.attr("displayName");
    let kind = match code.attr("codeSystem") {
        Some(PRESCRIBE_ERRORS) => Some("prescribe"),
        Some(DISPENSE_ERRORS) => Some("dispense"),
        _ => None,
    };
    let row = kind.and_then(|k| table(Table::SpineErrorCodes).row(&format!("{k}|{value}")));
    let (issue_code, severity, system, coding_code, coding_display) = match (kind, row) {
        (_, Some(r)) => (
            r[1],
            r[2],
            if r[3] == "eps" {
                EPS_ISSUE_CODES
            } else {
                SPINE_CODES
            },
            r[4],
            if r[5] == "-" { display } else { Some(r[5]) },
        ),
        (Some(_), None) => ("invalid", "error", SPINE_CODES, "ERROR", display),
        (None, None) => ("invalid", "error", SPINE_CODES, value, display),
    };
    let mut coding = json!({"system": system, "code": coding_code});
    if let Some(d) = coding_display {
        coding["display"] = json!(d);
    }
    Ok(json!({"severity": severity, "code": issue_code, "details": {"coding": [coding]}}))
}

/// Translates an acknowledgement.
pub fn operation_outcome(root: &El<'_, '_>) -> Result<Value> {
    outcome(root, |root| {
        Ok(root
            .children("ControlActEvent")
            .flat_map(|c| c.children("reason").collect::<Vec<_>>())
            .filter_map(|r| r.opt_path("justifyingDetectedIssueEvent/code"))
            .collect())
    })
}

/// The OperationOutcome for a Spine response whose `acknowledgement` says how it went:
/// `error_codes` finds the error codes of an `AE`/`CE` response (where they lie depends
/// on the message).
pub fn outcome<'a, 'i>(
    root: &El<'a, 'i>,
    error_codes: impl FnOnce(&El<'a, 'i>) -> Result<Vec<El<'a, 'i>>>,
) -> Result<Value> {
    let ack = root.child("acknowledgement")?;
    let type_code = ack.req_attr("typeCode")?;
    let codes: Vec<El> = match type_code {
        "AA" => Vec::new(),
        "AE" | "CE" => error_codes(root)?,
        "AR" => ack
            .children("acknowledgementDetail")
            .filter_map(|d| d.opt("code"))
            .collect(),
        other => {
            return Err(ack.bad_value(
                "typeCode",
                format!("unhandled acknowledgement type code '{other}'"),
            ))
        }
    };
    let issues: Vec<Value> = if type_code == "AA" {
        vec![json!({"severity": "information", "code": "informational"})]
    } else if codes.is_empty() {
        return Err(ack.error(
            IssueCode::Required,
            "an error acknowledgement with no error code",
        ));
    } else {
        codes.iter().map(issue).collect::<Result<_>>()?
    };
    Ok(json!({
        "resourceType": "OperationOutcome",
        "meta": {"lastUpdated": date_time(&root.child("creationTime")?, "value")?},
        "issue": issues,
    }))
}
