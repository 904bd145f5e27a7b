//! What a return and a withdrawal `Task` share: the reference's task validator, and the
//! lookups both translations make (the message id, the contained dispenser, the prescription's
//! short-form id, the focus message id, a coding of one system).
//!
//! | `Task.status` | HL7 v3 interaction | module |
//! |---|---|---|
//! | `rejected` (return) | `PORX_IN100101SM31` DispenseProposalReturn | [`super::dispense_return`] |
//! | `in-progress` (withdrawal) | `PORX_IN510101SM31` ETPWithdraw | [`super::withdraw`] |

use super::agent_person::{SDS_ROLE_PROFILE_SYSTEM, SDS_USER_SYSTEM};
use super::common::*;
use crate::error::{Issue, IssueCode, Rejection};
use crate::fhir::*;
use crate::hl7v3::element::Element;

/// `Task.status` of a return.
pub const REJECTED: &str = "rejected";
/// `Task.status` of a withdrawal.
pub const IN_PROGRESS: &str = "in-progress";
pub const RFC4122_SYSTEM: &str = "https://tools.ietf.org/html/rfc4122";
pub const PRESCRIPTION_ORDER_NUMBER_SYSTEM: &str =
    "https://fhir.nhs.uk/Id/prescription-order-number";
pub const RETURN_REASON_SYSTEM: &str =
    "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-return-status-reason";
pub const WITHDRAW_REASON_SYSTEM: &str =
    "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-withdraw-reason";
pub const REPEAT_INFORMATION_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation";
/// The HL7 code system of prescription short-form ids.
const PRESCRIPTION_ID_OID: &str = "2.16.840.1.113883.2.1.3.2.4.18.8";
const TASK_CODE_SYSTEM: &str = "http://hl7.org/fhir/CodeSystem/task-code";
/// The path the reference gives the contained PractitionerRole.
pub const ROLE_PATH: &str = "Task.contained(\"PractitionerRole\")";
/// The path the reference gives the contained Organization.
pub const ORGANIZATION_PATH: &str = "Task.contained(\"Organization\")";

/// `Task.<field> must be one of: 'a', 'b'.` (code `value`).
fn incorrect_value(field: &str, allowed: &[&str]) -> Issue {
    let list: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    Issue::error(
        IssueCode::Value,
        format!("Task.{field} must be one of: {}.", list.join(", ")),
        Some(format!("Task.{field}")),
    )
}

/// The reference's task validator: `intent` is `order`; the requester is a contained
/// PractitionerRole whose practitioner is given by SDS user id and whose identifier holds one
/// SDS role profile id; then the status's own checks (a withdrawal's `code` is `abort`; the
/// status reason has a coding of the status's reason system). Issues are all reported
/// together; a rule that ends the checks refuses with its one error.
pub fn validate(task: &Task<'_>) -> Result<Vec<Issue>> {
    let mut issues = Vec::new();
    if task.intent.as_deref() != Some("order") {
        issues.push(incorrect_value("intent", &["order"]));
    }
    let role = requester_role(task)?;
    let practitioner_path = join(ROLE_PATH, ".practitioner");
    if let Some(p) = &role.practitioner {
        if is_literal(p) {
            issues.push(Issue::error(
                IssueCode::Invalid,
                format!("{practitioner_path} populated incorrectly. Please populate with Identifier and Display."),
                Some(practitioner_path.clone()),
            ));
        } else {
            let path = join(&practitioner_path, ".identifier");
            let identifier = required(p.identifier.as_ref(), &path)?;
            identifier_value(std::slice::from_ref(identifier), SDS_USER_SYSTEM, &path)?;
        }
    }
    if let Some(identifiers) = &role.identifier {
        identifier_value(
            identifiers,
            SDS_ROLE_PROFILE_SYSTEM,
            &join(ROLE_PATH, ".identifier"),
        )?;
    }
    match task.status.as_deref() {
        Some(IN_PROGRESS) => {
            match &task.code {
                Some(code) => {
                    let coding = coding_for_system(code, TASK_CODE_SYSTEM, "Task.code")?;
                    if coding.code.as_deref() != Some("abort") {
                        issues.push(incorrect_value("code.coding.code", &["abort"]));
                    }
                }
                None => issues.push(Issue::error(
                    IssueCode::Value,
                    "Task.code is required when Task.status is 'in-progress'.",
                    Some("Task.code".to_string()),
                )),
            }
            reason_code(task, WITHDRAW_REASON_SYSTEM, &mut issues)?;
        }
        Some(REJECTED) => reason_code(task, RETURN_REASON_SYSTEM, &mut issues)?,
        _ => issues.push(incorrect_value("status", &[IN_PROGRESS, REJECTED])),
    }
    if issues.is_empty() {
        Ok(issues)
    } else {
        Err(Rejection { issues })
    }
}

