//! `AgentPerson` → PractitionerRole, Practitioner and Organization.
//!
//! As the reference does: the role carries the SDS role profile id (and an NHSBSA spurious
//! code), the job role code and the person's telecoms; the Practitioner the professional
//! code (its identifier system guessed from the code's shape) and name; the Organization the
//! represented organisation with its licensing organisation as `partOf`.
//!
//! Beyond the reference, the translation keeps what the forward translation needs to give
//! back the same `AgentPerson` (and so the same signature fragment):
//! * a professional code is typed so that the forward rules read it back unchanged
//!   ([`author_system`], [`responsible_system`]);
//! * the responsible party shares the author's resources only when that loses nothing
//!   ([`can_share`]); otherwise it gets its own, as a different role profile would.

use super::common::*;
use super::ids::Ids;
use super::xml::{El, Result};
use crate::mappings::{lookup, table, Table};
use serde_json::{json, Map, Value};

pub const SDS_ROLE_PROFILE_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";
pub const SPURIOUS_CODE_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/nhsbsa-spurious-code";
pub const DIN_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/din-number";
const GMC_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/gmc-number";
const NMC_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/nmc-number";
const GMP_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/gmp-number";
const HCPC_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/hcpc-number";
pub const PROFESSIONAL_CODE_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/professional-code";
const JOB_ROLE_CODE_SYSTEM: &str = "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode";
const JOB_ROLE_NAME_SYSTEM: &str = "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName";

/// The resources one `AgentPerson` becomes, still open for the responsible party's details.
pub struct Translated {
    pub role_id: String,
    pub practitioner_id: String,
    pub organization_id: String,
    pub role_identifiers: Vec<(String, String)>,
    pub practitioner_identifiers: Vec<(String, String)>,
    role: Map<String, Value>,
    practitioner: Map<String, Value>,
    pub organization: Map<String, Value>,
    /// The organisation's ODS code (the CommunicationRequest's requester).
    pub ods_code: String,
}

/// The identifier system the reference gives a person code, from its shape.
pub fn reference_system(code: &str) -> &'static str {
    let b = code.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let upper = |c: u8| c.is_ascii_uppercase();
    if b.len() == 6 && b[0] == b'6' && digits(b) {
        SPURIOUS_CODE_SYSTEM
    } else if b.len() == 8 && digits(&b[..2]) && upper(b[2]) && digits(&b[3..7]) && upper(b[7]) {
        NMC_SYSTEM
    } else if b.len() == 8 && b[0] == b'G' && b"01234589".contains(&b[1]) && digits(&b[2..]) {
        GMP_SYSTEM
    } else if b.len() == 8 && b[0] == b'C' && digits(&b[1..]) {
        GMC_SYSTEM
    } else if b.len() == 8 && upper(b[0]) && upper(b[1]) && digits(&b[2..]) {
        HCPC_SYSTEM
    } else if b.len() == 6 && b"389".contains(&b[0]) && digits(b) {
        DIN_SYSTEM
    } else {
        PROFESSIONAL_CODE_SYSTEM
    }
}

/// The system an author's code is written with: the reference's, unless the forward rules
/// would not read it back as it is (a GMC number loses a leading `C`; spurious codes and DINs
/// are not author codes); then the verbatim `professional-code`.
pub fn author_system(code: &str) -> &'static str {
    match reference_system(code) {
        GMC_SYSTEM | SPURIOUS_CODE_SYSTEM | DIN_SYSTEM => PROFESSIONAL_CODE_SYSTEM,
        other => other,
    }
}

/// The system a responsible party's code is written with (spurious codes and DINs are read
/// back as they are; a GMC number would lose its `C`).
pub fn responsible_system(code: &str) -> &'static str {
    match reference_system(code) {
        GMC_SYSTEM => PROFESSIONAL_CODE_SYSTEM,
        other => other,
    }
}

