//! `AgentPerson`: the prescriber (author) and the responsible party, with the organisation
//! they act for (`representedOrganization`) and its licensing organisation.
//!
//! The person comes from a PractitionerRole and what it points at: the Practitioner (or, for an
//! organisation-only role, a stand-in named after the organisation), the Organization or the
//! HealthcareService (the cost centre), and a telecom from the role, the practitioner or the
//! organisation, in that order of preference.

use super::common::*;
use super::Input;
use crate::fhir::*;
use crate::hl7v3::element::{code_element, id_element, Element};
use crate::mappings::{table, Table};

pub const SDS_ROLE_PROFILE_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";
pub(crate) const SDS_ROLE_PROFILE_OID: &str = "1.2.826.0.1285.0.2.0.67";
pub const SDS_USER_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-user-id";
const SDS_USER_OID: &str = "1.2.826.0.1285.0.2.0.65";
pub(crate) const JOB_ROLE_OID: &str = "1.2.826.0.1285.0.2.1.104";
const JOB_ROLE_SYSTEMS: [&str; 2] = [
    "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode",
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName",
];
pub(crate) const PROFESSIONAL_CODE_OID: &str = "1.2.826.0.1285.0.2.1.54";
pub(crate) const ORGANISATION_TYPE_OID: &str = "2.16.840.1.113883.2.1.3.2.4.17.94";
/// The organisation type code the reference writes for every organisation.
pub(crate) const ORGANISATION_TYPE_CODE: &str = "999";
pub(crate) const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const SPURIOUS_CODE_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/nhsbsa-spurious-code";
const DIN_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/din-number";

/// Which message part the `AgentPerson` is for: it decides the person's id, the telecom
/// fallbacks and whether the licensing organisation is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The prescriber: one of GMC, GMP, NMC, GPhC, HCPC or a professional code.
    Author,
    /// The responsible party: a spurious code or DIN first, then as the author.
    ResponsibleParty,
    /// Author or responsible party of a cancellation: the SDS user id, no licence, and no
    /// telecom rather than an error when none is given.
    Cancellation,
}

/// The person a PractitionerRole points at.
struct Person<'r> {
    identifiers: Vec<&'r Identifier<'r>>,
    path: String,
    name: PersonName<'r>,
}

enum PersonName<'r> {
    /// A Practitioner's `name`: exactly one is required when the member is present.
    Names(&'r [HumanName<'r>], String),
    /// A Practitioner with no `name` member: no name is written.
    Absent,
    /// A text name (a practitioner given by identifier, or an organisation stand-in).
    Text(Option<&'r str>),
}

/// The organisation a role acts for.
struct Org<'r> {
    path: String,
    identifiers: Vec<&'r Identifier<'r>>,
    name: Option<&'r str>,
    telecom: Option<&'r [ContactPoint<'r>]>,
    address: OrgAddress<'r>,
    part_of: Option<&'r Reference<'r>>,
}

enum OrgAddress<'r> {
    /// Exactly one of these addresses is required.
    List(&'r [Address<'r>]),
    /// The role's or service's Locations (`None`: the member is absent); exactly one,
    /// whose address is required.
    Locations(Option<&'r [Reference<'r>]>, String),
}

/// Builds the `AgentPerson` for the PractitionerRole at `role_ref`.
pub fn agent_person<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    role_ref: &'b Reference<'a>,
    ref_path: &str,
    role: Role,
) -> Result<Element> {
    let (index, pr) = input.resolve_as(role_ref, ref_path, "PractitionerRole", |r| match r {
        Resource::PractitionerRole(p) => Some(p),
        _ => None,
    })?;
    let pr_path = entry_path(index);
    let organization = organization(input, pr, &pr_path)?;
    let person = person(input, pr, &pr_path, &organization, role)?;

    let mut el = Element::new("AgentPerson").attr("classCode", "AGNT");
    // Present members are read even when empty (and so refused), as the reference does.
    if let Some(identifiers) = &pr.identifier {
        let id = identifier_value(
            identifiers,
            SDS_ROLE_PROFILE_SYSTEM,
            &join(&pr_path, ".identifier"),
        )?;
        el.push(id_element("id", SDS_ROLE_PROFILE_OID, id.to_string()));
    }
    if pr.code.is_some() {
        el.push(code_element(
            "code",
            job_role_code(pr, &pr_path)?.to_string(),
            JOB_ROLE_OID,
        ));
    }
    let (telecoms, telecom_path) = telecoms(input, pr, &pr_path, &organization, role)?;
    for (i, t) in telecoms.iter().enumerate() {
        el.push(telecom(t, &format!("{telecom_path}[{i}]"))?);
    }
    if let Some(p) = &person {
        el.push(agent_person_person(p, pr, &pr_path, role)?);
    }
    let cost_centre = cost_centre(input, pr, &pr_path, &organization)?;
    el.push(represented_organization(
        input,
        &cost_centre,
        &organization,
        role != Role::Cancellation,
    )?);
    Ok(el)
}