/// The status reason has at most one coding of `system` (two end the checks), and one.
fn reason_code(task: &Task<'_>, system: &str, issues: &mut Vec<Issue>) -> Result<()> {
    let codings = task
        .status_reason
        .as_ref()
        .map(|c| c.coding.as_slice())
        .unwrap_or_default();
    let count = codings
        .iter()
        .filter(|c| c.system.as_deref() == Some(system))
        .count();
    if count > 1 {
        return Err(invalid(
            "Task.statusReason",
            format!(
                "Too many values submitted. Expected at most 1 element where system == '{system}'."
            ),
        ));
    }
    if count == 0 {
        issues.push(Issue::error(
            IssueCode::Value,
            format!(
                "Task.reasonCode must have a system of '{system}' and a value from that system."
            ),
            Some("Task.reasonCode".to_string()),
        ));
    }
    Ok(())
}

/// The one coding of `system` among a concept's codings, or the reference's error at
/// `path.coding`.
pub fn coding_for_system<'c, 'a>(
    concept: &'c CodeableConcept<'a>,
    system: &str,
    path: &str,
) -> Result<&'c Coding<'a>> {
    exactly_one_with_system(
        &concept.coding,
        |c| c.system.as_deref(),
        system,
        &join(path, ".coding"),
    )
}

/// The Task's message id: its one RFC 4122 identifier.
pub fn message_id<'t>(task: &'t Task<'_>) -> Result<&'t str> {
    let identifiers = required(task.identifier.as_deref(), "Task.identifier")?;
    identifier_value(identifiers, RFC4122_SYSTEM, "Task.identifier")
}

/// The contained resource a `#id` reference names (the first `#` dropped, as the reference
/// reads it), of the expected type.
fn contained<'t, 'a, T>(
    task: &'t Task<'a>,
    reference: &str,
    type_name: &str,
    pick: impl Fn(&'t Resource<'a>) -> Option<&'t T>,
) -> Result<&'t T> {
    let id = reference.replacen('#', "", 1);
    let list = required(task.contained.as_deref(), "Task.contained")?;
    let found = list
        .iter()
        .find(|r| resource_id(r) == Some(id.as_str()))
        .ok_or_else(|| {
            invalid(
                "Task.contained",
                format!("Contained resource with reference {reference} not found"),
            )
        })?;
    pick(found).ok_or_else(|| {
        invalid(
            "Task.contained",
            format!("Contained resource with reference {reference} is not of type {type_name}"),
        )
    })
}

/// The `id` of a contained resource of a type the dispensing Tasks carry.
fn resource_id<'r>(resource: &'r Resource<'_>) -> Option<&'r str> {
    match resource {
        Resource::PractitionerRole(r) => r.id.as_deref(),
        Resource::Organization(o) => o.id.as_deref(),
        Resource::Practitioner(p) => p.id.as_deref(),
        Resource::Patient(p) => p.id.as_deref(),
        Resource::Other(_, id) => id.as_deref(),
        _ => None,
    }
}

/// The requester: a reference to a contained PractitionerRole.
pub fn requester_role<'t, 'a>(task: &'t Task<'a>) -> Result<&'t PractitionerRole<'a>> {
    let reference = task
        .requester
        .as_ref()
        .filter(|r| is_literal(r))
        .and_then(|r| r.reference.as_deref())
        .ok_or_else(|| {
            invalid(
                "Task.requester",
                "task.requester should be a reference to contained.practitionerRole",
            )
        })?;
    contained(task, reference, "PractitionerRole", |r| match r {
        Resource::PractitionerRole(p) => Some(p),
        _ => None,
    })
}

/// The contained Organization a role's `organization` reference names.
pub fn role_organization<'t, 'a>(
    task: &'t Task<'a>,
    role: &'t PractitionerRole<'a>,
    not_a_reference: &str,
) -> Result<&'t Organization<'a>> {
    let reference = role
        .organization
        .as_ref()
        .filter(|r| is_literal(r))
        .and_then(|r| r.reference.as_deref())
        .ok_or_else(|| invalid(join(ROLE_PATH, ".organization"), not_a_reference))?;
    contained(task, reference, "Organization", |r| match r {
        Resource::Organization(o) => Some(o),
        _ => None,
    })
}

/// The prescription's short-form id: the group identifier, of the prescription order number
/// system.
pub fn short_form_id<'t>(task: &'t Task<'_>) -> Result<&'t str> {
    let identifier = required(task.group_identifier.as_ref(), "Task.groupIdentifier")?;
    identifier_value(
        std::slice::from_ref(identifier),
        PRESCRIPTION_ORDER_NUMBER_SYSTEM,
        "Task.groupIdentifier",
    )
}

