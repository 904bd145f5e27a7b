//! Cancellation response (`PORX_IN050101UK31`) → prescription-order-response Bundle, or an
//! OperationOutcome when Spine refused the cancellation outright (`mappings/cancellation-response-status.tsv`).
//!
//! As the reference builds it: MessageHeader (event `prescription-order-response`, to the
//! cancel requester's organisation, answering the cancel request), one MedicationRequest
//! (the line item, its status and a status history extension), the Patient, the cancel
//! requester (author), the original prescriber (responsible party) and, when Spine names
//! one, the dispenser (performer) — agents with the same SDS role profile share resources.

use super::agent_person::{self, Translated};
use super::common::*;
use super::ids::Ids;
use super::patient;
use super::prescription_order::{entry, message_header, push_agent, sort_index};
use super::xml::{El, Result};
use crate::mappings::{table, Table};
use serde_json::{json, Value};

/// Translates a cancellation response (whatever its acknowledgement code: Spine sends its
/// refusals in the same shape).
pub fn bundle(root: &El<'_, '_>) -> Result<Value> {
    let response = root.path("ControlActEvent/subject/CancellationResponse")?;
    let message_id = response.child("id")?.req_attr("root")?.to_lowercase();
    let ids = Ids::new(format!("cancellation/{message_id}"));
    let status_el = response.path("pertinentInformation3/pertinentResponse/value")?;
    let code = status_el.req_attr("code")?;
    let row = table(Table::CancellationResponseStatus)
        .row(code)
        .ok_or_else(|| {
            status_el.bad_value(
                "code",
                format!("unhandled cancellation response code '{code}'"),
            )
        })?;
    let (status_code, display, outcome) = (row[1], row[2], row[3]);
    let display = if display == "-" {
        status_el.attr("displayName").unwrap_or("")
    } else {
        display
    };
    if let Some(issue) = outcome.strip_prefix("issue:") {
        return Ok(json!({
            "resourceType": "OperationOutcome",
            "issue": [{
                "severity": "error",
                "code": issue,
                "details": {"coding": [{
                    "system": "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-history",
                    "code": status_code,
                    "display": display,
                }]},
            }],
        }));
    }

    let effective = date_time(&response.child("effectiveTime")?, "value")?;
    let patient_id = ids.id("patient");
    let mut resources = vec![patient::patient(
        &response.path("recordTarget/Patient")?,
        &patient_id,
    )?];
    let requester_el = response.path("author/AgentPerson")?;
    let mut requester = agent_person::translate(&requester_el, &ids, "author")?;
    let original_el = response
        .opt_path("responsibleParty/AgentPerson")
        .filter(|a| a.opt("agentPerson").is_some());
    let mut original: Option<Translated> = None;
    if let Some(o) = &original_el {
        if agent_person::role_profile_id(o) == agent_person::role_profile_id(&requester_el) {
            agent_person::add_code(&mut requester, o)?;
        } else {
            original = Some(agent_person::translate(o, &ids, "responsible-party")?);
        }
    }
    let mut performer: Option<Translated> = None;
    let mut performer_role_id = None;
    let performer_el = response.opt_path("performer/AgentPerson");
    if let Some(p) = &performer_el {
        let pid = agent_person::role_profile_id(p);
        if pid == agent_person::role_profile_id(&requester_el) {
            agent_person::add_code(&mut requester, p)?;
            performer_role_id = Some(requester.role_id.clone());
        } else if let (Some(o_el), Some(o)) = (&original_el, original.as_mut()) {
            if pid == agent_person::role_profile_id(o_el) {
                agent_person::add_code(o, p)?;
                performer_role_id = Some(o.role_id.clone());
            }
        }
        if performer_role_id.is_none() {
            let t = agent_person::translate(p, &ids, "performer")?;
            performer_role_id = Some(t.role_id.clone());
            performer = Some(t);
        }
    }
    push_agent(&mut resources, &requester);
    if let Some(o) = &original {
        push_agent(&mut resources, o);
    }
    if let Some(p) = &performer {
        push_agent(&mut resources, p);
    }

    let mr_id = ids.id("medication-request");
    let item_id = response
        .path("pertinentInformation1/pertinentLineItemRef/id")?
        .req_attr("root")?
        .to_lowercase();
    let short_id = response
        .path("pertinentInformation2/pertinentPrescriptionID/value")?
        .req_attr("extension")?;
    let original_id = original.as_ref().map_or(&requester.role_id, |o| &o.role_id);
    let mut mr = json!({
        "resourceType": "MedicationRequest",
        "id": mr_id,
        "extension": [
            {
                "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionStatusHistory",
                "extension": [
                    {"url": "status", "valueCoding": {
                        "system": "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-history",
                        "code": status_code,
                        "display": display,
                    }},
                    {"url": "statusDate", "valueDateTime": effective},
                ],
            },
            {
                "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner",
                "valueReference": reference(&requester.role_id),
            },
        ],
        "identifier": [identifier("https://fhir.nhs.uk/Id/prescription-order-item-number", &item_id)],
        "status": outcome,
        "intent": "order",
        "medicationCodeableConcept": codeable_concept(SNOMED_SYSTEM, "763158003", Some("Medicinal product")),
        "subject": reference(&patient_id),
        "requester": reference(original_id),
        "groupIdentifier": {"system": "https://fhir.nhs.uk/Id/prescription-order-number", "value": short_id},
    });
    if let (Some(p_el), Some(role_id)) = (&performer_el, &performer_role_id) {
        let org = p_el.child("representedOrganization")?;
        let mut performer_ref = json!({
            "extension": [{
                "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-DispensingPerformer",
                "valueReference": reference(role_id),
            }],
            "identifier": identifier(ODS_SYSTEM, org.child("id")?.req_attr("extension")?),
        });
        if let Some(name) = org.opt("name") {
            performer_ref["display"] = json!(name.text());
        }
        mr["dispenseRequest"] = json!({"performer": performer_ref});
    }
    resources.push(mr);

    let cancel_request_id = response
        .path("pertinentInformation4/pertinentCancellationRequestRef/id")?
        .req_attr("root")?
        .to_lowercase();
    resources.insert(
        0,
        message_header(
            ("prescription-order-response", "Prescription Order Response"),
            &ids.id("message-header"),
            &message_id,
            &cancel_request_id,
            &[patient_id, mr_id],
            Some(&requester.ods_code),
        ),
    );
    resources.sort_by_key(sort_index);
    Ok(json!({
        "resourceType": "Bundle",
        "type": "message",
        "identifier": identifier(RFC4122_SYSTEM, &message_id),
        "timestamp": effective,
        "entry": resources.into_iter().map(entry).collect::<Vec<_>>(),
    }))
}