pub(crate) fn job_role_code<'r>(pr: &'r PractitionerRole<'r>, path: &str) -> Result<&'r str> {
    let codings: Vec<&Coding> = pr
        .code
        .iter()
        .flatten()
        .flat_map(|c| c.coding.iter())
        .collect();
    for system in JOB_ROLE_SYSTEMS {
        let mut hits = codings
            .iter()
            .filter(|c| c.system.as_deref() == Some(system));
        if let Some(first) = hits.next() {
            if hits.next().is_some() {
                return Err(invalid(
                    join(path, ".code"),
                    format!(
                        "Too many values submitted. Expected at most 1 element where system == '{system}'."
                    ),
                ));
            }
            return code_of(first, &join(path, ".code.coding"));
        }
    }
    Err(missing_with(
        join(path, ".code"),
        format!(
            "Too few values submitted. Expected at least 1 element where system in [{}].",
            JOB_ROLE_SYSTEMS.join(", ")
        ),
    ))
}

fn missing_with(path: String, message: String) -> crate::error::Rejection {
    crate::error::Rejection::at(crate::error::IssueCode::Invalid, path, message)
}

/// Resolves a PractitionerRole's literal `practitioner` reference.
fn resolve_practitioner<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    reference: &Reference<'_>,
    pr_path: &str,
) -> Result<(usize, &'b Practitioner<'a>)> {
    input.resolve_as(
        reference,
        &join(pr_path, ".practitioner"),
        "Practitioner",
        |r| match r {
            Resource::Practitioner(p) => Some(p),
            _ => None,
        },
    )
}

fn person<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    pr: &'b PractitionerRole<'a>,
    pr_path: &str,
    org: &Org<'b>,
    role: Role,
) -> Result<Option<Person<'b>>> {
    let practitioner = pr.practitioner.as_ref();
    // An organisation-only responsible party: the person stands in with the organisation's
    // name. (An author's role is taken as it is.)
    if role == Role::ResponsibleParty
        && pr.organization.as_ref().is_some_and(is_literal)
        && !practitioner.is_some_and(is_literal)
    {
        return Ok(Some(Person {
            identifiers: practitioner
                .and_then(|p| p.identifier.as_ref())
                .into_iter()
                .collect(),
            path: join(pr_path, ".practitioner.identifier"),
            name: PersonName::Text(org.name),
        }));
    }
    let Some(practitioner) = practitioner else {
        return Ok(None);
    };
    if is_literal(practitioner) {
        let (index, p) = resolve_practitioner(input, practitioner, pr_path)?;
        let path = entry_path(index);
        return Ok(Some(Person {
            identifiers: p.identifier.iter().collect(),
            path: join(&path, ".identifier"),
            name: match &p.name {
                Some(names) => PersonName::Names(names, join(&path, ".name")),
                None => PersonName::Absent,
            },
        }));
    }
    Ok(Some(Person {
        identifiers: practitioner.identifier.as_ref().into_iter().collect(),
        path: join(pr_path, ".practitioner.identifier"),
        name: PersonName::Text(practitioner.display.as_deref()),
    }))
}

