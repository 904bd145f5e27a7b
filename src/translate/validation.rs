//! Checks run before translation, as the reference's bundle validator runs them, plus the
//! prescription id check character (ISO 7064 Mod 37-2) that otherwise only Spine checks.
//!
//! Every failing check adds an issue; the Bundle is refused if any is an error. The
//! agreement checks compare the MedicationRequests' JSON, so the original text of numbers
//! and every member count.

use super::agent_person::{SDS_ROLE_PROFILE_SYSTEM, SDS_USER_SYSTEM};
use super::common::*;
use super::prescription::{
    course_of_therapy, only_extension, PERFORMER_SITE_TYPE_URL, PRESCRIPTION_TYPE_URL,
    REPEAT_INFORMATION_URL, RESPONSIBLE_PRACTITIONER_URL,
};
use super::Input;
use crate::error::{Issue, IssueCode, Rejection};
use crate::fhir::{ContactPoint, Extension, MedicationRequest, Resource};
use serde_json::Value;

const MR_PATH: &str = "Bundle.entry.resource.ofType(MedicationRequest)";

/// Fields every MedicationRequest of a prescription must agree on, as FHIRPaths below the
/// MedicationRequest (`extension("url")` picks extensions by url).
const MUST_AGREE: [&str; 11] = [
    "groupIdentifier",
    "category",
    "authoredOn",
    "subject",
    "requester",
    "dispenseRequest.performer",
    "dispenseRequest.validityPeriod",
    "dispenseRequest.expectedSupplyDuration",
    "dispenseRequest.extension(\"https://fhir.nhs.uk/StructureDefinition/Extension-DM-PerformerSiteType\")",
    "extension(\"https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType\")",
    "extension(\"https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner\")",
];

const REPEATS_PATH: &str = "dispenseRequest.numberOfRepeatsAllowed";
/// The repeat information extension: every MedicationRequest of a repeat-dispensing
/// prescription must agree on it when the first one carries it with sub-extensions.
const REPEAT_INFORMATION_PATH: &str =
    "extension(\"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation\")";
/// A prescriber's GMP number, which the reference refuses as the author's professional code.
const GMP_NUMBER_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/gmp-number";

/// Whether every MedicationRequest has the same value at one of the `MUST_AGREE` paths (or
/// the number of repeats), compared on the typed model.
fn typed_agree<'m, 'a>(path: &str, mrs: &[(usize, &'m MedicationRequest<'a>)]) -> bool {
    fn all_same<'m, 'a, T: PartialEq>(
        mrs: &[(usize, &'m MedicationRequest<'a>)],
        f: impl Fn(&'m MedicationRequest<'a>) -> T,
    ) -> bool {
        let mut values = mrs.iter().map(|(_, mr)| f(mr));
        match values.next() {
            Some(first) => values.all(|v| v == first),
            None => true,
        }
    }
    fn with_url<'e, 'a>(list: &'e [Extension<'a>], url: &str) -> Vec<&'e Extension<'a>> {
        list.iter().filter(|e| e.url == url).collect()
    }
    fn dr<'m, 'a>(mr: &'m MedicationRequest<'a>) -> Option<&'m crate::fhir::DispenseRequest<'a>> {
        mr.dispense_request.as_ref()
    }
    match path {
        "groupIdentifier" => all_same(mrs, |mr| mr.group_identifier.as_ref()),
        // Every item of every list is one value: lists of more than one item are decided on
        // the JSON (see `select`), where one MedicationRequest's two categories disagree.
        "category" => {
            mrs.iter().all(|(_, mr)| mr.category.len() <= 1) && all_same(mrs, |mr| &mr.category)
        }
        "authoredOn" => all_same(mrs, |mr| mr.authored_on.as_ref()),
        "subject" => all_same(mrs, |mr| mr.subject.as_ref()),
        "requester" => all_same(mrs, |mr| mr.requester.as_ref()),
        "dispenseRequest.performer" => {
            all_same(mrs, |mr| dr(mr).and_then(|d| d.performer.as_ref()))
        }
        "dispenseRequest.validityPeriod" => {
            all_same(mrs, |mr| dr(mr).and_then(|d| d.validity_period.as_ref()))
        }
        "dispenseRequest.expectedSupplyDuration" => all_same(mrs, |mr| {
            dr(mr).and_then(|d| d.expected_supply_duration.as_ref())
        }),
        REPEATS_PATH => all_same(mrs, |mr| {
            dr(mr).and_then(|d| d.number_of_repeats_allowed.as_ref())
        }),
        other => {
            // `extension("url")` or `dispenseRequest.extension("url")`.
            let Some((head, url)) = other.split_once("(\"") else {
                return true;
            };
            let url = url.trim_end_matches("\")");
            if head.starts_with("dispenseRequest.") {
                all_same(mrs, |mr| {
                    dr(mr)
                        .map(|d| with_url(&d.extension, url))
                        .unwrap_or_default()
                })
            } else {
                all_same(mrs, |mr| with_url(&mr.extension, url))
            }
        }
    }
}

