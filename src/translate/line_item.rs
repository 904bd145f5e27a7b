//! `pertinentLineItem`: one per MedicationRequest — the medication, quantity, additional
//! instructions, endorsements and dosage text.

use super::common::*;
use super::Input;
use crate::fhir::*;
use crate::hl7v3::element::{code_element, Element};

const ITEM_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/prescription-order-item-number";
const SNOMED_SYSTEM: &str = "http://snomed.info/sct";
const ENDORSEMENT_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionEndorsement";
const ENDORSEMENT_SYSTEM: &str = "https://fhir.nhs.uk/CodeSystem/medicationrequest-endorsement";
const ENDORSEMENT_OID: &str = "2.16.840.1.113883.2.1.3.2.4.16.32";
const CONTROLLED_DRUG_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ControlledDrug";
const ADMINISTRATION_CODE: &str = "225426007";
const ADMINISTRATION_DISPLAY: &str = "Administration of therapeutic substance (procedure)";
const DISPENSING_CODE: &str = "373784005";
const DISPENSING_DISPLAY: &str = "Dispensing medication (procedure)";

/// The line item id: the MedicationRequest's item number, upper-cased when a UUID.
pub fn line_item_id(mr: &MedicationRequest<'_>, path: &str) -> Result<String> {
    identifier_value(
        &mr.identifier,
        ITEM_NUMBER_SYSTEM,
        &join(path, ".identifier"),
    )
    .map(global_id)
}

/// `<code code="225426007" … displayName="Administration of therapeutic substance (procedure)"/>`.
pub fn administration_code() -> Element {
    code_element("code", ADMINISTRATION_CODE, SNOMED_OID)
        .attr("displayName", ADMINISTRATION_DISPLAY)
}

/// `<repeatNumber><low value="1"/><high value=".."/></repeatNumber>`.
pub fn repeat_number(high: &str) -> Element {
    Element::new("repeatNumber")
        .child(Element::new("low").attr("value", "1"))
        .child(Element::new("high").attr("value", high.to_string()))
}

/// What the first line item alone carries: the CommunicationRequest payloads.
#[derive(Debug, Default)]
pub struct SharedInstructions<'r> {
    /// `List` item displays referenced by CommunicationRequest payloads (`<medication>`).
    pub medication: Vec<&'r str>,
    /// CommunicationRequest `contentString`s (`<patientInfo>`).
    pub patient_info: Vec<&'r str>,
}

/// Builds one `pertinentLineItem`.
pub fn line_item<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    mr: &'b MedicationRequest<'a>,
    path: &str,
    repeat_high: Option<&str>,
    shared: Option<&SharedInstructions<'b>>,
) -> Result<Element> {
    let product = product(input, mr, path)?;
    let id = line_item_id(mr, path)?;
    let mut el = Element::new("pertinentLineItem")
        .attr("classCode", "SBADM")
        .attr("moodCode", "RQO")
        .child(Element::new("id").attr("root", id))
        .child(administration_code())
        .child(Element::new("effectiveTime").attr("nullFlavor", "NA"));
    if let Some(high) = repeat_high {
        el.push(repeat_number(high));
    }
    el.push(product);
    el.push(quantity(mr, path)?);
    let instructions = additional_instructions(mr, path, shared)?;
    if !instructions.is_empty() {
        el.push(pertinent(
            "pertinentInformation1",
            false,
            observation(
                "pertinentAdditionalInstructions",
                "AI",
                Element::new("value").text(instructions),
            ),
        ));
    }
    for (i, ext) in mr
        .extension
        .iter()
        .enumerate()
        .filter(|(_, e)| e.url == ENDORSEMENT_URL)
    {
        let ext_path = format!("{path}.extension[{i}].valueCodeableConcept.coding");
        let codings = ext
            .value_codeable_concept
            .as_ref()
            .map(|c| c.coding.as_slice())
            .unwrap_or(&[]);
        let code = only_coding(codings, ENDORSEMENT_SYSTEM, &ext_path)?;
        el.push(pertinent(
            "pertinentInformation3",
            false,
            observation(
                "pertinentPrescriberEndorsement",
                "PE",
                code_element("value", code.to_string(), ENDORSEMENT_OID),
            ),
        ));
    }
    el.push(pertinent(
        "pertinentInformation2",
        false,
        observation(
            "pertinentDosageInstructions",
            "DI",
            dosage_value(&mr.dosage_instruction, path)?,
        ),
    ));
    Ok(el)
}

