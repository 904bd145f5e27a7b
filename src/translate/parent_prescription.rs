//! `ParentPrescription` (`PORX_IN020101SM31`): the patient, the prescription, and the care
//! record element category listing the line items.

use super::common::*;
use super::{message, patient, prescription, validation, Input, Scope, Translated};
use crate::hl7v3::element::{code_element, id_element, Element};

const INTERACTION: &str = "PORX_IN020101SM31";
const TEMPLATE_OID: &str = "2.16.840.1.113883.2.1.3.2.4.18.2";

/// The message id: from the context, or the Bundle identifier (upper-cased when a UUID).
pub fn bundle_id(input: &Input<'_, '_>) -> Result<String> {
    let value = input
        .bundle
        .identifier
        .as_ref()
        .filter(|i| i.system.as_deref() == Some("https://tools.ietf.org/html/rfc4122"))
        .and_then(|i| i.value.as_deref())
        .ok_or_else(|| missing("Bundle.identifier.value"))?;
    Ok(global_id(value))
}

/// The send message's id: the context's, else the Bundle's.
pub fn message_id(input: &Input<'_, '_>, bundle_id: &str) -> String {
    input
        .ctx
        .message_id
        .clone()
        .unwrap_or_else(|| bundle_id.to_string())
}

/// Translates a prescription-order Bundle.
pub fn translate(input: &Input<'_, '_>) -> Result<Translated> {
    let mut issues = validation::prescription_order(input)?;
    let id = bundle_id(input)?;
    let record_target = patient::record_target(input)?;
    let built = prescription::build(input, &mut issues)?;
    let mrs = input.medication_requests();
    let (first_index, mr0) = mrs[0];
    let effective_time = match mr0
        .dispense_request
        .as_ref()
        .and_then(|d| d.validity_period.as_ref())
    {
        Some(validity) => {
            let path = format!(
                "Bundle.entry[{first_index}].resource.dispenseRequest.validityPeriod.start"
            );
            timestamp(required(validity.start.as_deref(), path.clone())?, &path)?
        }
        None => built.author_time.clone(),
    };
    let category = Element::new("pertinentCareRecordElementCategory")
        .attr("classCode", "CATEGORY")
        .attr("moodCode", "EVN")
        .child(code_element("code", "185361000000102", SNOMED_OID).attr(
            "displayName",
            "Medication - care record element (record artifact)",
        ))
        .children(built.line_item_ids.iter().map(|item| {
            Element::new("component").attr("typeCode", "COMP").child(
                Element::new("actRef")
                    .attr("classCode", "SBADM")
                    .attr("moodCode", "RQO")
                    .child(Element::new("id").attr("root", item.clone())),
            )
        }));
    let parent = Element::new("ParentPrescription")
        .attr("classCode", "INFO")
        .attr("moodCode", "EVN")
        .child(Element::new("id").attr("root", id.clone()))
        .child(code_element("code", "163501000000109", SNOMED_OID).attr(
            "displayName",
            "Prescription - FocusActOrEvent (record artifact)",
        ))
        .child(Element::new("effectiveTime").attr("value", effective_time))
        .child(id_element(
            "typeId",
            "2.16.840.1.113883.2.1.3.2.4.18.7",
            "PORX_MT132004UK31",
        ))
        .child(record_target)
        .child(
            Element::new("pertinentInformation1")
                .attr("contextConductionInd", "true")
                .attr("typeCode", "PERT")
                .child(id_element(
                    "templateId",
                    TEMPLATE_OID,
                    "CSAB_RM-NPfITUK10.pertinentInformation",
                ))
                .child(built.element),
        )
        .child(
            Element::new("pertinentInformation2")
                .attr("typeCode", "PERT")
                .child(id_element(
                    "templateId",
                    TEMPLATE_OID,
                    "CSAB_RM-NPfITUK10.pertinentInformation1",
                ))
                .child(category),
        );
    let root = match input.scope {
        Scope::Message => {
            message::send_message(INTERACTION, &message_id(input, &id), input.ctx, parent)
        }
        Scope::SignedParts => parent,
    };
    Ok(Translated { root, issues })
}