fn organization<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    pr: &'b PractitionerRole<'a>,
    pr_path: &str,
) -> Result<Org<'b>> {
    let org_ref = required(pr.organization.as_ref(), join(pr_path, ".organization"))?;
    if is_literal(org_ref) {
        let (index, o) = input.resolve_as(
            org_ref,
            &join(pr_path, ".organization"),
            "Organization",
            |r| match r {
                Resource::Organization(o) => Some(o),
                _ => None,
            },
        )?;
        let path = entry_path(index);
        return Ok(Org {
            identifiers: o.identifier.iter().collect(),
            name: o.name.as_deref(),
            telecom: Some(&o.telecom),
            address: OrgAddress::List(&o.address),
            part_of: o.part_of.as_ref(),
            path,
        });
    }
    Ok(Org {
        path: join(pr_path, ".organization"),
        identifiers: org_ref.identifier.as_ref().into_iter().collect(),
        name: org_ref.display.as_deref(),
        telecom: pr.telecom.as_deref(),
        address: OrgAddress::Locations(
            Some(pr.location.as_slice()).filter(|l| !l.is_empty()),
            join(pr_path, ".location"),
        ),
        part_of: None,
    })
}

fn cost_centre<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    pr: &'b PractitionerRole<'a>,
    pr_path: &str,
    org: &Org<'b>,
) -> Result<Option<Org<'b>>> {
    let Some(hs_ref) = pr.healthcare_service.iter().flatten().next() else {
        return Ok(None);
    };
    if is_literal(hs_ref) {
        let (index, hs) = input.resolve_as(
            hs_ref,
            &join(pr_path, ".healthcareService[0]"),
            "HealthcareService",
            |r| match r {
                Resource::HealthcareService(h) => Some(h),
                _ => None,
            },
        )?;
        let path = entry_path(index);
        return Ok(Some(Org {
            identifiers: hs.identifier.iter().collect(),
            name: hs.name.as_deref(),
            telecom: Some(&hs.telecom),
            address: OrgAddress::Locations(hs.location.as_deref(), join(&path, ".location")),
            part_of: org.part_of,
            path,
        }));
    }
    Ok(Some(Org {
        path: join(pr_path, ".healthcareService[0]"),
        identifiers: hs_ref.identifier.as_ref().into_iter().collect(),
        name: hs_ref.display.as_deref(),
        telecom: pr.telecom.as_deref(),
        address: OrgAddress::Locations(
            Some(pr.location.as_slice()).filter(|l| !l.is_empty()),
            join(pr_path, ".location"),
        ),
        part_of: org.part_of,
    }))
}

fn telecoms<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    pr: &'b PractitionerRole<'a>,
    pr_path: &str,
    org: &Org<'b>,
    role: Role,
) -> Result<(&'b [ContactPoint<'b>], String)> {
    if let Some(t) = &pr.telecom {
        return Ok((t, join(pr_path, ".telecom")));
    }
    let literal_practitioner = pr.practitioner.as_ref().filter(|p| p.reference.is_some());
    if let Some(p) = literal_practitioner {
        if let Some(found) = practitioner_telecoms(input, p, pr_path)? {
            return Ok(found);
        }
    } else if let (false, Some(t)) = (role == Role::Cancellation, org.telecom) {
        return Ok((t, join(&org.path, ".telecom")));
    }
    if role == Role::Cancellation {
        // A cancellation's AgentPerson simply has no telecom then.
        return Ok((&[], String::new()));
    }
    Err(missing_with(
        join(pr_path, ".telecom"),
        "ResponsiblePractitioner must have at least one telecom.".into(),
    ))
}

/// The telecoms of the Practitioner a role points at, when it has any.
fn practitioner_telecoms<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    reference: &Reference<'_>,
    pr_path: &str,
) -> Result<Option<(&'b [ContactPoint<'b>], String)>> {
    let (index, practitioner) = resolve_practitioner(input, reference, pr_path)?;
    Ok(practitioner
        .telecom
        .as_deref()
        .map(|t| (t, format!("Bundle.entry[{index}].resource.telecom"))))
}

