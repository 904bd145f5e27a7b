//! `pertinentLineItem` (with its prescription) → MedicationRequest.
//!
//! Prescription-level values (ids, prescription type, treatment type, dispensing site,
//! nominated pharmacy, days supply, review date) are repeated on every MedicationRequest, as
//! the forward translation expects to find them on each.

use super::common::*;
use super::instructions::Parsed;
use super::xml::{El, Result};
use crate::error::IssueCode;
use serde_json::{json, Map, Value};

const ITEM_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/prescription-order-item-number";
const HL7_COURSE_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy";
const NHS_COURSE_SYSTEM: &str =
    "https://fhir.nhs.uk/CodeSystem/medicationrequest-course-of-therapy";
const REPEAT_DISPENSING_TREATMENT: &str = "0003";

/// What every MedicationRequest of a prescription shares.
pub struct Shared<'a, 'i> {
    pub prescription: El<'a, 'i>,
    pub patient_id: String,
    pub requester_id: String,
    pub responsible_id: String,
}

/// The course of therapy: repeat dispensing from the treatment type, continuous when the
/// line item repeats, else acute.
fn course(shared: &Shared<'_, '_>, item: &El<'_, '_>) -> Result<(&'static str, Value)> {
    let treatment = shared
        .prescription
        .path("pertinentInformation5/pertinentPrescriptionTreatmentType/value")?
        .req_attr("code")?;
    Ok(if treatment == REPEAT_DISPENSING_TREATMENT {
        (
            "continuous-repeat-dispensing",
            codeable_concept(
                NHS_COURSE_SYSTEM,
                "continuous-repeat-dispensing",
                Some("Continuous long term (repeat dispensing)"),
            ),
        )
    } else if item.opt("repeatNumber").is_some() {
        (
            "continuous",
            codeable_concept(
                HL7_COURSE_SYSTEM,
                "continuous",
                Some("Continuous long term therapy"),
            ),
        )
    } else {
        (
            "acute",
            codeable_concept(
                HL7_COURSE_SYSTEM,
                "acute",
                Some("Short course (acute) therapy"),
            ),
        )
    })
}

/// The item status of a released line item (`pertinentItemStatus`), as FHIR status.
fn status(item: &El<'_, '_>) -> Result<&'static str> {
    let Some(value) = item.opt_path("pertinentInformation4/pertinentItemStatus/value") else {
        return Ok("active");
    };
    let code = value.req_attr("code")?;
    Ok(match code {
        "0001" => "completed",
        "0002" | "0006" => "stopped",
        "0003" | "0004" | "0007" | "0008" => "active",
        "0005" => "cancelled",
        other => {
            return Err(value.bad_value("code", format!("unhandled item status code '{other}'")))
        }
    })
}

fn coding_value(el: &El<'_, '_>, system: &str) -> Result<Value> {
    let mut coding = Map::new();
    coding.insert("system".into(), json!(system));
    coding.insert("code".into(), json!(el.req_attr("code")?));
    if let Some(d) = el.attr("displayName") {
        coding.insert("display".into(), json!(d));
    }
    Ok(Value::Object(coding))
}

/// One integer attribute minus one, as a JSON number.
fn minus_one(el: &El<'_, '_>, attr: &str) -> Result<Value> {
    Ok(json!(integer(el, attr)? - 1))
}

