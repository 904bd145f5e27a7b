//! `pertinentPrescription`: the prescription itself — ids, repeat information, nominated
//! pharmacy, author and responsible party, days supply, review date, treatment and
//! prescription type, dispensing site preference, and the line items.
//!
//! Prescription-level values come from the first MedicationRequest; validation has already
//! checked that every MedicationRequest agrees on them.

use super::agent_person::{agent_person, Role};
use super::common::*;
use super::line_item::{self, SharedInstructions};
use super::signature;
use super::{Input, Scope};
use crate::error::Issue;
use crate::fhir::*;
use crate::hl7v3::element::{code_element, id_element, Element};
use crate::mappings::{lookup, Table};

pub const PRESCRIPTION_ID_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId";
pub const SHORT_FORM_ID_OID: &str = "2.16.840.1.113883.2.1.3.2.4.18.8";
pub const RESPONSIBLE_PRACTITIONER_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner";
pub const REPEAT_INFORMATION_URL: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation";
const EPS_REPEAT_INFORMATION_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation";
pub const PERFORMER_SITE_TYPE_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PerformerSiteType";
pub const PRESCRIPTION_TYPE_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType";
const TREATMENT_TYPE_OID: &str = "2.16.840.1.113883.2.1.3.2.4.16.36";
const DISPENSING_SITE_OID: &str = "2.16.840.1.113883.2.1.3.2.4.17.21";
const PRESCRIPTION_TYPE_OID: &str = "2.16.840.1.113883.2.1.3.2.4.17.25";
const TEMPLATE_OID: &str = "2.16.840.1.113883.2.1.3.2.4.18.2";

/// What the ParentPrescription needs back from the prescription.
pub struct Built {
    pub element: Element,
    pub line_item_ids: Vec<String>,
    /// The author time, `YYYYMMDDHHMMSS`.
    pub author_time: String,
}

/// The one extension with `url` in a list, if any.
pub fn only_extension<'e, 'a>(
    list: &'e [Extension<'a>],
    url: &str,
    path: &str,
) -> Result<Option<&'e Extension<'a>>> {
    let mut hits = list.iter().filter(|e| e.url == url);
    let first = hits.next();
    if hits.next().is_some() {
        return Err(invalid(
            path,
            format!("Too many values submitted. Expected at most 1 element where url == '{url}'."),
        ));
    }
    Ok(first)
}

/// The one extension with `url`, required.
pub fn required_extension<'e, 'a>(
    list: &'e [Extension<'a>],
    url: &str,
    path: &str,
) -> Result<&'e Extension<'a>> {
    only_extension(list, url, path)?.ok_or_else(|| {
        crate::error::Rejection::at(
            crate::error::IssueCode::Invalid,
            path,
            format!("Too few values submitted. Expected 1 element where url == '{url}'."),
        )
    })
}

/// The PractitionerRole responsible for the prescription: the
/// `Extension-DM-ResponsiblePractitioner` reference, else the requester; with its FHIRPath.
pub fn responsible_party_reference<'m, 'a>(
    mr: &'m MedicationRequest<'a>,
    requester: &'m Reference<'a>,
    path: &str,
) -> Result<(&'m Reference<'a>, String)> {
    let extensions = join(path, ".extension");
    match only_extension(&mr.extension, RESPONSIBLE_PRACTITIONER_URL, &extensions)? {
        Some(ext) => {
            let ref_path = join(&extensions, ".valueReference");
            Ok((
                required(ext.value_reference.as_ref(), ref_path.clone())?,
                ref_path,
            ))
        }
        None => Ok((requester, join(path, ".requester"))),
    }
}

/// The prescription id (the long-form UUID), upper-cased.
pub fn prescription_id(mr: &MedicationRequest<'_>, path: &str) -> Result<String> {
    let gid_path = join(path, ".groupIdentifier");
    let gid = required(mr.group_identifier.as_ref(), gid_path.clone())?;
    let ext = required_extension(
        &gid.extension,
        PRESCRIPTION_ID_URL,
        &join(&gid_path, ".extension"),
    )?;
    let value = ext
        .value_identifier
        .as_ref()
        .and_then(|i| i.value.as_deref())
        .ok_or_else(|| missing(join(&gid_path, ".extension.valueIdentifier.value")))?;
    Ok(global_id(value))
}