fn agent_person_person(
    p: &Person<'_>,
    pr: &PractitionerRole<'_>,
    pr_path: &str,
    role: Role,
) -> Result<Element> {
    let id = match role {
        Role::Author => id_element(
            "id",
            PROFESSIONAL_CODE_OID,
            professional_code(p)?.to_string(),
        ),
        Role::ResponsibleParty => id_element(
            "id",
            PROFESSIONAL_CODE_OID,
            responsible_party_code(p, pr, pr_path)?.to_string(),
        ),
        Role::Cancellation => {
            let user = single_identifier(&p.identifiers, SDS_USER_SYSTEM, &p.path)?.ok_or_else(|| {
                missing_with(
                    p.path.clone(),
                    format!("Too few values submitted. Expected 1 element where system == '{SDS_USER_SYSTEM}'."),
                )
            })?;
            id_element("id", SDS_USER_OID, user.to_string())
        }
    };
    let mut el = Element::new("agentPerson")
        .attr("classCode", "PSN")
        .attr("determinerCode", "INSTANCE")
        .child(id);
    match &p.name {
        PersonName::Absent => {}
        PersonName::Names([], path) => {
            return Err(invalid(
                path.clone(),
                "Too few values submitted. Expected 1 element.",
            ));
        }
        PersonName::Names([one], path) => el.push(name(one, &join(path, "[0]"))?),
        PersonName::Names(_, path) => {
            return Err(invalid(
                path.clone(),
                "Too many values submitted. Expected 1 element.",
            ));
        }
        PersonName::Text(Some(text)) => el.push(Element::new("name").text(*text)),
        // A practitioner given by identifier is named by the reference's `display`: an
        // empty name when there is none.
        PersonName::Text(None) => el.push(Element::new("name")),
    }
    Ok(el)
}

fn single_identifier<'r>(
    ids: &[&'r Identifier<'r>],
    system: &str,
    path: &str,
) -> Result<Option<&'r str>> {
    let mut hits = ids.iter().filter(|i| i.system.as_deref() == Some(system));
    let first = hits.next();
    if hits.next().is_some() {
        return Err(invalid(
            path,
            format!(
                "Too many values submitted. Expected at most 1 element where system == '{system}'."
            ),
        ));
    }
    Ok(first.and_then(|i| i.value.as_deref()))
}

/// The one non-empty value of an identifier system (an empty value counts as none, as in the
/// reference); more than one identifier of the system is refused whatever their values.
fn single_code<'r>(
    ids: &[&'r Identifier<'r>],
    system: &str,
    path: &str,
) -> Result<Option<&'r str>> {
    Ok(single_identifier(ids, system, path)?.filter(|v| !v.is_empty()))
}

fn professional_code(p: &Person<'_>) -> Result<String> {
    let mut found = Vec::new();
    // Professional code systems in the order they are tried: mappings/professional-codes.tsv.
    for row in &table(Table::ProfessionalCodes).rows {
        let (system, strip_c) = (row[0], row.get(2) == Some(&"strip-c"));
        if let Some(v) = single_code(&p.identifiers, system, &p.path)? {
            let v = if strip_c {
                v.strip_prefix(['C', 'c']).unwrap_or(v)
            } else {
                v
            };
            found.push(v.to_string());
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(missing_with(
            p.path.clone(),
            "Expected exactly one professional code. One of GMC|GMP|NMC|GPhC|HCPC|unknown. ".into(),
        )),
        _ => Err(invalid(
            p.path.clone(),
            format!("Expected exactly one professional code. One of GMC|GMP|NMC|GPhC|HCPC|unknown. But got: {}", found.join(", ")),
        )),
    }
}

fn responsible_party_code(
    p: &Person<'_>,
    pr: &PractitionerRole<'_>,
    pr_path: &str,
) -> Result<String> {
    let pr_ids: Vec<&Identifier> = pr.identifier.iter().flatten().collect();
    if let Some(v) = single_code(&pr_ids, SPURIOUS_CODE_SYSTEM, &join(pr_path, ".identifier"))? {
        return Ok(v.to_string());
    }
    if let Some(v) = single_code(&p.identifiers, DIN_SYSTEM, &p.path)? {
        return Ok(v.to_string());
    }
    professional_code(p)
}

fn organisation_head(org: &Org<'_>, name_el: &'static str) -> Result<Element> {
    let ods_path = join(&org.path, ".identifier");
    let mut hits = org
        .identifiers
        .iter()
        .filter(|i| i.system.as_deref() == Some(ODS_SYSTEM));
    let ods = match (hits.next(), hits.next()) {
        (Some(one), None) => one
            .value
            .as_deref()
            .ok_or_else(|| missing(join(&ods_path, ".value")))?,
        (None, _) => {
            return Err(missing_with(
                ods_path,
                format!(
                    "Too few values submitted. Expected 1 element where system == '{ODS_SYSTEM}'."
                ),
            ))
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                ods_path,
                format!(
                    "Too many values submitted. Expected 1 element where system == '{ODS_SYSTEM}'."
                ),
            ))
        }
    };
    let name_text = org
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing_with(join(&org.path, ".name"), "Name must be provided.".into()))?;
    Ok(Element::new(name_el)
        .attr("classCode", "ORG")
        .attr("determinerCode", "INSTANCE")
        .child(ods_id("id", ods))
        .child(code_element(
            "code",
            ORGANISATION_TYPE_CODE,
            ORGANISATION_TYPE_OID,
        ))
        .child(Element::new("name").text(name_text)))
}