/// Builds the MedicationRequest for one line item.
pub fn medication_request(
    shared: &Shared<'_, '_>,
    item: &El<'_, '_>,
    id: &str,
    instructions: &Parsed,
) -> Result<Value> {
    let p = &shared.prescription;
    let (course_code, course) = course(shared, item)?;
    let reflex = course_code == "continuous-repeat-dispensing";
    let repeat = item.opt("repeatNumber");

    let mut extension = vec![
        json!({
            "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner",
            "valueReference": reference(&shared.responsible_id),
        }),
        json!({
            "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType",
            "valueCoding": coding_value(
                &p.path("pertinentInformation4/pertinentPrescriptionType/value")?,
                "https://fhir.nhs.uk/CodeSystem/prescription-type",
            )?,
        }),
    ];
    for info in item.children("pertinentInformation3") {
        let value = info.path("pertinentPrescriberEndorsement/value")?;
        let mut coding = Map::new();
        coding.insert("code".into(), json!(value.req_attr("code")?));
        coding.insert(
            "system".into(),
            json!("https://fhir.nhs.uk/CodeSystem/medicationrequest-endorsement"),
        );
        if let Some(d) = value.attr("displayName") {
            coding.insert("display".into(), json!(d));
        }
        extension.push(json!({
            "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionEndorsement",
            "valueCodeableConcept": {"coding": [Value::Object(coding)]},
        }));
    }
    let review = p.opt_path("pertinentInformation7/pertinentReviewDate/value");
    if review.is_some() || repeat.is_some() {
        let mut parts = Vec::new();
        if let Some(r) = review.filter(|r| r.attr("value").is_some()) {
            parts.push(
                json!({"url": "authorisationExpiryDate", "valueDateTime": date(&r, "value")?}),
            );
        }
        if let Some(low) = repeat.and_then(|r| r.opt("low")) {
            parts.push(json!({"url": "numberOfPrescriptionsIssued", "valueUnsignedInt": number(&low, "value")?}));
        }
        extension.push(json!({
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation",
            "extension": parts,
        }));
    }
    if !instructions.controlled_drug_words.is_empty() {
        extension.push(json!({
            "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ControlledDrug",
            "extension": [{"url": "quantityWords", "valueString": instructions.controlled_drug_words}],
        }));
    }
    if let Some(previous) = p.opt_path("predecessor/priorPreviousIssueDate/value") {
        extension.push(json!({
            "url": "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation",
            "extension": [{"url": "dateLastDispensed", "valueDate": date(&previous, "value")?}],
        }));
    }

    let ids: Vec<El> = p.children("id").collect();
    let (long_id, short_id) = match ids.as_slice() {
        [long, short, ..] => (long.req_attr("root")?, short.req_attr("extension")?),
        _ => {
            return Err(p.error(
                IssueCode::Required,
                "the prescription needs its two ids (long and short form)",
            ))
        }
    };
    let material = item.path("product/manufacturedProduct/manufacturedRequestedMaterial/code")?;

    let mut mr = Map::new();
    mr.insert("resourceType".into(), json!("MedicationRequest"));
    mr.insert("id".into(), json!(id));
    mr.insert("extension".into(), Value::Array(extension));
    mr.insert(
        "identifier".into(),
        json!([identifier(
            ITEM_NUMBER_SYSTEM,
            &item.child("id")?.req_attr("root")?.to_lowercase()
        )]),
    );
    mr.insert("status".into(), json!(status(item)?));
    // The reference writes `reflex-order` for repeat dispensing, which the forward
    // translation (as the reference's validator) refuses; `original-order` is what
    // prescribers send for it, so the Bundle converts again (docs/mapping.md, deviations).
    mr.insert(
        "intent".into(),
        json!(if reflex { "original-order" } else { "order" }),
    );
    mr.insert(
        "medicationCodeableConcept".into(),
        json!({"coding": [coding_value(&material, SNOMED_SYSTEM)?]}),
    );
    mr.insert("subject".into(), reference(&shared.patient_id));
    mr.insert(
        "category".into(),
        json!([codeable_concept(
            "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
            "outpatient",
            Some("Outpatient")
        )]),
    );
    mr.insert("requester".into(), reference(&shared.requester_id));
    mr.insert(
        "groupIdentifier".into(),
        json!({
            "system": "https://fhir.nhs.uk/Id/prescription-order-number",
            "value": short_id,
            "extension": [{
                "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId",
                "valueIdentifier": identifier("https://fhir.nhs.uk/Id/prescription", &long_id.to_lowercase()),
            }],
        }),
    );
    mr.insert("courseOfTherapyType".into(), course);
    if !instructions.note.is_empty() {
        mr.insert("note".into(), json!([{"text": instructions.note}]));
    }
    let dosage = item.path("pertinentInformation2/pertinentDosageInstructions/value")?;
    let dosage_text = dosage.text();
    mr.insert(
        "dosageInstruction".into(),
        if dosage_text.is_empty() {
            json!([{}])
        } else {
            json!([{"text": dosage_text}])
        },
    );
    mr.insert("dispenseRequest".into(), dispense_request(p, item, repeat)?);
    mr.insert("substitution".into(), json!({"allowedBoolean": false}));
    if reflex || course_code == "continuous" {
        let prescription_repeat = p.opt("repeatNumber").or(repeat);
        if let Some(r) = prescription_repeat {
            mr.insert(
                "basedOn".into(),
                json!([{
                    "reference": format!("urn:uuid:{}", item.child("id")?.req_attr("root")?.to_lowercase()),
                    "extension": [{
                        "url": "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation",
                        "extension": [
                            {"url": "numberOfRepeatsAllowed", "valueInteger": minus_one(&r.child("high")?, "value")?},
                            {"url": "numberOfRepeatsIssued", "valueInteger": minus_one(&r.child("low")?, "value")?},
                        ],
                    }],
                }]),
            );
        }
    }
    Ok(Value::Object(mr))
}