/// The short-form prescription id (`groupIdentifier.value`).
pub fn short_form_id<'r>(mr: &'r MedicationRequest<'_>, path: &str) -> Result<&'r str> {
    let gid_path = join(path, ".groupIdentifier");
    let gid = required(mr.group_identifier.as_ref(), gid_path.clone())?;
    required(gid.value.as_deref(), join(&gid_path, ".value"))
}

/// The course of therapy shared by all MedicationRequests: one code, or a mix of acute and
/// continuous (treated as acute).
pub fn course_of_therapy<'r>(mrs: &[(usize, &'r MedicationRequest<'_>)]) -> Result<&'r str> {
    // Every coding's code over every MedicationRequest, whatever its system; a coding with no
    // code is a value of its own, as in the reference.
    let mut codes: Vec<Option<&str>> = Vec::new();
    for (_, mr) in mrs {
        for c in mr
            .course_of_therapy_type
            .iter()
            .flat_map(|cc| cc.coding.iter())
        {
            let code = c.code.as_deref();
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    let path = "Bundle.entry.resource.ofType(MedicationRequest).courseOfTherapyType.coding";
    match codes.as_slice() {
        [Some(one)] => Ok(one),
        [Some("acute"), Some("continuous")] | [Some("continuous"), Some("acute")] => Ok("acute"),
        [] | [None] => Err(missing(path)),
        _ => Err(invalid(
            path,
            "Course of therapy type must either match for all MedicationRequests or be a mixture of 'acute' and 'continuous'.",
        )),
    }
}

/// JavaScript's `Number(x) + 1` written back as text.
fn plus_one(number_text: &str, path: &str) -> Result<String> {
    let n: f64 = number_text
        .parse()
        .map_err(|_| invalid(path, format!("'{number_text}' is not a number")))?;
    let next = n + 1.0;
    if next.fract() == 0.0 && next.abs() < 1e21 {
        Ok(format!("{}", next as i128))
    } else {
        Ok(format!("{next}"))
    }
}

/// The repeat number's `high`, for repeat prescribing and repeat dispensing.
fn repeat_high(course: &str, mr: &MedicationRequest<'_>, path: &str) -> Result<Option<String>> {
    match course {
        "continuous" => Ok(Some("1".to_string())),
        "continuous-repeat-dispensing" => {
            let dispense_path = join(path, ".dispenseRequest.numberOfRepeatsAllowed");
            let dispense = mr
                .dispense_request
                .as_ref()
                .and_then(|d| d.number_of_repeats_allowed.as_ref())
                .ok_or_else(|| {
                    invalid(
                        dispense_path.clone(),
                        "Number of repeats allowed is required.",
                    )
                })?;
            let mut from_based_on = None;
            let exts: Vec<&Extension> = mr
                .based_on
                .iter()
                .flat_map(|b| b.extension.iter())
                .collect();
            let mut infos = exts.iter().filter(|e| e.url == EPS_REPEAT_INFORMATION_URL);
            if let Some(info) = infos.next() {
                if infos.next().is_some() {
                    return Err(invalid(
                        join(path, ".basedOn.extension"),
                        "Too many values submitted. Expected 1 element.",
                    ));
                }
                from_based_on = info
                    .extension
                    .iter()
                    .find(|e| e.url == "numberOfRepeatsAllowed")
                    .and_then(|e| e.value_integer.as_ref().or(e.value_unsigned_int.as_ref()));
            }
            let n = from_based_on.unwrap_or(dispense);
            plus_one(&n.text(), &dispense_path).map(Some)
        }
        _ => Ok(None),
    }
}

/// Builds `pertinentPrescription`.
pub fn build<'b, 'a: 'b>(input: &Input<'b, 'a>, warnings: &mut Vec<Issue>) -> Result<Built> {
    let mrs = input.medication_requests();
    let Some(&(first_index, mr0)) = mrs.first() else {
        return Err(crate::error::Rejection::at(
            crate::error::IssueCode::Invalid,
            "Bundle.entry",
            "Too few values submitted. Expected at least 1 element where resource.resourceType == 'MedicationRequest'.",
        ));
    };
    let path = entry_path(first_index);
    let course = course_of_therapy(&mrs)?;
    let treatment_type = lookup(Table::CourseOfTherapy, course).ok_or_else(|| {
        invalid(
            join(&path, ".courseOfTherapyType.coding"),
            format!("Unhandled course of therapy type code '{course}'."),
        )
    })?;

    let mut el = Element::new("pertinentPrescription")
        .attr("classCode", "SBADM")
        .attr("moodCode", "RQO")
        .child(Element::new("id").attr("root", prescription_id(mr0, &path)?))
        .child(id_element(
            "id",
            SHORT_FORM_ID_OID,
            short_form_id(mr0, &path)?.to_string(),
        ))
        .child(line_item::administration_code())
        .child(Element::new("effectiveTime").attr("nullFlavor", "NA"));
    let high = repeat_high(course, mr0, &path)?;
    if let Some(h) = &high {
        el.push(line_item::repeat_number(h));
    }
    if let Some(performer) = mr0
        .dispense_request
        .as_ref()
        .and_then(|d| d.performer.as_ref())
    {
        let ods = performer
            .identifier
            .as_ref()
            .and_then(|i| i.value.as_deref())
            .ok_or_else(|| missing(join(&path, ".dispenseRequest.performer.identifier.value")))?;
        let org = Element::new("agentOrganizationSDS")
            .attr("classCode", "ORG")
            .attr("determinerCode", "INSTANCE")
            .child(ods_id("id", ods));
        el.push(
            Element::new("performer")
                .attr("contextControlCode", "OP")
                .attr("typeCode", "PRF")
                .child(
                    Element::new("AgentOrgSDS")
                        .attr("classCode", "AGNT")
                        .child(org),
                ),
        );
    }

    let requester = required(mr0.requester.as_ref(), join(&path, ".requester"))?;
    let (author, author_time) = author(input, mr0, requester, &path, warnings)?;
    el.push(author);
    let (responsible_ref, responsible_path) = responsible_party_reference(mr0, requester, &path)?;
    el.push(
        Element::new("responsibleParty")
            .attr("contextControlCode", "OP")
            .attr("typeCode", "RESP")
            .child(agent_person(
                input,
                responsible_ref,
                &responsible_path,
                Role::ResponsibleParty,
            )?),
    );
    if course == "continuous-repeat-dispensing" {
        el.push(days_supply(mr0, &path)?);
    }
    if let Some(review) = review_date(input, mr0, &path, warnings)? {
        el.push(pertinent(
            "pertinentInformation7",
            false,
            observation(
                "pertinentReviewDate",
                "RD",
                Element::new("value").attr("value", review),
            ),
        ));
    }
    el.push(pertinent(
        "pertinentInformation5",
        false,
        observation(
            "pertinentPrescriptionTreatmentType",
            "PTT",
            code_element("value", treatment_type, TREATMENT_TYPE_OID),
        ),
    ));
    let dispense_exts = mr0
        .dispense_request
        .as_ref()
        .map(|d| d.extension.as_slice())
        .unwrap_or(&[]);
    let site = required_extension(
        dispense_exts,
        PERFORMER_SITE_TYPE_URL,
        &join(&path, ".dispenseRequest.extension"),
    )?;
    let site_code = code_of(
        required(
            site.value_coding.as_ref(),
            join(&path, ".dispenseRequest.extension.valueCoding"),
        )?,
        &join(&path, ".dispenseRequest.extension.valueCoding"),
    )?;
    el.push(pertinent(
        "pertinentInformation1",
        true,
        observation(
            "pertinentDispensingSitePreference",
            "DSP",
            code_element("value", site_code.to_string(), DISPENSING_SITE_OID),
        ),
    ));

    let shared = shared_instructions(input)?;
    let mut line_item_ids = Vec::with_capacity(mrs.len());
    for (n, &(index, mr)) in mrs.iter().enumerate() {
        let mr_path = entry_path(index);
        let item = line_item::line_item(
            input,
            mr,
            &mr_path,
            high.as_deref(),
            (n == 0).then_some(&shared),
        )?;
        line_item_ids.push(line_item::line_item_id(mr, &mr_path)?);
        el.push(
            Element::new("pertinentInformation2")
                .attr("contextConductionInd", "true")
                .attr("inversionInd", "false")
                .attr("negationInd", "false")
                .attr("typeCode", "PERT")
                .child(Element::new("seperatableInd").attr("value", "true"))
                .child(id_element(
                    "templateId",
                    TEMPLATE_OID,
                    "CSAB_RM-NPfITUK10.sourceOf2",
                ))
                .child(item),
        );
    }
    el.push(pertinent(
        "pertinentInformation8",
        false,
        observation(
            "pertinentTokenIssued",
            "TI",
            Element::new("value").attr("value", "false"),
        ),
    ));
    let prescription_type = required_extension(
        &mr0.extension,
        PRESCRIPTION_TYPE_URL,
        &join(&path, ".extension"),
    )?;
    let type_code = code_of(
        required(
            prescription_type.value_coding.as_ref(),
            join(&path, ".extension.valueCoding"),
        )?,
        &join(&path, ".extension.valueCoding"),
    )?;
    el.push(pertinent(
        "pertinentInformation4",
        false,
        observation(
            "pertinentPrescriptionType",
            "PT",
            code_element("value", type_code.to_string(), PRESCRIPTION_TYPE_OID),
        ),
    ));
    Ok(Built {
        element: el,
        line_item_ids,
        author_time,
    })
}

fn author<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    mr0: &'b MedicationRequest<'a>,
    requester: &'b Reference<'a>,
    path: &str,
    warnings: &mut Vec<Issue>,
) -> Result<(Element, String)> {
    let requester_ref = required(
        requester.reference.as_deref(),
        join(path, ".requester.reference"),
    )?;
    let _ = mr0;
    let found = signature::find(input, requester_ref, warnings)?;
    let time = match &found {
        Some(sig) => timestamp(sig.when, &sig.when_path)?,
        None => input.ctx.now.hl7(),
    };
    // A signature with a time and no data is taken as unsigned at that time (the form
    // `to-fhir` writes for an unsigned prescription, so its author time survives a round
    // trip; the reference refuses it: docs/deviations.md).
    let data = found
        .as_ref()
        .and_then(|sig| Some((sig.data?, sig.data_path.as_str())));
    // The signature the Bundle carries, or "none" (nullFlavor NA). `$prepare` leaves it out
    // of the tree, since it signs the message anew, but still refuses one that is unreadable.
    let signature_text = match (data, input.scope) {
        (Some((data, path)), Scope::Message) => {
            Some(Element::new("signatureText").child(signature::signature_xml(data, path)?))
        }
        (None, Scope::Message) => Some(Element::new("signatureText").attr("nullFlavor", "NA")),
        (Some((data, path)), Scope::SignedParts) => {
            signature::check_signature_xml(data, path)?;
            None
        }
        (None, Scope::SignedParts) => None,
    };
    let el = Element::new("author")
        .attr("contextControlCode", "OP")
        .attr("typeCode", "AUT")
        .child(Element::new("time").attr("value", time.clone()))
        .child_opt(signature_text)
        .child(agent_person(
            input,
            requester,
            &join(path, ".requester"),
            Role::Author,
        )?);
    Ok((el, time))
}