/// The message the Task acts on: the focus identifier, of the RFC 4122 system.
pub fn focus_message_id<'t>(task: &'t Task<'_>) -> Result<&'t str> {
    let identifier = required(
        task.focus.as_ref().and_then(|f| f.identifier.as_ref()),
        "Task.focus.identifier",
    )?;
    identifier_value(
        std::slice::from_ref(identifier),
        RFC4122_SYSTEM,
        "Task.focus.identifier",
    )
}

/// `name` (an INFO event) holding the id of the message the Task acts on.
pub fn focus_message_ref(task: &Task<'_>, name: &'static str) -> Result<Element> {
    Ok(Element::new(name)
        .attr("classCode", "INFO")
        .attr("moodCode", "EVN")
        .child(Element::new("id").attr("root", global_id(focus_message_id(task)?))))
}

/// The observation `name` (`code`) holding the prescription's short-form id.
pub fn prescription_id_observation(
    task: &Task<'_>,
    name: &'static str,
    code: &'static str,
) -> Result<Element> {
    Ok(observation(
        name,
        code,
        Element::new("value")
            .attr("extension", short_form_id(task)?.to_string())
            .attr("root", PRESCRIPTION_ID_OID),
    ))
}

/// The observation `name` (`code`) holding the Task's reason: the `Task.statusReason` coding
/// of `system`, written in the HL7 code system `oid`.
pub fn reason_observation(
    task: &Task<'_>,
    (name, code): (&'static str, &'static str),
    system: &str,
    oid: &'static str,
) -> Result<Element> {
    let concept = required(task.status_reason.as_ref(), "Task.statusReason")?;
    let coding = coding_for_system(concept, system, "Task.statusReason")?;
    Ok(observation(
        name,
        code,
        coded_value(coding, oid, "Task.statusReason.coding")?,
    ))
}

/// The repeat information extension: the first one, or with `at_most_one`, the one (two are
/// refused). A return reads the first; a withdrawal refuses two.
pub fn repeat_information<'t, 'a>(
    task: &'t Task<'a>,
    at_most_one: bool,
) -> Result<Option<&'t Extension<'a>>> {
    let mut found = task
        .extension
        .iter()
        .filter(|e| e.url == REPEAT_INFORMATION_URL);
    let first = found.next();
    if at_most_one && found.next().is_some() {
        return Err(invalid(
            "Task.extension",
            format!("Too many values submitted. Expected at most 1 element where url == '{REPEAT_INFORMATION_URL}'."),
        ));
    }
    Ok(first)
}

/// The repeat information's `numberOfRepeatsIssued` (a `valueInteger`) plus one: the number
/// of the repeat being returned or withdrawn. A return reads the first such sub-extension; a
/// withdrawal (`exactly_one`) requires exactly one.
pub fn repeat_number(repeat: &Extension<'_>, exactly_one: bool) -> Result<String> {
    let path = "Task.extension(\"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation\").extension";
    let mut found = repeat
        .extension
        .iter()
        .filter(|e| e.url == "numberOfRepeatsIssued");
    let issued = found.next().ok_or_else(|| {
        invalid(
            path,
            "Too few values submitted. Expected 1 element where url == 'numberOfRepeatsIssued'.",
        )
    })?;
    if exactly_one && found.next().is_some() {
        return Err(invalid(
            path,
            "Too many values submitted. Expected 1 element where url == 'numberOfRepeatsIssued'.",
        ));
    }
    let value_path = format!("{path}(\"numberOfRepeatsIssued\").valueInteger");
    let value = issued
        .value_integer
        .as_ref()
        .ok_or_else(|| missing(value_path.clone()))?;
    let text = value.text();
    let n: u64 = text.trim().parse().map_err(|_| {
        invalid(
            value_path.clone(),
            format!("numberOfRepeatsIssued must be a whole number, found '{text}'"),
        )
    })?;
    Ok((n + 1).to_string())
}

/// `<name contextConductionInd=.. typeCode="PERT"><seperatableInd value="false"/>child</name>`:
/// the pertinent-information shape with the context conduction the part asks for.
pub fn pertinent_conducting(name: &'static str, conducting: bool, child: Element) -> Element {
    Element::new(name)
        .attr(
            "contextConductionInd",
            if conducting { "true" } else { "false" },
        )
        .attr("typeCode", "PERT")
        .child(Element::new("seperatableInd").attr("value", "false"))
        .child(child)
}

/// The Task's time, `authoredOn`, as an HL7 v3 timestamp.
pub fn authored_on(task: &Task<'_>) -> Result<String> {
    required_timestamp(task.authored_on.as_deref(), "Task.authoredOn")
}

/// `<value code codeSystem displayName/>` of a coding (no `displayName` without a display).
pub fn coded_value(coding: &Coding<'_>, code_system: &'static str, path: &str) -> Result<Element> {
    let code = code_of(coding, path)?;
    Ok(Element::new("value")
        .attr("code", code.to_string())
        .attr("codeSystem", code_system)
        .attr_opt("displayName", coding.display.as_deref().map(str::to_string)))
}
