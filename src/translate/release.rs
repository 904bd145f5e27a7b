//! Release request `Parameters` (`Task/$release`) → `PORX_IN060102SM30` nominated release
//! request, or, with a `group-identifier` (one prescription's short-form id),
//! `PORX_IN132004SM30` patient release request.
//!
//! The request carries the dispenser as two parameters: `agent` (a PractitionerRole naming
//! its practitioner by SDS user id) and `owner` (the dispensing Organization). The message id
//! and the release request's own id are ones the reference draws at random: here they come
//! from the context or are name-based on the request (see [`ids`]).

use super::common::*;
use super::dispenser::{self, Paths};
use super::message::send_message;
use crate::context::Context;
use crate::error::{Issue, IssueCode, Rejection};
use crate::fhir::*;
use crate::hl7v3::element::Element;

/// Interaction of a release of every prescription nominated to the dispenser.
pub const NOMINATED_RELEASE: &str = "PORX_IN060102SM30";
/// Interaction of a release of one prescription, named by its short-form id.
pub const PATIENT_RELEASE: &str = "PORX_IN132004SM30";
const PRESCRIPTION_ID_OID: &str = "2.16.840.1.113883.2.1.3.2.4.18.8";
const AGENT_PATH: &str = "Parameters.parameter(\"agent\").resource";
const OWNER_PATH: &str = "Parameters.parameter(\"owner\").resource";

/// The parameters a release request is made of.
struct Request<'r, 'a> {
    agent: &'r PractitionerRole<'a>,
    owner: Option<&'r Organization<'a>>,
    group_identifier: Option<&'r Identifier<'a>>,
}

/// The parameter of a name that carries a resource: the first one, which must be of the
/// expected type.
fn resource_parameter<'r, 'a>(params: &'r Parameters<'a>, name: &str) -> Option<&'r Resource<'a>> {
    params
        .parameter
        .iter()
        .filter(|p| p.name.as_deref() == Some(name))
        .find_map(|p| p.resource.as_ref())
}

/// At most one `group-identifier` given as an identifier.
fn group_identifier<'r, 'a>(params: &'r Parameters<'a>) -> Result<Option<&'r Identifier<'a>>> {
    let mut found = params
        .parameter
        .iter()
        .filter(|p| p.name.as_deref() == Some("group-identifier"))
        .filter_map(|p| p.value_identifier.as_ref());
    let first = found.next();
    if found.next().is_some() {
        return Err(invalid(
            "Parameters.parameter",
            "Too many values submitted. Expected at most 1 element where name == 'group-identifier'.",
        ));
    }
    Ok(first)
}

fn request<'r, 'a>(params: &'r Parameters<'a>) -> Result<Request<'r, 'a>> {
    let group_identifier = group_identifier(params)?;
    let owner = match resource_parameter(params, "owner") {
        Some(Resource::Organization(o)) => Some(o),
        _ => None,
    };
    let agent = match resource_parameter(params, "agent") {
        Some(Resource::PractitionerRole(r)) => r,
        Some(_) => {
            return Err(invalid(
                "Parameters.parameter",
                "Parameter with name agent has wrong resourceType",
            ))
        }
        None => {
            return Err(invalid(
                "Parameters.parameter",
                "Parameter with name agent not found",
            ))
        }
    };
    Ok(Request {
        agent,
        owner,
        group_identifier,
    })
}