fn days_supply(mr: &MedicationRequest<'_>, path: &str) -> Result<Element> {
    let dr_path = join(path, ".dispenseRequest");
    let dr = required(mr.dispense_request.as_ref(), dr_path.clone())?;
    let validity = required(
        dr.validity_period.as_ref(),
        join(&dr_path, ".validityPeriod"),
    )?;
    let start_path = join(&dr_path, ".validityPeriod.start");
    let end_path = join(&dr_path, ".validityPeriod.end");
    let low = date(
        required(validity.start.as_deref(), start_path.clone())?,
        &start_path,
    )?;
    let high = date(
        required(validity.end.as_deref(), end_path.clone())?,
        &end_path,
    )?;
    let duration_path = join(&dr_path, ".expectedSupplyDuration");
    let duration = required(dr.expected_supply_duration.as_ref(), duration_path.clone())?;
    if duration.code.as_deref() != Some("d") {
        return Err(invalid(
            join(&duration_path, ".code"),
            "Expected supply duration must be specified in days.",
        ));
    }
    let days = required(duration.value.as_ref(), join(&duration_path, ".value"))?
        .text()
        .into_owned();
    let supply = Element::new("daysSupply")
        .attr("classCode", "SPLY")
        .attr("moodCode", "RQO")
        .child(line_item::dispensing_code())
        .child(
            Element::new("effectiveTime")
                .child(Element::new("low").attr("value", low))
                .child(Element::new("high").attr("value", high)),
        )
        .child(
            Element::new("expectedUseTime")
                .child(Element::new("width").attr("unit", "d").attr("value", days)),
        );
    Ok(Element::new("component1")
        .attr("typeCode", "COMP")
        .child(Element::new("seperatableInd").attr("value", "true"))
        .child(supply))
}

