//! Return `Task` (`status` `rejected`) → `PORX_IN100101SM31` DispenseProposalReturn: the
//! dispenser hands a released prescription back to Spine, with a reason, pointing at the
//! release response it came in.

use super::common::*;
use super::dispenser::{self, Paths};
use super::task::{self, ORGANIZATION_PATH, RETURN_REASON_SYSTEM, ROLE_PATH};
use crate::fhir::*;
use crate::hl7v3::element::Element;

pub const INTERACTION: &str = "PORX_IN100101SM31";
const RETURN_REASON_OID: &str = "2.16.840.1.113883.2.1.3.2.4.16.28";

/// Builds the `DispenseProposalReturn` of a validated return Task.
pub fn translate(task: &Task<'_>) -> Result<Element> {
    let message_id = task::message_id(task)?;
    let effective_time = task::authored_on(task)?;
    let role = task::requester_role(task)?;
    let org = task::role_organization(
        task,
        role,
        "For return messages, practitionerRole.organization must be a reference to a contained Organization.",
    )?;
    // A repeat information extension without sub-extensions is no repeat information, as the
    // reference reads a return.
    let repeat_extension =
        task::repeat_information(task, false)?.filter(|e| !e.extension.is_empty());
    let repeat = match repeat_extension {
        Some(ext) => Some(task::repeat_number(ext, false)?),
        None => None,
    };
    let author = dispenser::agent_person(
        role,
        org,
        &Paths {
            role: ROLE_PATH,
            organization: ORGANIZATION_PATH,
        },
    )?;
    let prescription_id =
        task::prescription_id_observation(task, "pertinentPrescriptionID", "PID")?;
    let return_reason = task::reason_observation(
        task,
        ("pertinentReturnReason", "RR"),
        RETURN_REASON_SYSTEM,
        RETURN_REASON_OID,
    )?;
    let release_response = task::focus_message_ref(task, "priorPrescriptionReleaseResponseRef")?;
    let mut el = Element::new("DispenseProposalReturn")
        .attr("classCode", "INFO")
        .attr("moodCode", "EVN")
        .child(Element::new("id").attr("root", global_id(message_id)))
        .child(Element::new("effectiveTime").attr("value", effective_time))
        .child(Element::new("author").attr("typeCode", "AUT").child(author))
        .child(task::pertinent_conducting(
            "pertinentInformation1",
            true,
            prescription_id,
        ))
        .child(task::pertinent_conducting(
            "pertinentInformation3",
            false,
            return_reason,
        ))
        .child(
            Element::new("reversalOf")
                .attr("inversionInd", "true")
                .attr("negationInd", "false")
                .attr("typeCode", "REV")
                .child(Element::new("seperatableInd").attr("value", "true"))
                .child(release_response),
        );
    if let Some(number) = repeat {
        // The repeat's part follows the others, where the reference's model puts it.
        let info = Element::new("pertinentRepeatInstanceInfo")
            .attr("classCode", "OBS")
            .attr("moodCode", "EVN")
            .child(Element::new("value").attr("value", number))
            .child(
                Element::new("code")
                    .attr("code", "RPI")
                    .attr("codeSystem", EPS_OBSERVATION_OID),
            );
        el.push(task::pertinent_conducting(
            "pertinentInformation2",
            true,
            info,
        ));
    }
    Ok(el)
}