/// The forward translation's choice of the author's code from a Practitioner's identifiers
/// (`mappings/professional-codes.tsv`: exactly one of the systems, a GMC number without its
/// leading `C`).
fn forward_author_code(practitioner: &[(String, String)]) -> Option<String> {
    let mut found = Vec::new();
    for row in &table(Table::ProfessionalCodes).rows {
        let hits: Vec<&String> = practitioner
            .iter()
            .filter(|(s, _)| s == row[0])
            .map(|(_, v)| v)
            .collect();
        match hits.as_slice() {
            [] => {}
            [one] => {
                let v = if row.get(2) == Some(&"strip-c") {
                    one.strip_prefix(['C', 'c']).unwrap_or(one)
                } else {
                    one
                };
                found.push(v.to_string());
            }
            _ => return None,
        }
    }
    (found.len() == 1).then(|| found.remove(0))
}

/// The forward translation's choice of the responsible party's code: a spurious code on the
/// role, else a DIN on the Practitioner, else the author rule.
fn forward_responsible_code(
    role: &[(String, String)],
    practitioner: &[(String, String)],
) -> Option<String> {
    let only = |ids: &[(String, String)], system: &str| -> Option<Option<String>> {
        let hits: Vec<&String> = ids
            .iter()
            .filter(|(s, _)| s == system)
            .map(|(_, v)| v)
            .collect();
        match hits.as_slice() {
            [] => Some(None),
            [one] => Some(Some((*one).clone())),
            _ => None,
        }
    };
    if let Some(v) = only(role, SPURIOUS_CODE_SYSTEM)? {
        return Some(v);
    }
    if let Some(v) = only(practitioner, DIN_SYSTEM)? {
        return Some(v);
    }
    forward_author_code(practitioner)
}

/// The person's code (`agentPerson/id/@extension`).
pub fn person_code<'a>(agent: &El<'a, '_>) -> Result<&'a str> {
    agent.path("agentPerson/id")?.req_attr("extension")
}

/// Translates an `AgentPerson` whose role in the prescription is `role` (`author` or
/// `responsible-party`, which decides how its code is typed).
pub fn translate(agent: &El<'_, '_>, ids: &Ids, role: &str) -> Result<Translated> {
    let role_id = ids.id(&format!("{role}/practitioner-role"));
    let practitioner_id = ids.id(&format!("{role}/practitioner"));
    let organization_id = ids.id(&format!("{role}/organization"));
    let person = agent.child("agentPerson")?;
    let code = person_code(agent)?;
    let system = if role == "author" {
        author_system(code)
    } else {
        responsible_system(code)
    };

    let mut role_identifiers = Vec::new();
    if let Some(id) = agent.opt("id") {
        role_identifiers.push((
            SDS_ROLE_PROFILE_SYSTEM.to_string(),
            id.req_attr("extension")?.to_string(),
        ));
    }
    let mut practitioner_identifiers = Vec::new();
    if system == SPURIOUS_CODE_SYSTEM {
        role_identifiers.push((system.to_string(), code.to_string()));
    } else {
        practitioner_identifiers.push((system.to_string(), code.to_string()));
    }

    let mut practitioner = Map::new();
    practitioner.insert("resourceType".into(), json!("Practitioner"));
    practitioner.insert("id".into(), json!(practitioner_id));
    practitioner.insert("name".into(), Value::Array(names(person.children("name"))?));

    let mut pr = Map::new();
    pr.insert("resourceType".into(), json!("PractitionerRole"));
    pr.insert("id".into(), json!(role_id));
    pr.insert("practitioner".into(), reference(&practitioner_id));
    if let Some(code_el) = agent.opt("code") {
        let job = code_el.req_attr("code")?;
        let last = job.rsplit(':').next().unwrap_or(job);
        let system = if job.contains(':') {
            JOB_ROLE_CODE_SYSTEM
        } else {
            JOB_ROLE_NAME_SYSTEM
        };
        pr.insert(
            "code".into(),
            json!([codeable_concept(
                system,
                job,
                lookup(Table::SdsJobRoleNames, last)
            )]),
        );
    }
    let role_telecoms = telecoms(agent.children("telecom"))?;
    if !role_telecoms.is_empty() {
        pr.insert("telecom".into(), Value::Array(role_telecoms));
    }
    pr.insert("organization".into(), reference(&organization_id));

    let org_el = agent.child("representedOrganization")?;
    let ods_code = org_el.child("id")?.req_attr("extension")?.to_string();
    let organization = organization(&org_el, &organization_id)?;
    Ok(Translated {
        role_id,
        practitioner_id,
        organization_id,
        role_identifiers,
        practitioner_identifiers,
        role: pr,
        practitioner,
        organization,
        ods_code,
    })
}