fn error(code: IssueCode, diagnostics: &str, expression: Option<&str>) -> Issue {
    Issue::error(code, diagnostics, expression.map(str::to_string))
}

/// The values a simple FHIRPath (`a.b`, `extension("url")`) gives over every MedicationRequest
/// at once, as the reference evaluates it: each member step takes the member of every value so
/// far, an array contributing each of its items and an absent member contributing one
/// "undefined" (`None`); an `extension("url")` step contributes the extension with that url,
/// `null` when the list has none, and "undefined" when the list itself is absent.
pub(super) fn select<'v>(resources: &[&'v Value], path: &str) -> Vec<Option<&'v Value>> {
    let mut current: Vec<Option<&Value>> = resources.iter().map(|r| Some(*r)).collect();
    for step in split_path(path) {
        let mut next = Vec::new();
        for v in current {
            let Some(v) = v else {
                next.push(None);
                continue;
            };
            match step.split_once("(\"") {
                Some((member, rest)) => {
                    let url = rest.trim_end_matches("\")");
                    let found = v.get(member).map(|list| {
                        list.as_array()
                            .and_then(|list| {
                                list.iter()
                                    .find(|i| i.get("url").and_then(Value::as_str) == Some(url))
                            })
                            .unwrap_or(&Value::Null)
                    });
                    next.push(found);
                }
                None => match v.get(step) {
                    Some(Value::Array(items)) => next.extend(items.iter().map(Some)),
                    Some(one) => next.push(Some(one)),
                    None => next.push(None),
                },
            }
        }
        current = next;
    }
    current
}

fn split_path(path: &str) -> Vec<&str> {
    let mut steps = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    for (i, c) in path.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => {
                steps.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    steps.push(&path[start..]);
    steps
}

/// The MedicationRequests' JSON, in entry order.
fn medication_requests_json(raw: &Value) -> Vec<&Value> {
    resources_json(raw, "MedicationRequest")
}

/// The JSON of the Bundle's resources of one type, in entry order.
pub(super) fn resources_json<'v>(raw: &'v Value, kind: &str) -> Vec<&'v Value> {
    raw.get("entry")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e.get("resource"))
                .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some(kind))
                .collect()
        })
        .unwrap_or_default()
}

fn agreement_issue(mrs: &[&Value], path: &str) -> Option<Issue> {
    disagreement("MedicationRequest", path, select(mrs, path))
}

/// The reference's issue when the values the resources of one type give at `path` are not
/// all the same: each distinct value listed once, in the order first met.
pub(super) fn disagreement(kind: &str, path: &str, values: Vec<Option<&Value>>) -> Option<Issue> {
    let mut distinct: Vec<Option<&Value>> = Vec::new();
    for value in values {
        if !distinct.contains(&value) {
            distinct.push(value);
        }
    }
    (distinct.len() > 1).then(|| {
        // Written as the reference writes the list: "undefined" as null.
        let shown: Vec<&Value> = distinct.iter().map(|v| v.unwrap_or(&Value::Null)).collect();
        let received = serde_json::to_string(&shown).unwrap_or_default();
        Issue::error(
            IssueCode::Value,
            format!("Expected all {kind}s to have the same value for {path}. Received {received}."),
            Some(format!("Bundle.entry.resource.ofType({kind}).{path}")),
        )
    })
}