fn represented_organization<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    cost_centre: &Option<Org<'b>>,
    org: &Org<'b>,
    with_licence: bool,
) -> Result<Element> {
    let centre = cost_centre.as_ref().unwrap_or(org);
    let mut el = organisation_head(centre, "representedOrganization")?;
    let telecom_path = join(&centre.path, ".telecom");
    match centre.telecom {
        None => return Err(missing(telecom_path)),
        Some([one]) => el.push(telecom(one, &join(&telecom_path, "[0]"))?),
        Some([]) => {
            return Err(missing_with(
                telecom_path,
                "Too few values submitted. Expected 1 element.".into(),
            ))
        }
        Some(_) => {
            return Err(invalid(
                telecom_path,
                "Too many values submitted. Expected 1 element.",
            ))
        }
    }
    el.push(organisation_address(input, centre)?);
    if with_licence {
        el.push(
            Element::new("healthCareProviderLicense")
                .attr("classCode", "PROV")
                .child(licensing_organisation(input, org)?),
        );
    }
    Ok(el)
}

fn organisation_address<'b, 'a: 'b>(input: &Input<'b, 'a>, org: &Org<'b>) -> Result<Element> {
    match &org.address {
        OrgAddress::List([one]) => address(one, &join(&org.path, ".address[0]")),
        OrgAddress::List([]) => Err(missing(join(&org.path, ".address"))),
        OrgAddress::List(_) => Err(invalid(
            join(&org.path, ".address"),
            "Too many values submitted. Expected 1 element.",
        )),
        OrgAddress::Locations(Some([one]), path) => {
            let (index, loc) =
                input.resolve_as(one, &join(path, "[0]"), "Location", |r| match r {
                    Resource::Location(l) => Some(l),
                    _ => None,
                })?;
            let addr_path = format!("Bundle.entry[{index}].resource.address");
            let a = loc.address.as_ref().ok_or_else(|| {
                missing_with(addr_path.clone(), "Address must be provided.".into())
            })?;
            address(a, &addr_path)
        }
        OrgAddress::Locations(None, path) => Err(missing(path.clone())),
        OrgAddress::Locations(Some([]), path) => Err(invalid(
            path.clone(),
            "Too few values submitted. Expected 1 element.",
        )),
        OrgAddress::Locations(Some(_), path) => Err(invalid(
            path.clone(),
            "Too many values submitted. Expected 1 element.",
        )),
    }
}

fn licensing_organisation<'b, 'a: 'b>(input: &Input<'b, 'a>, org: &Org<'b>) -> Result<Element> {
    let Some(part_of) = org.part_of else {
        return organisation_head(org, "Organization");
    };
    let path = join(&org.path, ".partOf");
    if part_of.reference.is_some() {
        let (index, parent) = input.resolve_as(part_of, &path, "Organization", |r| match r {
            Resource::Organization(o) => Some(o),
            _ => None,
        })?;
        let parent_org = Org {
            path: entry_path(index),
            identifiers: parent.identifier.iter().collect(),
            name: parent.name.as_deref(),
            telecom: None,
            address: OrgAddress::List(&[]),
            part_of: None,
        };
        return organisation_head(&parent_org, "Organization");
    }
    let parent_org = Org {
        path,
        identifiers: part_of.identifier.as_ref().into_iter().collect(),
        name: part_of.display.as_deref(),
        telecom: None,
        address: OrgAddress::List(&[]),
        part_of: None,
    };
    organisation_head(&parent_org, "Organization")
}
