//! Withdrawal `Task` (`status` `in-progress`) → `PORX_IN510101SM31` ETPWithdraw: the dispenser
//! withdraws its last dispense notification of a prescription, with a reason.

use super::agent_person::SDS_ROLE_PROFILE_SYSTEM;
use super::common::*;
use super::task::{self, ROLE_PATH, WITHDRAW_REASON_SYSTEM};
use crate::fhir::*;
use crate::hl7v3::element::{id_element, Element};

pub const INTERACTION: &str = "PORX_IN510101SM31";
const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const NHS_NUMBER_OID: &str = "2.16.840.1.113883.2.1.4.1";
const SDS_ROLE_PROFILE_OID: &str = "1.2.826.0.1285.0.2.0.67";
const SDS_USER_OID: &str = "1.2.826.0.1285.0.2.0.65";
const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const WITHDRAW_TYPE_OID: &str = "2.16.840.1.113883.2.1.3.2.4.17.109";
const WITHDRAW_REASON_OID: &str = "2.16.840.1.113883.2.1.3.2.4.17.110";

/// Builds the `ETPWithdraw` of a validated withdrawal Task.
pub fn translate(task: &Task<'_>) -> Result<Element> {
    let message_id = task::message_id(task)?;
    let effective_time = task::authored_on(task)?;
    let role = task::requester_role(task)?;
    let org = task::role_organization(
        task,
        role,
        "practitionerRole.organization should be a Reference",
    )?;
    let repeat = task::repeat_information(task, true)?;
    let record_target = record_target(task)?;
    let author = author(role, org)?;
    let withdraw_id = task::prescription_id_observation(task, "pertinentWithdrawID", "WID")?;
    let repeat_number = match repeat {
        Some(ext) => Some(task::repeat_number(ext, true)?),
        None => None,
    };
    let withdraw_reason = task::reason_observation(
        task,
        ("pertinentWithdrawReason", "PWR"),
        WITHDRAW_REASON_SYSTEM,
        WITHDRAW_REASON_OID,
    )?;
    let notification = task::focus_message_ref(task, "pertinentDispenseNotificationRef")?;

    let mut el = Element::new("ETPWithdraw")
        .attr("classCode", "ALRT")
        .attr("moodCode", "EVN")
        .child(Element::new("id").attr("root", global_id(message_id)))
        .child(Element::new("effectiveTime").attr("value", effective_time))
        .child(record_target)
        .child(author)
        .child(task::pertinent_conducting(
            "pertinentInformation3",
            false,
            withdraw_id,
        ));
    if let Some(number) = repeat_number {
        let info = observation(
            "pertinentRepeatInstanceInfo",
            "RPI",
            Element::new("value").attr("value", number),
        );
        el.push(task::pertinent_conducting(
            "pertinentInformation1",
            true,
            info,
        ));
    }
    // Only a last dispense can be withdrawn: the type is fixed.
    let withdraw_type = observation(
        "pertinentWithdrawType",
        "PWT",
        Element::new("value")
            .attr("code", "LD")
            .attr("codeSystem", WITHDRAW_TYPE_OID)
            .attr("displayName", "Last Dispense"),
    );
    el.push(task::pertinent_conducting(
        "pertinentInformation2",
        true,
        withdraw_type,
    ));
    el.push(task::pertinent_conducting(
        "pertinentInformation5",
        true,
        withdraw_reason,
    ));
    el.push(
        Element::new("pertinentInformation4")
            .attr("inversionInd", "false")
            .attr("negationInd", "false")
            .attr("typeCode", "PERT")
            .child(Element::new("seperatableInd").attr("value", "true"))
            .child(notification),
    );
    Ok(el)
}

/// `<recordTarget>`: the patient's NHS number from `Task.for`.
fn record_target(task: &Task<'_>) -> Result<Element> {
    let identifier = required(
        task.for_.as_ref().and_then(|f| f.identifier.as_ref()),
        "Task.for.identifier",
    )?;
    let nhs_number = identifier_value(
        std::slice::from_ref(identifier),
        NHS_NUMBER_SYSTEM,
        "Task.for.identifier",
    )?;
    Ok(Element::new("recordTarget").attr("typeCode", "RCT").child(
        Element::new("patient")
            .attr("classCode", "PAT")
            .child(id_element("id", NHS_NUMBER_OID, nhs_number.to_string())),
    ))
}

/// `<author>` as the reference writes it for a withdrawal: an `AgentPersonSDS` with the role
/// profile id, and as the person's SDS id the organisation's ODS code (the reference's
/// choice, kept for byte-identical output).
fn author(role: &PractitionerRole<'_>, org: &Organization<'_>) -> Result<Element> {
    let identifier_path = join(ROLE_PATH, ".identifier");
    let identifiers = required(role.identifier.as_deref(), &identifier_path)?;
    let role_id = identifier_value(identifiers, SDS_ROLE_PROFILE_SYSTEM, &identifier_path)?;
    let practitioner = required(role.practitioner.as_ref(), join(ROLE_PATH, ".practitioner"))?;
    if is_literal(practitioner) {
        return Err(invalid(
            join(ROLE_PATH, ".practitioner"),
            "practitionerRole.practitioner should be a Value Identifier",
        ));
    }
    let ods_path = "Task.contained(\"Organization\").identifier";
    let ods = identifier_value(present(&org.identifier, ods_path)?, ODS_SYSTEM, ods_path)?;
    Ok(Element::new("author").attr("typeCode", "AUT").child(
        Element::new("AgentPersonSDS")
            .attr("classCode", "AGNT")
            .child(id_element("id", SDS_ROLE_PROFILE_OID, role_id.to_string()))
            .child(
                Element::new("agentPersonSDS")
                    .attr("classCode", "PSN")
                    .attr("determinerCode", "INSTANCE")
                    .child(id_element("id", SDS_USER_OID, ods.to_string())),
            ),
    ))
}