fn review_date(
    input: &Input<'_, '_>,
    mr: &MedicationRequest<'_>,
    path: &str,
    warnings: &mut Vec<Issue>,
) -> Result<Option<String>> {
    let ext_path = join(path, ".extension");
    let Some(info) = only_extension(&mr.extension, REPEAT_INFORMATION_URL, &ext_path)? else {
        return Ok(None);
    };
    let Some(expiry) = only_extension(
        &info.extension,
        "authorisationExpiryDate",
        &join(&ext_path, ".extension"),
    )?
    else {
        return Ok(None);
    };
    let value_path = join(&ext_path, ".extension.valueDateTime");
    let text = required(expiry.value_date_time.as_deref(), value_path.clone())?;
    let parsed = crate::datetime::parse_fhir(text).map_err(|e| invalid(value_path.clone(), e))?;
    let crate::datetime::FhirTime::Date(..) = parsed else {
        return Err(invalid(
            value_path,
            format!("Incorrect format for date string '{text}'."),
        ));
    };
    if parsed.hl7_timestamp() <= input.ctx.now.hl7() {
        // The reference's outputs accept a past date (its corpus was prepared after the
        // review dates passed), so this is a warning, not a refusal.
        warnings.push(Issue::warning(
            crate::error::IssueCode::Value,
            format!("authorisationExpiryDate '{text}' is not in the future"),
            Some(value_path),
        ));
    }
    Ok(Some(parsed.hl7_date()))
}

