//! `CancellationRequest` (`PORX_IN030101SM32`): cancelling one line item of a prescription.

use super::agent_person::{agent_person, Role};
use super::common::*;
use super::parent_prescription::{bundle_id, message_id};
use super::prescription::{
    prescription_id, responsible_party_reference, short_form_id, SHORT_FORM_ID_OID,
};
use super::{line_item, message, patient, validation, Input, Translated};
use crate::hl7v3::element::{code_element, id_element, Element};

const INTERACTION: &str = "PORX_IN030101SM32";
const STATUS_REASON_SYSTEM: &str = "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-reason";
const CANCELLATION_REASON_OID: &str = "2.16.840.1.113883.2.1.3.2.4.16.27";

/// Translates a prescription-order-update (cancellation) Bundle.
pub fn translate(input: &Input<'_, '_>) -> Result<Translated> {
    let issues = validation::cancellation(input)?;
    let id = bundle_id(input)?;
    let record_target = patient::record_target(input)?;
    let (index, mr) = input.medication_requests()[0];
    let path = entry_path(index);
    let requester = required(mr.requester.as_ref(), join(&path, ".requester"))?;
    let author = agent_person(
        input,
        requester,
        &join(&path, ".requester"),
        Role::Cancellation,
    )?;
    let (responsible_ref, responsible_path) = responsible_party_reference(mr, requester, &path)?;
    let responsible = agent_person(
        input,
        responsible_ref,
        &responsible_path,
        Role::Cancellation,
    )?;
    let short_form = short_form_id(mr, &path)?;
    let item_id = line_item::line_item_id(mr, &path)?;

    let reason_path = join(&path, ".statusReason");
    let codings = mr
        .status_reason
        .as_ref()
        .map(|s| s.coding.as_slice())
        .unwrap_or(&[]);
    let mut hits = codings
        .iter()
        .filter(|c| c.system.as_deref() == Some(STATUS_REASON_SYSTEM));
    let coding = hits.next().ok_or_else(|| {
        invalid(
            reason_path.clone(),
            format!("Too few values submitted. Expected 1 element where system == '{STATUS_REASON_SYSTEM}'."),
        )
    })?;
    if hits.next().is_some() {
        return Err(invalid(
            reason_path,
            "Too many values submitted. Expected 1 element.",
        ));
    }
    let reason_code = code_of(coding, &join(&reason_path, ".coding"))?;
    let reason_text = match coding.display.as_deref() {
        Some(d) => Element::new("text").text(d),
        None => Element::new("text"),
    };
    let original_id = prescription_id(mr, &path)?;

    let request = Element::new("CancellationRequest")
        .attr("classCode", "INFO")
        .attr("moodCode", "EVN")
        .child(Element::new("id").attr("root", id.clone()))
        .child(Element::new("effectiveTime").attr("value", input.ctx.now.hl7()))
        .child(record_target)
        .child(Element::new("author").attr("typeCode", "AUT").child(author))
        .child(
            Element::new("responsibleParty")
                .attr("typeCode", "RESP")
                .child(responsible),
        )
        .child(pertinent(
            "pertinentInformation2",
            false,
            observation(
                "pertinentPrescriptionID",
                "PID",
                id_element("value", SHORT_FORM_ID_OID, short_form.to_string()),
            ),
        ))
        .child(
            Element::new("pertinentInformation1")
                .attr("inversionInd", "false")
                .attr("negationInd", "false")
                .attr("typeCode", "PERT")
                .child(Element::new("seperatableInd").attr("value", "true"))
                .child(
                    Element::new("pertinentLineItemRef")
                        .attr("classCode", "SBADM")
                        .attr("moodCode", "RQO")
                        .child(Element::new("id").attr("root", item_id)),
                ),
        )
        .child(pertinent(
            "pertinentInformation",
            false,
            Element::new("pertinentCancellationReason")
                .attr("classCode", "OBS")
                .attr("moodCode", "EVN")
                .child(
                    Element::new("code")
                        .attr("code", "CR")
                        .attr("codeSystem", EPS_OBSERVATION_OID),
                )
                .child(reason_text)
                .child(code_element(
                    "value",
                    reason_code.to_string(),
                    CANCELLATION_REASON_OID,
                )),
        ))
        .child(
            Element::new("pertinentInformation3")
                .attr("contextConductionInd", "false")
                .attr("typeCode", "PERT")
                .child(Element::new("seperatableInd").attr("value", "true"))
                .child(
                    Element::new("pertinentOriginalPrescriptionRef")
                        .attr("classCode", "SBADM")
                        .attr("moodCode", "RQO")
                        .child(Element::new("id").attr("root", original_id)),
                ),
        );
    let root = message::send_message(INTERACTION, &message_id(input, &id), input.ctx, request);
    Ok(Translated { root, issues })
}
