//! `ParentPrescription` → prescription-order Bundle: MessageHeader, the MedicationRequests,
//! Patient, Practitioner(s), PractitionerRole(s), Organization(s), CommunicationRequest and
//! List from additional instructions, and the Provenance of the signature — in the
//! reference's entry order (MessageHeader, CommunicationRequest, List, MedicationRequests,
//! Patient, Practitioners, PractitionerRoles, Organizations, Provenance).

use super::agent_person::{self, Translated};
use super::common::*;
use super::ids::Ids;
use super::instructions;
use super::medication_request::{self, Shared};
use super::xml::{El, Result};
use super::{patient, provenance};
use serde_json::{json, Value};

/// The reference's sort order of resource types in a Bundle (stable; others count as 0).
pub fn sort_index(resource: &Value) -> u8 {
    match resource["resourceType"].as_str().unwrap_or("") {
        "MedicationRequest" => 1,
        "Patient" => 2,
        "Practitioner" => 3,
        "PractitionerRole" => 4,
        "Organization" => 5,
        "HealthcareService" => 6,
        "Location" => 7,
        "Provenance" => 8,
        _ => 0,
    }
}

/// The Bundle entry of a resource: `fullUrl` and the resource.
pub fn entry(resource: Value) -> Value {
    let id = resource["id"].as_str().unwrap_or("").to_string();
    obj([("fullUrl", json!(full_url(&id))), ("resource", resource)])
}

pub fn push_agent(resources: &mut Vec<Value>, agent: &Translated) {
    let (role, practitioner, organization) = agent.resources();
    resources.push(role);
    resources.push(practitioner);
    resources.push(organization);
}

/// The MessageHeader of a Bundle from Spine: the message id, the event, the destination
/// (`nominated`, an ODS code), the message answered and the focus resources.
pub fn message_header(
    event: (&str, &str),
    id: &str,
    prescription_id: &str,
    response_id: &str,
    focus: &[String],
    nominated: Option<&str>,
) -> Value {
    let destination: Vec<Value> = nominated
        .map(|ods| {
            json!({
                "endpoint": format!("urn:nhs-uk:addressing:ods:{ods}"),
                "receiver": {"identifier": identifier(ODS_SYSTEM, ods)},
            })
        })
        .into_iter()
        .collect();
    json!({
        "resourceType": "MessageHeader",
        "id": id,
        "extension": [{
            "url": "https://fhir.nhs.uk/StructureDefinition/Extension-MessageHeader-messageId",
            "valueIdentifier": identifier(RFC4122_SYSTEM, prescription_id),
        }],
        "eventCoding": {
            "system": "https://fhir.nhs.uk/CodeSystem/message-event",
            "code": event.0,
            "display": event.1,
        },
        "destination": destination,
        "sender": {
            "identifier": identifier(ODS_SYSTEM, "X2601"),
            "display": "NHS Digital Spine",
        },
        "source": {
            "name": "NHS Spine",
            "endpoint": "example.com/eps/$process-message",
        },
        "response": {"identifier": response_id, "code": "ok"},
        "focus": focus.iter().map(|f| reference(f)).collect::<Vec<_>>(),
    })
}

/// Translates a `ParentPrescription`. `response_id` is the id of the message it answers
/// (the send message's own id, or the release request's), written lower-case in
/// `MessageHeader.response.identifier`.
pub fn bundle(parent: &El<'_, '_>, response_id: &str, ids: &Ids) -> Result<Value> {
    let prescription_id = parent.child("id")?.req_attr("root")?.to_lowercase();
    let last_updated = date_time(&parent.child("effectiveTime")?, "value")?;
    let patient_el = parent.path("recordTarget/Patient")?;
    let patient_id = ids.id("patient");
    let patient = patient::patient(&patient_el, &patient_id)?;
    let nhs_number = patient_el.child("id")?.req_attr("extension")?;

    let prescription = parent.path("pertinentInformation1/pertinentPrescription")?;
    let author_el = prescription.child("author")?;
    let author_agent = author_el.child("AgentPerson")?;
    let mut author = agent_person::translate(&author_agent, ids, "author")?;
    let responsible_agent = prescription.opt_path("responsibleParty/AgentPerson");
    let responsible = match responsible_agent {
        Some(r) if !agent_person::can_share(&author_agent, &r, &mut author)? => {
            Some(agent_person::translate(&r, ids, "responsible-party")?)
        }
        _ => None,
    };

    // Resources in the order the reference creates them (it decides the Provenance targets).
    let mut resources = vec![patient];
    push_agent(&mut resources, &author);
    if let Some(r) = &responsible {
        push_agent(&mut resources, r);
    }

    let items: Vec<El> = prescription
        .children("pertinentInformation2")
        .map(|pi| pi.child("pertinentLineItem"))
        .collect::<Result<_>>()?;
    if items.is_empty() {
        return Err(prescription.error(
            crate::error::IssueCode::Required,
            "the prescription has no line item (pertinentInformation2/pertinentLineItem)",
        ));
    }
    let parsed: Vec<instructions::Parsed> = items
        .iter()
        .map(|item| {
            let text = item
                .opt_path("pertinentInformation1/pertinentAdditionalInstructions/value")
                .map(|v| v.text().into_owned())
                .unwrap_or_default();
            instructions::parse(&text)
        })
        .collect();
    let first = &parsed[0];
    if !first.medication.is_empty() || !first.patient_info.is_empty() {
        let (cr, list) = instructions::communication_request(
            first,
            ids,
            &patient_id,
            nhs_number,
            &author.ods_code,
        );
        resources.push(cr);
        resources.extend(list);
    }

    let shared = Shared {
        prescription,
        patient_id: patient_id.clone(),
        requester_id: author.role_id.clone(),
        responsible_id: responsible
            .as_ref()
            .map_or_else(|| author.role_id.clone(), |r| r.role_id.clone()),
    };
    let mut focus = vec![patient_id];
    for (n, (item, instructions)) in items.iter().zip(&parsed).enumerate() {
        let id = ids.id(&format!("medication-request/{n}"));
        resources.push(medication_request::medication_request(
            &shared,
            item,
            &id,
            instructions,
        )?);
        focus.push(id);
    }

    let nominated = prescription
        .opt_path("performer/AgentOrgSDS/agentOrganizationSDS/id")
        .and_then(|id| id.attr("extension"));
    let header_id = ids.id("message-header");
    resources.insert(
        0,
        message_header(
            ("prescription-order", "Prescription Order"),
            &header_id,
            &prescription_id,
            &response_id.to_lowercase(),
            &focus,
            nominated,
        ),
    );
    let targets: Vec<String> = resources
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("").to_string())
        .collect();
    if let Some(p) =
        provenance::provenance(&author_el, &ids.id("provenance"), &author.role_id, &targets)?
    {
        resources.push(p);
    }
    resources.sort_by_key(sort_index);

    Ok(obj([
        ("resourceType", json!("Bundle")),
        ("id", json!(ids.id("bundle"))),
        ("meta", json!({"lastUpdated": last_updated})),
        ("identifier", identifier(RFC4122_SYSTEM, &prescription_id)),
        ("type", json!("message")),
        (
            "entry",
            Value::Array(resources.into_iter().map(entry).collect()),
        ),
    ]))
}