/// The represented organisation, with its licensing organisation as `partOf`.
fn organization(org: &El<'_, '_>, id: &str) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    out.insert("resourceType".into(), json!("Organization"));
    out.insert("id".into(), json!(id));
    let ods = org.child("id")?.req_attr("extension")?;
    out.insert("identifier".into(), json!([identifier(ODS_SYSTEM, ods)]));
    if let Some(name) = org.opt("name") {
        out.insert("name".into(), json!(name.text()));
    }
    let t = telecoms(org.children("telecom"))?;
    if !t.is_empty() {
        out.insert("telecom".into(), Value::Array(t));
    }
    let a = addresses(org.children("addr"))?;
    if !a.is_empty() {
        out.insert("address".into(), Value::Array(a));
    }
    if let Some(licence) = org.opt_path("healthCareProviderLicense/Organization") {
        let mut part_of = Map::new();
        part_of.insert(
            "identifier".into(),
            identifier(ODS_SYSTEM, licence.child("id")?.req_attr("extension")?),
        );
        if let Some(name) = licence.opt("name") {
            part_of.insert("display".into(), json!(name.text()));
        }
        out.insert("partOf".into(), Value::Object(part_of));
    }
    Ok(out)
}

/// Whether two elements are the same, ignoring whitespace-only text and, below the
/// `AgentPerson`, the person's code (`agentPerson/id`).
fn same_ignoring_person_code(a: roxmltree::Node<'_, '_>, b: roxmltree::Node<'_, '_>) -> bool {
    fn significant<'a, 'i>(
        n: roxmltree::Node<'a, 'i>,
    ) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
        let skip_id = n.tag_name().name() == "agentPerson";
        n.children().filter(move |c| {
            (c.is_element() && !(skip_id && c.tag_name().name() == "id"))
                || (c.is_text() && !c.text().unwrap_or("").trim().is_empty())
        })
    }
    fn same(a: roxmltree::Node<'_, '_>, b: roxmltree::Node<'_, '_>) -> bool {
        if a.is_text() || b.is_text() {
            return a.is_text() && b.is_text() && a.text() == b.text();
        }
        if a.tag_name() != b.tag_name() {
            return false;
        }
        if !same_attributes(a, b) {
            return false;
        }
        let mut ac = significant(a);
        let mut bc = significant(b);
        loop {
            match (ac.next(), bc.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if same(x, y) => {}
                _ => return false,
            }
        }
    }
    /// The same attribute names and values, in any order: compared in place when they are
    /// written in the same order (as two agents written by one system are), else sorted.
    fn same_attributes<'a, 'i>(a: roxmltree::Node<'a, 'i>, b: roxmltree::Node<'a, 'i>) -> bool {
        fn pair<'a, 'i>(x: roxmltree::Attribute<'a, 'i>) -> (&'a str, &'a str) {
            (x.name(), x.value())
        }
        if a.attributes().len() != b.attributes().len() {
            return false;
        }
        if a.attributes().map(pair).eq(b.attributes().map(pair)) {
            return true;
        }
        let mut aa: Vec<_> = a.attributes().map(pair).collect();
        let mut ba: Vec<_> = b.attributes().map(pair).collect();
        aa.sort_unstable();
        ba.sort_unstable();
        aa == ba
    }
    same(a, b)
}

/// Whether the responsible party can share the author's resources, as the reference shares
/// them when the SDS role profile ids are equal: only if the two `AgentPerson`s differ in
/// nothing but the person's code, and the forward rules read both codes back from the
/// shared resources. `author` gets the responsible party's code added when they can.
pub fn can_share(
    author_el: &El<'_, '_>,
    responsible_el: &El<'_, '_>,
    author: &mut Translated,
) -> Result<bool> {
    fn role_id<'a>(el: &El<'a, '_>) -> Option<&'a str> {
        el.opt("id").and_then(|i| i.attr("extension"))
    }
    if role_id(author_el).is_none() || role_id(author_el) != role_id(responsible_el) {
        return Ok(false);
    }
    if !same_ignoring_person_code(author_el.node, responsible_el.node) {
        return Ok(false);
    }
    let author_code = person_code(author_el)?;
    let responsible_code = person_code(responsible_el)?;
    // The reference adds the responsible party's code with its own guess of the system.
    let system = reference_system(responsible_code);
    let mut role_ids = author.role_identifiers.clone();
    let mut practitioner_ids = author.practitioner_identifiers.clone();
    let target = if system == SPURIOUS_CODE_SYSTEM {
        &mut role_ids
    } else {
        &mut practitioner_ids
    };
    let added = (system.to_string(), responsible_code.to_string());
    if !target.contains(&added) {
        target.push(added);
    }
    let reads_back = forward_author_code(&practitioner_ids).as_deref() == Some(author_code)
        && forward_responsible_code(&role_ids, &practitioner_ids).as_deref()
            == Some(responsible_code);
    if reads_back {
        author.role_identifiers = role_ids;
        author.practitioner_identifiers = practitioner_ids;
    }
    Ok(reads_back)
}