fn dispense_request(
    p: &El<'_, '_>,
    item: &El<'_, '_>,
    repeat: Option<El<'_, '_>>,
) -> Result<Value> {
    let site = p.path("pertinentInformation1/pertinentDispensingSitePreference/value")?;
    let translation = item.path("component/lineItemQuantity/quantity/translation")?;
    let repeats_allowed = match repeat.and_then(|r| r.opt("high")) {
        Some(high) => minus_one(&high, "value")?,
        None => json!(0),
    };
    let mut quantity = Map::new();
    quantity.insert("value".into(), number(&translation, "value")?);
    if let Some(unit) = translation.attr("displayName") {
        quantity.insert("unit".into(), json!(unit));
    }
    quantity.insert("system".into(), json!(SNOMED_SYSTEM));
    quantity.insert("code".into(), json!(translation.req_attr("code")?));

    let mut out = Map::new();
    out.insert(
        "extension".into(),
        json!([{
            "url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PerformerSiteType",
            "valueCoding": {
                "system": "https://fhir.nhs.uk/CodeSystem/dispensing-site-preference",
                "code": site.req_attr("code")?,
            },
        }]),
    );
    out.insert("numberOfRepeatsAllowed".into(), repeats_allowed);
    out.insert("quantity".into(), Value::Object(quantity));
    if let Some(supply) = p.opt_path("component1/daysSupply") {
        if let Some(effective) = supply.opt("effectiveTime") {
            let mut period = Map::new();
            if let Some(low) = effective.opt("low") {
                period.insert("start".into(), json!(date(&low, "value")?));
            }
            if let Some(high) = effective.opt("high") {
                period.insert("end".into(), json!(date(&high, "value")?));
            }
            if !period.is_empty() {
                out.insert("validityPeriod".into(), Value::Object(period));
            }
        }
        if let Some(width) = supply.opt_path("expectedUseTime/width") {
            out.insert(
                "expectedSupplyDuration".into(),
                json!({
                    "unit": "days",
                    "value": number(&width, "value")?,
                    "system": "http://unitsofmeasure.org",
                    "code": "d",
                }),
            );
        }
    }
    if let Some(ods) = p.opt_path("performer/AgentOrgSDS/agentOrganizationSDS/id") {
        out.insert(
            "performer".into(),
            json!({"identifier": identifier(ODS_SYSTEM, ods.req_attr("extension")?)}),
        );
    }
    Ok(Value::Object(out))
}
