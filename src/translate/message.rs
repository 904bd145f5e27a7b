//! The send-message wrapper common to every interaction: message id, creation time,
//! interaction id, sender and receiver devices, and the ControlActEvent with its SDS authors.

use crate::context::Context;
use crate::hl7v3::element::{id_element, Element};

/// OID of ASIDs (accredited system ids).
const ASID_OID: &str = "1.2.826.0.1285.0.2.0.107";
const INTERACTION_OID: &str = "2.16.840.1.113883.2.1.3.2.4.12";
const SDS_ROLE_PROFILE_OID: &str = "1.2.826.0.1285.0.2.0.67";
const SDS_USER_OID: &str = "1.2.826.0.1285.0.2.0.65";
const SDS_JOB_ROLE_OID: &str = "1.2.826.0.1285.0.2.1.104";

/// Wraps a payload (`ParentPrescription`, `CancellationRequest`) in the send message.
pub fn send_message(
    interaction_id: &'static str,
    message_id: &str,
    ctx: &Context,
    payload: Element,
) -> Element {
    Element::new(interaction_id)
        .attr("xmlns", "urn:hl7-org:v3")
        .child(Element::new("id").attr("root", message_id.to_string()))
        .child(Element::new("creationTime").attr("value", ctx.now.hl7()))
        .child(Element::new("versionCode").attr("code", "V3NPfIT4.2.00"))
        .child(id_element("interactionId", INTERACTION_OID, interaction_id))
        .child(Element::new("processingCode").attr("code", "P"))
        .child(Element::new("processingModeCode").attr("code", "T"))
        .child(Element::new("acceptAckCode").attr("code", "NE"))
        .child(Element::new("communicationFunctionRcv").child(device(&ctx.to_asid)))
        .child(Element::new("communicationFunctionSnd").child(device(&ctx.from_asid)))
        .child(control_act_event(ctx, payload))
}

fn device(asid: &str) -> Element {
    Element::new("device")
        .attr("classCode", "DEV")
        .attr("determinerCode", "INSTANCE")
        .child(id_element("id", ASID_OID, asid.to_string()))
}

fn control_act_event(ctx: &Context, payload: Element) -> Element {
    let person = Element::new("AgentPersonSDS")
        .attr("classCode", "AGNT")
        .child(id_element(
            "id",
            SDS_ROLE_PROFILE_OID,
            ctx.sds_role_profile_id.clone(),
        ))
        .child(
            Element::new("agentPersonSDS")
                .attr("classCode", "PSN")
                .attr("determinerCode", "INSTANCE")
                .child(id_element("id", SDS_USER_OID, ctx.sds_user_id.clone())),
        )
        .child(
            Element::new("part").attr("typeCode", "PART").child(
                Element::new("partSDSRole")
                    .attr("classCode", "ROL")
                    .child(id_element("id", SDS_JOB_ROLE_OID, ctx.sds_job_role.clone())),
            ),
        );
    let system = Element::new("AgentSystemSDS")
        .attr("classCode", "AGNT")
        .child(
            Element::new("agentSystemSDS")
                .attr("classCode", "DEV")
                .attr("determinerCode", "INSTANCE")
                .child(id_element("id", ASID_OID, ctx.from_asid.clone())),
        );
    Element::new("ControlActEvent")
        .attr("classCode", "CACT")
        .attr("moodCode", "EVN")
        .child(Element::new("author").attr("typeCode", "AUT").child(person))
        .child(
            Element::new("author1")
                .attr("typeCode", "AUT")
                .child(system),
        )
        .child(Element::new("subject").child(payload))
}