/// The release request's checks, in the reference's order: the `owner` parameter, the
/// agent's practitioner given by identifier and its telecom (each an issue; all are
/// reported), and the agent's SDS ids, one of each system.
pub fn validate(params: &Parameters<'_>) -> Result<Vec<Issue>> {
    let req = request(params)?;
    let mut issues = Vec::new();
    if req.owner.is_none() {
        issues.push(Issue::error(
            IssueCode::Invalid,
            "Required parameter owner is missing.",
            Some("Parameters.parameter(\"owner\")".to_string()),
        ));
    }
    let practitioner = req.agent.practitioner.as_ref();
    let practitioner_path = join(AGENT_PATH, ".practitioner");
    if practitioner.is_some_and(is_literal) {
        issues.push(Issue::error(
            IssueCode::Invalid,
            format!("{practitioner_path} populated incorrectly. Please populate with Identifier and Display."),
            Some(practitioner_path.clone()),
        ));
    }
    if req.agent.telecom.as_deref().is_none_or(<[_]>::is_empty) {
        let path = join(AGENT_PATH, ".telecom");
        issues.push(Issue::error(
            IssueCode::Invalid,
            format!("Required field {path} is missing."),
            Some(path),
        ));
    }
    if let Some(p) = practitioner.filter(|p| !is_literal(p)) {
        let path = join(&practitioner_path, ".identifier");
        let identifier = required(p.identifier.as_ref(), &path)?;
        dispenser::sds_user_id(identifier, &path)?;
    }
    if let Some(identifiers) = &req.agent.identifier {
        identifier_value(
            identifiers,
            super::agent_person::SDS_ROLE_PROFILE_SYSTEM,
            &join(AGENT_PATH, ".identifier"),
        )?;
    }
    if issues.is_empty() {
        Ok(issues)
    } else {
        Err(Rejection { issues })
    }
}

/// The two ids of a release request: the message's and the request's own.
pub struct Ids {
    pub message: String,
    pub request: String,
}

/// The ids from the context, else name-based: a version 5 UUID of the request text and the
/// time (so the same request at the same time gives the same message), and of the message id
/// for the request's own id.
pub fn ids(text: &str, ctx: &Context) -> Ids {
    let message = ctx.message_id.clone().unwrap_or_else(|| {
        crate::to_fhir::ids::uuid_v5_url(&format!(
            "eps-translator/release-request/{}/{text}",
            ctx.now.hl7()
        ))
    });
    let request = ctx.payload_id.clone().unwrap_or_else(|| {
        crate::to_fhir::ids::uuid_v5_url(&format!(
            "eps-translator/release-request/payload/{message}"
        ))
    });
    Ids { message, request }
}

/// Validates and translates a release request into its send message.
pub fn translate(params: &Parameters<'_>, text: &str, ctx: &Context) -> Result<super::Translated> {
    let issues = validate(params)?;
    let req = request(params)?;
    let owner = req.owner.ok_or_else(|| {
        invalid(
            "Parameters.parameter",
            "Parameter with name owner not found",
        )
    })?;
    let author = Element::new("author")
        .attr("typeCode", "AUT")
        .child(dispenser::agent_person(
            req.agent,
            owner,
            &Paths {
                role: AGENT_PATH,
                organization: OWNER_PATH,
            },
        )?);
    let ids = ids(text, ctx);
    let head = |name: &'static str| {
        Element::new(name)
            .attr("classCode", "INFO")
            .attr("moodCode", "RQO")
            .child(Element::new("id").attr("root", global_id(&ids.request)))
            .child(Element::new("effectiveTime").attr("value", ctx.now.hl7()))
            .child(author.clone())
    };
    let (interaction, payload) = match req.group_identifier {
        Some(identifier) => {
            let path = "Parameters.parameter(\"group-identifier\").valueIdentifier.value";
            let id = required(identifier.value.as_deref(), path)?;
            let prescription_id = observation(
                "pertinentPrescriptionID",
                "PID",
                Element::new("value")
                    .attr("extension", id.to_string())
                    .attr("root", PRESCRIPTION_ID_OID),
            );
            let request = head("PatientPrescriptionReleaseRequest").child(pertinent(
                "pertinentInformation",
                false,
                prescription_id,
            ));
            (PATIENT_RELEASE, request)
        }
        None => (
            NOMINATED_RELEASE,
            head("NominatedPrescriptionReleaseRequest"),
        ),
    };
    Ok(super::Translated {
        root: send_message(interaction, &global_id(&ids.message), ctx, payload),
        issues,
    })
}
