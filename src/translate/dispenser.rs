//! The dispenser's `AgentPerson`, as the dispensing messages write it: the person and role of
//! a PractitionerRole that names its practitioner by identifier (an SDS user id), and the
//! Organization it acts for. Unlike the prescriber's, nothing here is looked up in a Bundle:
//! both resources are given directly (a release request's parameters, a Task's or Claim's
//! contained resources).

use super::agent_person::{
    job_role_code, JOB_ROLE_OID, ODS_SYSTEM, ORGANISATION_TYPE_CODE, ORGANISATION_TYPE_OID,
    PROFESSIONAL_CODE_OID, SDS_ROLE_PROFILE_OID, SDS_ROLE_PROFILE_SYSTEM, SDS_USER_SYSTEM,
};
use super::common::*;
use crate::fhir::*;
use crate::hl7v3::element::{code_element, id_element, Element};

/// Where the two resources are, for error paths.
pub struct Paths<'p> {
    pub role: &'p str,
    pub organization: &'p str,
}

/// `<AgentPerson>`: role profile id, job role code, the role's first telecom, the person
/// (SDS user id and the practitioner's display name) and the represented organisation.
pub fn agent_person(
    role: &PractitionerRole<'_>,
    org: &Organization<'_>,
    paths: &Paths<'_>,
) -> Result<Element> {
    let role_path = paths.role;
    let identifiers = required(role.identifier.as_deref(), join(role_path, ".identifier"))?;
    let role_id = identifier_value(
        identifiers,
        SDS_ROLE_PROFILE_SYSTEM,
        &join(role_path, ".identifier"),
    )?;
    let code = job_role_code(role, role_path)?;
    let role_telecom = first_telecom(role, role_path)?;
    let mut el = Element::new("AgentPerson")
        .attr("classCode", "AGNT")
        .child(id_element("id", SDS_ROLE_PROFILE_OID, role_id.to_string()))
        .child(code_element("code", code.to_string(), JOB_ROLE_OID))
        .child(telecom(role_telecom, &join(role_path, ".telecom[0]"))?);
    el.push(person(role, role_path)?);
    el.push(represented_organization(org, role_telecom, paths)?);
    Ok(el)
}

/// The role's first telecom: the dispensing messages require one.
pub fn first_telecom<'r, 'a>(
    role: &'r PractitionerRole<'a>,
    role_path: &str,
) -> Result<&'r ContactPoint<'a>> {
    role.telecom
        .as_deref()
        .and_then(<[_]>::first)
        .ok_or_else(|| missing(join(role_path, ".telecom")))
}

/// The role's practitioner, which must be given by identifier (not a reference).
pub fn practitioner_identifier<'r, 'a>(
    role: &'r PractitionerRole<'a>,
    role_path: &str,
) -> Result<&'r Identifier<'a>> {
    let path = join(role_path, ".practitioner");
    let practitioner = required(role.practitioner.as_ref(), &path)?;
    if is_literal(practitioner) {
        return Err(invalid(
            &path,
            "PractitionerRole.practitioner should be an Identifier",
        ));
    }
    required(practitioner.identifier.as_ref(), join(&path, ".identifier"))
}

/// The practitioner's SDS user id: the one identifier must be of that system.
pub fn sds_user_id<'r>(identifier: &'r Identifier<'_>, path: &str) -> Result<&'r str> {
    identifier_value(std::slice::from_ref(identifier), SDS_USER_SYSTEM, path)
}

/// `<agentPerson>`: the SDS user id as a professional code, and the display name if given.
fn person(role: &PractitionerRole<'_>, role_path: &str) -> Result<Element> {
    let identifier = practitioner_identifier(role, role_path)?;
    let path = join(role_path, ".practitioner");
    let user = sds_user_id(identifier, &path)?;
    let mut el = Element::new("agentPerson")
        .attr("classCode", "PSN")
        .attr("determinerCode", "INSTANCE")
        .child(id_element("id", PROFESSIONAL_CODE_OID, user.to_string()));
    if let Some(display) = role
        .practitioner
        .as_ref()
        .and_then(|p| p.display.as_deref())
    {
        el.push(Element::new("name").text(display));
    }
    Ok(el)
}

/// `<representedOrganization>`: ODS code, the unspecified type code, the name when not
/// empty, the organisation's first telecom (else the role's) and its first address.
fn represented_organization(
    org: &Organization<'_>,
    role_telecom: &ContactPoint<'_>,
    paths: &Paths<'_>,
) -> Result<Element> {
    let org_path = paths.organization;
    let (contact, contact_path) = match org.telecom.first() {
        Some(t) => (t, join(org_path, ".telecom[0]")),
        None => (role_telecom, join(paths.role, ".telecom[0]")),
    };
    let ods_path = join(org_path, ".identifier");
    let ods = identifier_value(present(&org.identifier, &ods_path)?, ODS_SYSTEM, &ods_path)?;
    let mut el = Element::new("representedOrganization")
        .attr("classCode", "ORG")
        .attr("determinerCode", "INSTANCE")
        .child(ods_id("id", ods))
        .child(code_element(
            "code",
            ORGANISATION_TYPE_CODE,
            ORGANISATION_TYPE_OID,
        ));
    if let Some(name) = org.name.as_deref().filter(|n| !n.is_empty()) {
        el.push(Element::new("name").text(name));
    }
    el.push(telecom(contact, &contact_path)?);
    if let Some(a) = org.address.first() {
        el.push(address(a, &join(org_path, ".address[0]"))?);
    }
    Ok(el)
}