/// The CommunicationRequest payloads that become the first line item's instructions.
fn shared_instructions<'b, 'a: 'b>(input: &Input<'b, 'a>) -> Result<SharedInstructions<'b>> {
    let mut shared = SharedInstructions::default();
    let requests = input.all(|r| match r {
        Resource::CommunicationRequest(c) => Some(c),
        _ => None,
    });
    for &(index, cr) in &requests {
        // A payload item may carry both kinds of content: its text is patient information
        // and its List is medication, each read on its own.
        for (p, payload) in cr.payload.iter().enumerate() {
            let Some(reference) = &payload.content_reference else {
                continue;
            };
            let ref_path = format!("Bundle.entry[{index}].resource.payload[{p}].contentReference");
            let (_, list) = input.resolve_as(reference, &ref_path, "List", |r| match r {
                Resource::List(l) => Some(l),
                _ => None,
            })?;
            shared.medication.extend(
                list.entry
                    .iter()
                    .filter_map(|e| e.item.as_ref().and_then(|i| i.display.as_deref()))
                    .filter(|d| !d.is_empty()),
            );
        }
    }
    for &(_, cr) in &requests {
        shared.patient_info.extend(
            cr.payload
                .iter()
                .filter_map(|p| p.content_string.as_deref())
                .filter(|s| !s.is_empty()),
        );
    }
    Ok(shared)
}