/// The code of the one coding with `system`.
fn only_coding<'c>(codings: &'c [Coding<'_>], system: &str, path: &str) -> Result<&'c str> {
    let coding = exactly_one_with_system(codings, |c| c.system.as_deref(), system, path)?;
    code_of(coding, path)
}

fn product<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    mr: &'b MedicationRequest<'a>,
    path: &str,
) -> Result<Element> {
    let (codings, codings_path): (&[Coding], String) =
        if let Some(cc) = &mr.medication_codeable_concept {
            (&cc.coding, join(path, ".medicationCodeableConcept.coding"))
        } else {
            let reference = required(
                mr.medication_reference.as_ref(),
                join(path, ".medication[x]"),
            )?;
            let (index, medication) = input.resolve_as(
                reference,
                &join(path, ".medicationReference"),
                "Medication",
                |r| match r {
                    Resource::Medication(m) => Some(m),
                    _ => None,
                },
            )?;
            let codings = medication
                .code
                .as_ref()
                .map(|c| c.coding.as_slice())
                .unwrap_or(&[]);
            (
                codings,
                format!("Bundle.entry[{index}].resource.code.coding"),
            )
        };
    let mut hits = codings
        .iter()
        .filter(|c| c.system.as_deref() == Some(SNOMED_SYSTEM));
    let coding = hits.next().ok_or_else(|| {
        crate::error::Rejection::at(
            crate::error::IssueCode::Invalid,
            codings_path.clone(),
            format!(
                "Too few values submitted. Expected 1 element where system == '{SNOMED_SYSTEM}'."
            ),
        )
    })?;
    if hits.next().is_some() {
        return Err(invalid(
            codings_path,
            format!(
                "Too many values submitted. Expected 1 element where system == '{SNOMED_SYSTEM}'."
            ),
        ));
    }
    let code = code_of(coding, &codings_path)?;
    let material = Element::new("manufacturedRequestedMaterial")
        .attr("classCode", "MMAT")
        .attr("determinerCode", "KIND")
        .child(
            code_element("code", code.to_string(), SNOMED_OID)
                .attr_opt("displayName", coding.display.as_deref().map(str::to_string)),
        );
    Ok(Element::new("product")
        .attr("contextControlCode", "OP")
        .attr("typeCode", "PRD")
        .child(
            Element::new("manufacturedProduct")
                .attr("classCode", "MANU")
                .child(material),
        ))
}

fn quantity(mr: &MedicationRequest<'_>, path: &str) -> Result<Element> {
    let q_path = join(path, ".dispenseRequest.quantity");
    let q = required(
        mr.dispense_request
            .as_ref()
            .and_then(|d| d.quantity.as_ref()),
        q_path.clone(),
    )?;
    let value = required(q.value.as_ref(), join(&q_path, ".value"))?
        .text()
        .into_owned();
    let code = required(q.code.as_deref(), join(&q_path, ".code"))?;
    let translation = code_element("translation", code.to_string(), SNOMED_OID)
        .attr_opt("displayName", q.unit.as_deref().map(str::to_string))
        .attr("value", value.clone());
    let line_quantity = Element::new("lineItemQuantity")
        .attr("classCode", "SPLY")
        .attr("moodCode", "RQO")
        .child(
            code_element("code", DISPENSING_CODE, SNOMED_OID)
                .attr("displayName", DISPENSING_DISPLAY),
        )
        .child(
            Element::new("quantity")
                .attr("unit", "1")
                .attr("value", value)
                .child(translation),
        );
    Ok(Element::new("component")
        .attr("typeCode", "COMP")
        .child(Element::new("seperatableInd").attr("value", "false"))
        .child(line_quantity))
}