/// Adds another `AgentPerson`'s person code to these resources, as the reference does when
/// two agents share an SDS role profile id (no check that anything else agrees).
pub fn add_code(to: &mut Translated, other: &El<'_, '_>) -> Result<()> {
    let code = person_code(other)?;
    let system = reference_system(code);
    let target = if system == SPURIOUS_CODE_SYSTEM {
        &mut to.role_identifiers
    } else {
        &mut to.practitioner_identifiers
    };
    let added = (system.to_string(), code.to_string());
    if !target.contains(&added) {
        target.push(added);
    }
    Ok(())
}

/// The SDS role profile id of an `AgentPerson`, if it has one.
pub fn role_profile_id<'a>(agent: &El<'a, '_>) -> Option<&'a str> {
    agent.opt("id").and_then(|i| i.attr("extension"))
}

fn identifiers(list: &[(String, String)]) -> Value {
    Value::Array(list.iter().map(|(s, v)| identifier(s, v)).collect())
}

impl Translated {
    /// The PractitionerRole, Practitioner and Organization, in the reference's key order.
    pub fn resources(&self) -> (Value, Value, Value) {
        let mut role = Map::with_capacity(self.role.len() + 1);
        for (k, v) in &self.role {
            role.insert(k.clone(), v.clone());
            if k == "id" && !self.role_identifiers.is_empty() {
                role.insert("identifier".into(), identifiers(&self.role_identifiers));
            }
        }
        let mut practitioner = self.practitioner.clone();
        if !self.practitioner_identifiers.is_empty() {
            practitioner.insert(
                "identifier".into(),
                identifiers(&self.practitioner_identifiers),
            );
        }
        (
            Value::Object(role),
            Value::Object(practitioner),
            Value::Object(self.organization.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typed_by_shape() {
        assert_eq!(reference_system("666666"), SPURIOUS_CODE_SYSTEM);
        assert_eq!(reference_system("12A3456B"), NMC_SYSTEM);
        assert_eq!(reference_system("G9999999"), GMP_SYSTEM);
        assert_eq!(reference_system("C1234567"), GMC_SYSTEM);
        assert_eq!(reference_system("AB123456"), HCPC_SYSTEM);
        assert_eq!(reference_system("977677"), DIN_SYSTEM);
        assert_eq!(reference_system("6095103"), PROFESSIONAL_CODE_SYSTEM);
        // Typed so that the forward rules read them back unchanged.
        assert_eq!(author_system("C1234567"), PROFESSIONAL_CODE_SYSTEM);
        assert_eq!(author_system("977677"), PROFESSIONAL_CODE_SYSTEM);
        assert_eq!(responsible_system("977677"), DIN_SYSTEM);
    }

    #[test]
    fn forward_rules_read_codes_back() {
        let ids = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(s, c)| (s.to_string(), c.to_string()))
                .collect()
        };
        let p = ids(&[
            (PROFESSIONAL_CODE_SYSTEM, "6095103"),
            (DIN_SYSTEM, "977677"),
        ]);
        assert_eq!(forward_author_code(&p).as_deref(), Some("6095103"));
        assert_eq!(forward_responsible_code(&[], &p).as_deref(), Some("977677"));
        let two = ids(&[(GMP_SYSTEM, "G9999999"), (PROFESSIONAL_CODE_SYSTEM, "1")]);
        assert_eq!(forward_author_code(&two), None);
    }
}