/// The extensions the agreement checks read must each appear at most once on a
/// MedicationRequest (the reference stops with this error before comparing).
fn one_extension_each(mrs: &[(usize, &MedicationRequest<'_>)]) -> Result<()> {
    for url in [
        PERFORMER_SITE_TYPE_URL,
        PRESCRIPTION_TYPE_URL,
        RESPONSIBLE_PRACTITIONER_URL,
    ] {
        for (index, mr) in mrs {
            let path = entry_path(*index);
            match (url, &mr.dispense_request) {
                (PERFORMER_SITE_TYPE_URL, Some(d)) => only_extension(
                    &d.extension,
                    url,
                    &join(&path, ".dispenseRequest.extension"),
                )?,
                (PERFORMER_SITE_TYPE_URL, None) => None,
                _ => only_extension(&mr.extension, url, &join(&path, ".extension"))?,
            };
        }
    }
    Ok(())
}

/// One issue for each path at which the MedicationRequests disagree (the JSON is read only
/// when there is a disagreement to describe).
fn agreement_issues(input: &Input<'_, '_>, disagreeing: &[&str], issues: &mut Vec<Issue>) {
    if disagreeing.is_empty() {
        return;
    }
    let raw: Value = serde_json::from_str(input.text).unwrap_or(Value::Null);
    let mrs_json = medication_requests_json(&raw);
    for path in disagreeing {
        issues.extend(agreement_issue(&mrs_json, path));
    }
}

/// Checks shared by every prescribing message. Most add an issue and go on; a role's
/// practitioner that does not resolve, and ambiguous SDS ids, end the checks with that one
/// error, as they end the reference's.
fn common(input: &Input<'_, '_>, issues: &mut Vec<Issue>) -> Result<()> {
    let mrs = input.medication_requests();
    if mrs
        .iter()
        .any(|(_, mr)| matches!(mr.intent.as_deref(), Some("plan" | "reflex-order")))
    {
        issues.push(error(
            IssueCode::Value,
            "MedicationRequest.intent must be order, original-order or instance-order.",
            Some(&format!("{MR_PATH}.intent")),
        ));
    }
    // One issue for the Bundle, naming the first MedicationRequest that has both.
    if let Some((index, _)) = mrs.iter().find(|(_, mr)| {
        mr.medication_codeable_concept.is_some() && mr.medication_reference.is_some()
    }) {
        issues.push(Issue::error(
            IssueCode::Structure,
            "MedicationRequest cannot contain both medicationReference and medicationCodeableConcept fields.",
            Some(format!("Bundle.entry[{index}].resource.medication[x]")),
        ));
    }
    telecoms(input, issues);
    let responsible_urls = responsible_practitioner_urls(&mrs);
    for (index, entry) in input.bundle.entries.iter().enumerate() {
        if let Resource::PractitionerRole(role) = &entry.resource {
            let responsible = entry
                .full_url
                .as_deref()
                .is_some_and(|url| responsible_urls.contains(&url));
            practitioner_role(input, role, index, responsible, issues)?;
        }
    }
    Ok(())
}

/// The reference's checks common to every message Bundle (a dispense notification's
/// included): MedicationRequest intent and medication, telecoms, PractitionerRole references.
/// The issues found, in the reference's order; an error that ends the checks refuses.
pub fn common_issues(input: &Input<'_, '_>) -> Result<Vec<Issue>> {
    let mut issues = Vec::new();
    common(input, &mut issues)?;
    Ok(issues)
}

fn not_a_reference(field: &str, expression: String) -> Issue {
    Issue::error(
        IssueCode::Invalid,
        format!("{field} populated incorrectly. Please populate with Reference to resource within Bundle."),
        Some(expression),
    )
}

/// Every telecom of every Organization, Practitioner and PractitionerRole (in that order of
/// types, each in entry order), referenced or not, must have a `value` and a `use`.
fn telecoms(input: &Input<'_, '_>, issues: &mut Vec<Issue>) {
    let entries = &input.bundle.entries;
    for kind in ["Organization", "Practitioner", "PractitionerRole"] {
        for (index, entry) in entries.iter().enumerate() {
            let list: &[ContactPoint<'_>] = match &entry.resource {
                Resource::Organization(o) if kind == "Organization" => &o.telecom,
                Resource::Practitioner(p) if kind == "Practitioner" => {
                    p.telecom.as_deref().unwrap_or_default()
                }
                Resource::PractitionerRole(r) if kind == "PractitionerRole" => {
                    r.telecom.as_deref().unwrap_or_default()
                }
                _ => continue,
            };
            for (i, t) in list.iter().enumerate() {
                for (member, value) in [("value", &t.value), ("use", &t.use_)] {
                    if value.as_deref().is_none_or(str::is_empty) {
                        let at = format!("entry[{index}].resource.telecom[{i}].{member}");
                        issues.push(Issue::error(
                            IssueCode::Invalid,
                            format!("Required field bundle.{at} is missing."),
                            Some(format!("Bundle.{at}")),
                        ));
                    }
                }
            }
        }
    }
}

/// The `fullUrl`s the MedicationRequests name as their responsible practitioner.
fn responsible_practitioner_urls<'m>(mrs: &[(usize, &'m MedicationRequest<'_>)]) -> Vec<&'m str> {
    mrs.iter()
        .filter_map(|(_, mr)| {
            mr.extension
                .iter()
                .find(|e| e.url == RESPONSIBLE_PRACTITIONER_URL)
        })
        .filter_map(|e| e.value_reference.as_ref()?.reference.as_deref())
        .collect()
}

/// How a PractitionerRole must point at the rest of the Bundle: its organisation and
/// healthcare services by `reference`; its practitioner by `reference`, except for the
/// responsible practitioner's role, where it is either a reference or an identifier (not both,
/// not neither).
fn practitioner_role(
    input: &Input<'_, '_>,
    role: &crate::fhir::PractitionerRole<'_>,
    index: usize,
    responsible: bool,
    issues: &mut Vec<Issue>,
) -> Result<()> {
    let path = entry_path(index);
    if let Some(p) = &role.practitioner {
        if !responsible {
            if !is_literal(p) {
                issues.push(not_a_reference(
                    "practitionerRole.practitioner",
                    join(&path, ".practitioner"),
                ));
            }
        } else if is_literal(p) == p.identifier.is_some() {
            issues.push(Issue::error(
                IssueCode::Invalid,
                "Responsible practitioner must be either a reference to a Practitioner resource or an identifier reference.",
                Some(join(&path, ".practitioner")),
            ));
        }
    }
    if !role.organization.as_ref().is_some_and(is_literal) {
        issues.push(not_a_reference(
            "practitionerRole.organization",
            join(&path, ".organization"),
        ));
    }
    for (i, service) in role.healthcare_service.iter().flatten().enumerate() {
        if !is_literal(service) {
            issues.push(not_a_reference(
                &format!("practitionerRole.healthcareService[{i}]"),
                format!("{path}.healthcareService[{i}]"),
            ));
        }
    }
    // The SDS ids are compared with the caller's (a warning at most), so each must be one.
    if let Some(p) = role.practitioner.as_ref().filter(|p| is_literal(p)) {
        let practitioner_path = join(&path, ".practitioner");
        if let (i, Resource::Practitioner(practitioner)) = input.resolve(p, &practitioner_path)? {
            let users = practitioner.identifier.iter();
            if users
                .filter(|id| id.system.as_deref() == Some(SDS_USER_SYSTEM))
                .count()
                > 1
            {
                return Err(invalid(
                    join(&entry_path(i), ".identifier"),
                    format!("Too many values submitted. Expected at most 1 element where system == '{SDS_USER_SYSTEM}'."),
                ));
            }
        }
    }
    if let Some(identifiers) = &role.identifier {
        exactly_one_with_system(
            identifiers,
            |i| i.system.as_deref(),
            SDS_ROLE_PROFILE_SYSTEM,
            &join(&path, ".identifier"),
        )?;
    }
    Ok(())
}

/// The requester's organisation rules: the organisation is given by reference and, for a
/// primary-care prescription (type `01…`), is part of another and the role names no
/// healthcare service. The author must not be identified by a GMP number.
fn requester(input: &Input<'_, '_>, issues: &mut Vec<Issue>) -> Result<()> {
    let mrs = input.medication_requests();
    let (mr_index, mr0) = mrs[0];
    let mr_path = entry_path(mr_index);
    let type_code = mr0
        .extension
        .iter()
        .find(|e| e.url == PRESCRIPTION_TYPE_URL)
        .and_then(|e| e.value_coding.as_ref()?.code.as_deref())
        .ok_or_else(|| missing(join(&mr_path, ".extension")))?;
    let requester_ref = required(mr0.requester.as_ref(), join(&mr_path, ".requester"))?;
    let (role_index, role) = input.resolve_as(
        requester_ref,
        &join(&mr_path, ".requester"),
        "PractitionerRole",
        |r| match r {
            Resource::PractitionerRole(p) => Some(p),
            _ => None,
        },
    )?;
    let role_path = entry_path(role_index);
    match role.organization.as_ref().filter(|o| is_literal(o)) {
        Some(org_ref) => {
            let (org_index, org) = input.resolve_as(
                org_ref,
                &join(&role_path, ".organization"),
                "Organization",
                |r| match r {
                    Resource::Organization(o) => Some(o),
                    _ => None,
                },
            )?;
            if type_code.starts_with("01") {
                if role.healthcare_service.is_some() {
                    issues.push(Issue::error(
                        IssueCode::Invalid,
                        "Unexpected field of practitionerRole.healthcareService.",
                        Some(join(&role_path, ".healthcareService")),
                    ));
                } else if org.part_of.is_none() {
                    issues.push(Issue::error(
                        IssueCode::Invalid,
                        "Required field organization.partOf is missing.",
                        Some(join(&entry_path(org_index), ".partOf")),
                    ));
                }
            }
        }
        None => issues.push(not_a_reference(
            "practitionerRole.organization",
            join(&role_path, ".organization"),
        )),
    }
    let practitioner_identifiers = match &role.practitioner {
        Some(p) if is_literal(p) => match input.resolve(p, &join(&role_path, ".practitioner"))? {
            (_, Resource::Practitioner(pr)) => pr.identifier.iter().collect(),
            _ => Vec::new(),
        },
        Some(p) => p.identifier.iter().collect(),
        None => Vec::new(),
    };
    if practitioner_identifiers.iter().any(|i| {
        i.system.as_deref() == Some(GMP_NUMBER_SYSTEM)
            && i.value.as_deref().is_some_and(|v| !v.is_empty())
    }) {
        issues.push(Issue::error(
            IssueCode::Value,
            "Bundle resource Practitioner.identifier expected exactly one professional code from GMC|NMC|GPhC|HCPC|professional-code.",
            Some(join(&role_path, ".practitioner")),
        ));
    }
    Ok(())
}

/// Validates a prescription-order Bundle; returns warnings, or refuses with every error.
pub fn prescription_order(input: &Input<'_, '_>) -> Result<Vec<Issue>> {
    let mut issues = Vec::new();
    common(input, &mut issues)?;
    let mrs = input.medication_requests();
    // Compared on the typed model (cheap); the JSON is read only to describe a disagreement.
    one_extension_each(&mrs)?;
    let disagreeing: Vec<&str> = MUST_AGREE
        .iter()
        .copied()
        .filter(|p| !typed_agree(p, &mrs))
        .collect();
    agreement_issues(input, &disagreeing, &mut issues);
    if mrs.is_empty() {
        issues.push(error(
            IssueCode::Invalid,
            "Too few values submitted. Expected at least 1 element where resource.resourceType == 'MedicationRequest'.",
            Some("Bundle.entry"),
        ));
        return finish(issues);
    }
    requester(input, &mut issues)?;
    let course = course_of_therapy(&mrs)?;
    if course == "continuous-repeat-dispensing" {
        let (index0, mr0) = mrs[0];
        let mut repeat_paths = vec![REPEATS_PATH];
        let repeat_information = only_extension(
            &mr0.extension,
            REPEAT_INFORMATION_URL,
            &join(&entry_path(index0), ".extension"),
        )?;
        if repeat_information.is_some_and(|e| !e.extension.is_empty()) {
            // Compared across the MedicationRequests as the other agreement extensions are:
            // each may carry it at most once.
            for (index, mr) in &mrs {
                only_extension(
                    &mr.extension,
                    REPEAT_INFORMATION_URL,
                    &join(&entry_path(*index), ".extension"),
                )?;
            }
            repeat_paths.push(REPEAT_INFORMATION_PATH);
        }
        repeat_paths.retain(|p| !typed_agree(p, &mrs));
        agreement_issues(input, &repeat_paths, &mut issues);
        let dr = mr0.dispense_request.as_ref();
        if dr.and_then(|d| d.validity_period.as_ref()).is_none() {
            issues.push(error(
                IssueCode::Value,
                "Expected MedicationRequest to have a value for dispenseRequest.validityPeriod.",
                Some(&format!("{MR_PATH}.dispenseRequest.validityPeriod")),
            ));
        }
        if dr
            .and_then(|d| d.expected_supply_duration.as_ref())
            .is_none()
        {
            issues.push(error(
                IssueCode::Value,
                "Expected MedicationRequest to have a value for dispenseRequest.expectedSupplyDuration.",
                Some(&format!("{MR_PATH}.dispenseRequest.expectedSupplyDuration")),
            ));
        }
    }
    issues.extend(status_must_be(&mrs, "active"));
    let mut item_numbers: Vec<&str> = Vec::new();
    let mut duplicate = false;
    for (_, mr) in &mrs {
        if let Some(v) = identifier_value_opt(
            &mr.identifier,
            "https://fhir.nhs.uk/Id/prescription-order-item-number",
        ) {
            duplicate |= item_numbers.contains(&v);
            item_numbers.push(v);
        }
    }
    if duplicate {
        issues.push(error(
            IssueCode::Value,
            "Expected all MedicationRequests to have a different value for identifier.",
            Some(&format!("{MR_PATH}.identifier")),
        ));
    }
    for (index, mr) in &mrs {
        let path = format!("Bundle.entry[{index}].resource.dosageInstruction");
        if mr.dosage_instruction.is_empty() {
            issues.push(Issue::error(
                IssueCode::Invalid,
                "Required field dosageInstructions is missing.",
                Some(path),
            ));
        } else if mr.dosage_instruction.len() > 1
            // Any value counts as given, 0 included: the reference reads numbers losslessly,
            // so only an absent (or null) `sequence` is missing.
            && mr.dosage_instruction.iter().any(|d| d.sequence.is_none())
        {
            issues.push(Issue::error(
                IssueCode::Invalid,
                "The request contains multiple dosage instruction lines but no corresponding dosage sequence number.",
                Some(path),
            ));
        }
    }
    let (index, mr0) = mrs[0];
    if let Some(short_form) = mr0
        .group_identifier
        .as_ref()
        .and_then(|g| g.value.as_deref())
    {
        if !short_form_check_character_ok(short_form) {
            let issue_path = format!("Bundle.entry[{index}].resource.groupIdentifier.value");
            let message = format!(
                "prescription id '{short_form}' has an invalid check character (ISO 7064 Mod 37-2)"
            );
            if input.ctx.strict {
                issues.push(Issue::error(IssueCode::Value, message, Some(issue_path)));
            } else {
                issues.push(Issue::warning(IssueCode::Value, message, Some(issue_path)));
            }
        }
    }
    finish(issues)
}

/// Validates a prescription-order-update (cancellation) Bundle.
pub fn cancellation(input: &Input<'_, '_>) -> Result<Vec<Issue>> {
    let mut issues = Vec::new();
    common(input, &mut issues)?;
    let mrs = input.medication_requests();
    if mrs.len() != 1 {
        issues.push(error(
            IssueCode::Value,
            "The Bundle must contain exactly one MedicationRequest if MessageHeader.eventCoding.code is 'prescription-order-update'.",
            Some(MR_PATH),
        ));
    }
    issues.extend(status_must_be(&mrs, "cancelled"));
    if mrs.iter().any(|(_, mr)| mr.status_reason.is_none()) {
        issues.push(error(
            IssueCode::Value,
            "Expected MedicationRequest to have a value for statusReason.",
            Some(&format!("{MR_PATH}.statusReason")),
        ));
    }
    finish(issues)
}

/// Every MedicationRequest must have this status.
fn status_must_be(mrs: &[(usize, &MedicationRequest<'_>)], status: &str) -> Option<Issue> {
    mrs.iter()
        .any(|(_, mr)| mr.status.as_deref() != Some(status))
        .then(|| {
            Issue::error(
                IssueCode::Value,
                format!("MedicationRequest.status must be {status}."),
                Some(format!("{MR_PATH}.status")),
            )
        })
}

fn finish(issues: Vec<Issue>) -> Result<Vec<Issue>> {
    if issues
        .iter()
        .any(|i| i.severity == crate::error::Severity::Error)
    {
        Err(Rejection { issues })
    } else {
        Ok(issues)
    }
}

/// Checks the last character of a short-form prescription id (`XXXXXX-XXXXXX-XXXXXC`)
/// with ISO 7064 Mod 37-2 over the other alphanumeric characters.
pub fn short_form_check_character_ok(id: &str) -> bool {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+";
    let chars: Vec<u8> = id
        .bytes()
        .filter(|b| *b != b'-')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    let Some((&check, body)) = chars.split_last() else {
        return false;
    };
    let mut total: u32 = 0;
    for b in body {
        let Some(v) = ALPHABET.iter().position(|a| a == b) else {
            return false;
        };
        total = ((total + v as u32) * 2) % 37;
    }
    let expected = ALPHABET[((38 - total) % 37) as usize];
    expected == check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_character() {
        assert!(short_form_check_character_ok("6BC03A-A83008-485BAR"));
        assert!(short_form_check_character_ok("1A7D94-0RRERP-549310"));
        assert!(!short_form_check_character_ok("269CA9-A99968-4577BP"));
        assert!(!short_form_check_character_ok("6BC03A-A83008-485BAS"));
        assert!(!short_form_check_character_ok(""));
        assert!(!short_form_check_character_ok("A?"));
    }

    #[test]
    fn select_follows_extension_urls() {
        let v: Value =
            serde_json::from_str(r#"{"extension":[{"url":"a","x":1},{"url":"b","x":2}]}"#).unwrap();
        assert_eq!(select(&[&v], "extension(\"b\")").len(), 1);
        assert_eq!(
            select(&[&v], "extension(\"b\").x")[0],
            Some(&Value::from(2))
        );
        assert_eq!(select(&[&v], "extension(\"c\")")[0], Some(&Value::Null));
        assert_eq!(select(&[&v], "category"), vec![None]);
        // An absent list gives "undefined", which differs from a list without the url.
        let none: Value = serde_json::from_str(r#"{"id":"x"}"#).unwrap();
        assert_eq!(
            select(&[&v, &none], "extension(\"c\")"),
            vec![Some(&Value::Null), None]
        );
    }

    #[test]
    fn agreement_is_over_every_value_of_every_medication_request() {
        let one: Value = serde_json::from_str(r#"{"category":[{"a":1}]}"#).unwrap();
        let two_same: Value = serde_json::from_str(r#"{"category":[{"a":1},{"a":1}]}"#).unwrap();
        let two_differ: Value = serde_json::from_str(r#"{"category":[{"a":1},{"a":2}]}"#).unwrap();
        let none: Value = serde_json::from_str("{}").unwrap();
        assert!(agreement_issue(&[&one, &two_same], "category").is_none());
        assert!(agreement_issue(&[&two_differ], "category").is_some());
        let issue = agreement_issue(&[&one, &none], "category").unwrap();
        assert!(
            issue.diagnostics.ends_with(r#"Received [{"a":1},null]."#),
            "{}",
            issue.diagnostics
        );
    }
}