/// `<code code="373784005" … displayName="Dispensing medication (procedure)"/>`.
pub fn dispensing_code() -> Element {
    code_element("code", DISPENSING_CODE, SNOMED_OID).attr("displayName", DISPENSING_DISPLAY)
}

/// Escapes text once for the inner XML of additional instructions (`& < >`).
fn escape_inner(text: &str, out: &mut String) {
    crate::hl7v3::writer::escape_text(text, out);
}

/// The additional instructions text: `<medication>` and `<patientInfo>` wrappers (first line
/// item only), then the controlled drug quantity words and the note, joined by a newline.
/// The whole is an XML fragment written as text, so the writer escapes it a second time.
fn additional_instructions(
    mr: &MedicationRequest<'_>,
    path: &str,
    shared: Option<&SharedInstructions<'_>>,
) -> Result<String> {
    let mut out = String::new();
    if let Some(shared) = shared {
        for m in &shared.medication {
            out.push_str("<medication>");
            escape_inner(m, &mut out);
            out.push_str("</medication>");
        }
        for p in &shared.patient_info {
            out.push_str("<patientInfo>");
            escape_inner(p, &mut out);
            out.push_str("</patientInfo>");
        }
    }
    let controlled = controlled_drug_words(mr, path)?.map(|w| format!("CD: {w}"));
    let note = match mr.note.as_slice() {
        [] => None,
        [one] => one.text.as_deref().filter(|t| !t.is_empty()),
        _ => {
            return Err(invalid(
                join(path, ".note"),
                "Too many values submitted. Expected at most 1 element.",
            ))
        }
    };
    let tail: Vec<&str> = controlled.as_deref().into_iter().chain(note).collect();
    escape_inner(&tail.join("\n"), &mut out);
    Ok(out)
}

fn controlled_drug_words<'r>(mr: &'r MedicationRequest<'_>, path: &str) -> Result<Option<&'r str>> {
    let mut hits = mr.extension.iter().filter(|e| e.url == CONTROLLED_DRUG_URL);
    let Some(cd) = hits.next() else {
        return Ok(None);
    };
    if hits.next().is_some() {
        return Err(invalid(
            join(path, ".extension"),
            format!("Too many values submitted. Expected 1 element where url == '{CONTROLLED_DRUG_URL}'."),
        ));
    }
    let mut words = cd.extension.iter().filter(|e| e.url == "quantityWords");
    let first = words.next();
    if words.next().is_some() {
        return Err(invalid(
            join(path, ".extension"),
            "Too many values submitted. Expected 1 element where url == 'quantityWords'.",
        ));
    }
    Ok(first
        .and_then(|e| e.value_string.as_deref())
        .filter(|w| !w.is_empty()))
}

/// The dosage text: one dosage's text, or several joined by sequence (", and " within a
/// sequence, ", then " between sequences, ascending; any number is a sequence, 0 and
/// negative ones included, as the reference takes them).
pub fn dosage_value(dosages: &[Dosage<'_>], path: &str) -> Result<Element> {
    let el = Element::new("value");
    match dosages {
        [] => Err(missing(join(path, ".dosageInstruction"))),
        [one] => Ok(match one.text.as_deref() {
            Some(t) => el.text(t),
            None => el,
        }),
        several => {
            let mut keyed = Vec::with_capacity(several.len());
            for (i, d) in several.iter().enumerate() {
                let seq = d
                    .sequence
                    .as_ref()
                    .and_then(|n| n.as_f64())
                    .ok_or_else(|| {
                        invalid(
                            format!("{path}.dosageInstruction[{i}].sequence"),
                            "several dosage instructions need a numeric sequence each",
                        )
                    })?;
                keyed.push((seq, d.text.as_deref().unwrap_or("")));
            }
            // A stable sort keeps array order within a sequence.
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut text = String::new();
            for (i, (seq, t)) in keyed.iter().enumerate() {
                if i > 0 {
                    text.push_str(if keyed[i - 1].0 == *seq {
                        ", and "
                    } else {
                        ", then "
                    });
                }
                text.push_str(t);
            }
            Ok(el.text(text))
        }
    }
}
