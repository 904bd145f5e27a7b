//! `dispense-notification` Bundle → `PORX_IN080101SM31` DispenseNotification: what the
//! dispenser supplied (or did not) against a released prescription.
//!
//! Each `MedicationDispense` is one supply of one line item; it carries the dispenser
//! (`performer` → a contained PractitionerRole) and the line item it fulfils
//! (`authorizingPrescription` → a contained MedicationRequest). Dispenses of the same line item
//! (a partial supply from several products) are one supplied line item with one quantity
//! component each. The first dispense gives the header: the dispenser, the prescription status,
//! the prescription's ids and the hand-over time. The payor is the reimbursement authority of
//! the dispensing Organization's ODS relationships extension. An amendment names the message
//! it replaces in a `replacementOf` MessageHeader extension. A dispense not made carries its
//! reason (`statusReasonCodeableConcept`). A repeat dispense carries the repeat numbers: the
//! header's from the EPS repeat information on `basedOn`, each line item's from its UK Core
//! repeat information and `numberOfRepeatsAllowed`.
//!
//! The author time is "now" (the context's), as the reference stamps it.

use super::common::*;
use super::dispenser::{self, Paths};
use super::line_item::{administration_code, dispensing_code, dosage_value};
use super::message::send_message;
use super::prescription::only_extension;
use super::supply::*;
use super::validation::{disagreement, resources_json, select};
use super::Input;
use crate::error::{Issue, IssueCode, Rejection};
use crate::fhir::*;
use crate::hl7v3::element::{code_element, id_element, Element};
use serde_json::Value;

pub const INTERACTION: &str = "PORX_IN080101SM31";
const DISPENSE_ITEM_NUMBER_SYSTEM: &str =
    "https://fhir.nhs.uk/Id/prescription-dispense-item-number";
const ORDER_ITEM_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/prescription-order-item-number";
const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const NHS_NUMBER_OID: &str = "2.16.840.1.113883.2.1.4.1";
const PRESCRIPTION_ID_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId";
const ORGANISATION_RELATIONSHIPS_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-ODS-OrganisationRelationships";
const NON_DISPENSING_REASON_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionNonDispensingReason";
const UK_CORE_REPEAT_INFORMATION_URL: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation";
const STATUS_REASON_SYSTEM: &str =
    "https://fhir.nhs.uk/CodeSystem/medicationdispense-status-reason";
const ROLE_PATH: &str = "MedicationDispense.contained(\"PractitionerRole\")";
const ORGANIZATION_PATH: &str = "Organization";

/// A dispense with its entry index and authorising MedicationRequest.
struct Dispense<'b, 'a> {
    index: usize,
    dispense: &'b MedicationDispense<'a>,
    request: &'b MedicationRequest<'a>,
}

fn path(index: usize) -> String {
    entry_path(index)
}

/// The contained resource a `#id` reference names.
fn contained<'b, 'a>(
    dispense: &'b MedicationDispense<'a>,
    reference: Option<&Reference<'_>>,
    path: &str,
) -> Result<&'b Resource<'a>> {
    let reference = required(reference.and_then(|r| r.reference.as_deref()), path)?;
    let id = reference.replacen('#', "", 1);
    dispense
        .contained
        .0
        .iter()
        .find(|r| match r {
            Resource::PractitionerRole(p) => p.id.as_deref() == Some(id.as_str()),
            Resource::MedicationRequest(m) => m.id.as_deref() == Some(id.as_str()),
            Resource::Organization(o) => o.id.as_deref() == Some(id.as_str()),
            _ => false,
        })
        .ok_or_else(|| {
            invalid(
                path,
                format!("Contained resource with reference {reference} not found"),
            )
        })
}

fn authorising_request<'b, 'a>(
    dispense: &'b MedicationDispense<'a>,
    base: &str,
) -> Result<&'b MedicationRequest<'a>> {
    let path = join(base, ".authorizingPrescription[0].reference");
    match contained(dispense, dispense.authorizing_prescription.first(), &path)? {
        Resource::MedicationRequest(m) => Ok(m),
        _ => Err(invalid(
            path,
            "Contained resource is not of type MedicationRequest",
        )),
    }
}

fn performer_role<'b, 'a>(
    dispense: &'b MedicationDispense<'a>,
    base: &str,
) -> Result<&'b PractitionerRole<'a>> {
    let path = join(base, ".performer[0].actor.reference");
    let actor = dispense.performer.first().and_then(|p| p.actor.as_ref());
    match contained(dispense, actor, &path)? {
        Resource::PractitionerRole(r) => Ok(r),
        _ => Err(invalid(
            path,
            "Contained resource is not of type PractitionerRole",
        )),
    }
}

/// The one SNOMED coding of the medication: its `medicationCodeableConcept`, else the
/// Medication entry its `medicationReference` names.
fn medication_coding<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    concept: Option<&'b CodeableConcept<'a>>,
    reference: Option<&'b Reference<'a>>,
    path: &str,
) -> Result<&'b Coding<'a>> {
    let (codings, codings_path): (&[Coding], String) = match concept {
        Some(cc) => (&cc.coding, join(path, ".medicationCodeableConcept.coding")),
        None => {
            let reference = required(reference, join(path, ".medication[x]"))?;
            let (index, medication) = input.resolve_as(
                reference,
                &join(path, ".medicationReference"),
                "Medication",
                |r| match r {
                    Resource::Medication(m) => Some(m),
                    _ => None,
                },
            )?;
            (
                medication
                    .code
                    .as_ref()
                    .map(|c| c.coding.as_slice())
                    .unwrap_or(&[]),
                format!("Bundle.entry[{index}].resource.code.coding"),
            )
        }
    };
    exactly_one_with_system(
        codings,
        |c| c.system.as_deref(),
        SNOMED_SYSTEM,
        &codings_path,
    )
}

/// `<code code=.. codeSystem=SNOMED displayName=..?/>`.
/// `<quantity unit="1" value=V><translation code=.. displayName=unit value=V/></quantity>`.
fn quantity(q: Option<&Quantity<'_>>, path: &str) -> Result<(Element, Element)> {
    let q = required(q, path)?;
    let value = required(q.value.as_ref(), join(path, ".value"))?
        .text()
        .into_owned();
    let code = required(q.code.as_deref(), join(path, ".code"))?;
    let unit = q.unit.as_deref();
    let translation = snomed("translation", code, unit).attr("value", value.clone());
    Ok((
        snomed("code", code, unit),
        Element::new("quantity")
            .attr("unit", "1")
            .attr("value", value)
            .child(translation),
    ))
}

/// One `component`: a quantity supplied of one product, with the dosage text.
fn supplied_quantity<'b, 'a: 'b>(input: &Input<'b, 'a>, d: &Dispense<'b, 'a>) -> Result<Element> {
    let base = path(d.index);
    let (_, amount) = quantity(d.dispense.quantity.as_ref(), &join(&base, ".quantity"))?;
    let coding = medication_coding(
        input,
        d.dispense.medication_codeable_concept.as_ref(),
        d.dispense.medication_reference.as_ref(),
        &base,
    )?;
    let code = code_of(coding, &join(&base, ".medicationCodeableConcept.coding"))?;
    let dosage = dosage_value(&d.dispense.dosage_instruction, &base)?;
    let product = Element::new("product")
        .attr("contextControlCode", "OP")
        .attr("typeCode", "PRD")
        .child(
            Element::new("suppliedManufacturedProduct")
                .attr("classCode", "MANU")
                .child(
                    Element::new("manufacturedSuppliedMaterial")
                        .attr("classCode", "MMAT")
                        .attr("determinerCode", "INSTANCE")
                        .child(snomed("code", code, coding.display.as_deref())),
                ),
        );
    let instructions = Element::new("pertinentInformation1")
        .attr("contextConductionInd", "true")
        .attr("typeCode", "PERT")
        .child(Element::new("seperatableInd").attr("value", "false"))
        .child(observation("pertinentSupplyInstructions", "SI", dosage));
    Ok(Element::new("component")
        .attr("typeCode", "COMP")
        .child(Element::new("seperatableInd").attr("value", "false"))
        .child(
            Element::new("suppliedLineItemQuantity")
                .attr("classCode", "SPLY")
                .attr("moodCode", "EVN")
                .child(dispensing_code())
                .child(amount)
                .child(product)
                .child(instructions),
        ))
}

/// The line item's order item number (the authorising MedicationRequest's), as an id.
fn order_item_id(d: &Dispense<'_, '_>) -> Result<String> {
    let path = "MedicationDispense.contained[0].identifier";
    identifier_value(
        present(&d.request.identifier, path)?,
        ORDER_ITEM_NUMBER_SYSTEM,
        path,
    )
    .map(global_id)
}

/// A `pertinentSuppliedLineItem` from the first dispense of its line item.
fn supplied_line_item<'b, 'a: 'b>(
    input: &Input<'b, 'a>,
    d: &Dispense<'b, 'a>,
    more: Vec<Element>,
) -> Result<Element> {
    let base = path(d.index);
    let status = exactly_one_with_system(
        d.dispense
            .type_
            .as_ref()
            .map(|t| t.coding.as_slice())
            .unwrap_or(&[]),
        |c| c.system.as_deref(),
        DISPENSE_TYPE_SYSTEM,
        "MedicationDispense.type.coding",
    )?;
    let item_number = identifier_value(
        &d.dispense.identifier,
        DISPENSE_ITEM_NUMBER_SYSTEM,
        "MedicationDispense.identifier",
    )?;
    let request_path = join(&base, ".contained(\"MedicationRequest\")");
    let requested = medication_coding(
        input,
        d.request.medication_codeable_concept.as_ref(),
        d.request.medication_reference.as_ref(),
        &request_path,
    )?;
    let requested_code = code_of(
        requested,
        &join(&request_path, ".medicationCodeableConcept.coding"),
    )?;
    let (request_code, request_amount) = quantity(
        d.request
            .dispense_request
            .as_ref()
            .and_then(|r| r.quantity.as_ref()),
        &join(&request_path, ".dispenseRequest.quantity"),
    )?;
    let mut el = Element::new("pertinentSuppliedLineItem")
        .attr("classCode", "SBADM")
        .attr("moodCode", "PRMS")
        .child(Element::new("id").attr("root", global_id(item_number)))
        .child(administration_code())
        .child(Element::new("effectiveTime").attr("nullFlavor", "NA"))
        .child_opt(line_item_repeat_number(d.request, &request_path)?)
        .child(
            Element::new("consumable")
                .attr("contextControlCode", "OP")
                .attr("typeCode", "CSM")
                .child(
                    Element::new("requestedManufacturedProduct")
                        .attr("classCode", "MANU")
                        .child(
                            Element::new("manufacturedRequestedMaterial")
                                .attr("classCode", "MMAT")
                                .attr("determinerCode", "KIND")
                                .child(snomed(
                                    "code",
                                    requested_code,
                                    requested.display.as_deref(),
                                )),
                        ),
                ),
        )
        .child(supplied_quantity(input, d)?);
    for component in more {
        el.push(component);
    }
    el.push(
        Element::new("component1")
            .attr("typeCode", "COMP")
            .child(Element::new("seperatableInd").attr("value", "false"))
            .child(
                Element::new("supplyRequest")
                    .attr("classCode", "SPLY")
                    .attr("moodCode", "RQO")
                    .child(request_code)
                    .child(request_amount),
            ),
    );
    let reasons = d
        .dispense
        .status_reason_codeable_concept
        .as_ref()
        .map(|c| c.coding.as_slice())
        .unwrap_or(&[]);
    if !reasons.is_empty() {
        let path = "MedicationDispense.statusReasonCodeableConcept.coding[0]";
        let reason =
            exactly_one_with_system(reasons, |c| c.system.as_deref(), STATUS_REASON_SYSTEM, path)?;
        el.push(non_dispensing_reason(
            code_of(reason, path)?,
            reason.display.as_deref(),
        ));
    }
    let status_code = code_of(status, "MedicationDispense.type.coding")?;
    el.push(
        Element::new("pertinentInformation3")
            .attr("contextConductionInd", "true")
            .attr("typeCode", "PERT")
            .child(Element::new("seperatableInd").attr("value", "false"))
            .child(observation(
                "pertinentItemStatus",
                "IS",
                code_element("value", status_code.to_string(), ITEM_STATUS_OID)
                    .attr_opt("displayName", status.display.as_deref().map(str::to_string)),
            )),
    );
    el.push(in_fulfillment_of("priorOriginalItemRef", order_item_id(d)?));
    Ok(el)
}

/// `pertinentInformation2`: a reason for not dispensing (code system `…4.16.31`).
fn non_dispensing_reason(code: &str, display: Option<&str>) -> Element {
    pertinent(
        "pertinentInformation2",
        false,
        observation(
            "pertinentNonDispensingReason",
            "NDR",
            code_element("value", code.to_string(), NON_DISPENSING_REASON_OID)
                .attr_opt("displayName", display.map(str::to_string)),
        ),
    )
}

/// The prescription's non-dispensing reason: when every dispense carries the extension, their
/// one code (with the first's display); dispenses that disagree are refused. None when any
/// dispense lacks it.
fn header_non_dispensing_reason<'b, 'a>(dispenses: &[Dispense<'b, 'a>]) -> Result<Option<Element>> {
    let of = |d: &Dispense<'b, 'a>| -> Vec<&'b Extension<'a>> {
        d.dispense
            .extension
            .iter()
            .filter(|e| e.url == NON_DISPENSING_REASON_URL)
            .collect::<Vec<_>>()
    };
    if dispenses.iter().any(|d| of(d).is_empty()) {
        return Ok(None);
    }
    let path = "MedicationDispense.extension:prescriptionNonDispensingReason";
    let reasons: Vec<_> = dispenses.iter().flat_map(of).collect();
    let mut codings = Vec::with_capacity(reasons.len());
    for r in &reasons {
        codings.push(required(r.value_coding.as_deref(), path)?);
    }
    let first = codings[0];
    if codings.iter().any(|c| c.code != first.code) {
        return Err(invalid(
            path,
            "Expected all MedicationDispenses to have the same value for MedicationDispense.extension:prescriptionNonDispensingReason",
        ));
    }
    let code = code_of(first, path)?;
    Ok(Some(non_dispensing_reason(code, first.display.as_deref())))
}

/// `<repeatNumber><low/><high/></repeatNumber>`.
fn repeat_interval(low: &str, high: &str) -> Element {
    Element::new("repeatNumber")
        .child(Element::new("low").attr("value", low.to_string()))
        .child(Element::new("high").attr("value", high.to_string()))
}

/// The supply header's repeat number, from the EPS repeat information on the first dispense's
/// MedicationRequest's `basedOn[0]` (`supply::repeat_number`). None without that extension.
fn header_repeat_number(request: &MedicationRequest<'_>) -> Result<Option<Element>> {
    let Some(based_on) = request.based_on.first() else {
        return Ok(None);
    };
    let at = "MedicationDispense.contained.MedicationRequest.basedOn.extension";
    only_extension(&based_on.extension, REPEAT_INFORMATION_URL, at)?
        .map(|info| repeat_number(info, at))
        .transpose()
}

/// A line item's repeat number, when its MedicationRequest's UK Core repeat information has
/// `numberOfPrescriptionsIssued`: that number (as written) of the repeats allowed
/// (`dispenseRequest.numberOfRepeatsAllowed` + 1).
fn line_item_repeat_number(
    request: &MedicationRequest<'_>,
    request_path: &str,
) -> Result<Option<Element>> {
    let Some(info) = only_extension(
        &request.extension,
        UK_CORE_REPEAT_INFORMATION_URL,
        "MedicationDispense.contained.MedicationRequest.extension",
    )?
    else {
        return Ok(None);
    };
    let Some(issued) = only_extension(
        &info.extension,
        "numberOfPrescriptionsIssued",
        &format!("MedicationDispense.contained.MedicationRequest.extension(\"{UK_CORE_REPEAT_INFORMATION_URL}\").extension"),
    )?
    else {
        return Ok(None);
    };
    let issued_path = format!(
        "{request_path}.extension(\"{UK_CORE_REPEAT_INFORMATION_URL}\").extension(\"numberOfPrescriptionsIssued\").valueUnsignedInt"
    );
    let low = issued
        .value_unsigned_int
        .as_ref()
        .ok_or_else(|| missing(&issued_path))?
        .text();
    let allowed_path = join(request_path, ".dispenseRequest.numberOfRepeatsAllowed");
    let allowed = request
        .dispense_request
        .as_ref()
        .and_then(|r| r.number_of_repeats_allowed.as_ref())
        .ok_or_else(|| missing(&allowed_path))?;
    let high = js_number_text(js_parse_int(&allowed.text()) + 1.0);
    Ok(Some(repeat_interval(&low, &high)))
}

/// The reference's checks of a dispense-notification Bundle, before anything is translated:
/// the dispenses agree on the hand-over time, the NHS number, the EPS repeat information and
/// the performer (each actor of every dispense one value); each has a performer; none has
/// both a `medicationReference` and a `medicationCodeableConcept`; the first dispense's
/// PractitionerRole does not name its practitioner by reference; and the dispensing
/// Organization has a reimbursement authority with an ODS code. Every failing check is an
/// issue of one refusal, in that order. A PractitionerRole or Organization that cannot be
/// found ends the checks with that one error, as it ends the reference's.
fn verify(input: &Input<'_, '_>, dispenses: &[(usize, &MedicationDispense<'_>)]) -> Result<()> {
    let Some((first_index, first)) = dispenses.first() else {
        return Ok(());
    };
    let mut issues = super::validation::common_issues(input)?;
    let raw: Value = serde_json::from_str(input.text).unwrap_or(Value::Null);
    let json = resources_json(&raw, "MedicationDispense");
    let repeat_information = format!("extension(\"{REPEAT_INFORMATION_URL}\")");
    for at in [
        "whenHandedOver",
        "subject.identifier.value",
        repeat_information.as_str(),
    ] {
        issues.extend(disagreement("MedicationDispense", at, select(&json, at)));
    }
    let actors = json
        .iter()
        .filter_map(|d| d.get("performer").and_then(Value::as_array))
        .flatten()
        .map(|p| p.get("actor"))
        .collect();
    issues.extend(disagreement("MedicationDispense", "performer", actors));
    if dispenses.iter().any(|(_, d)| d.performer.is_empty()) {
        issues.push(Issue::error(
            IssueCode::Value,
            "Expected MedicationDispense to have a value for performer.ofType(PractitionerRole).",
            Some(
                "Bundle.entry.resource.ofType(MedicationDispense).performer.ofType(PractitionerRole)"
                    .to_string(),
            ),
        ));
    }
    if let Some((index, _)) = dispenses
        .iter()
        .find(|(_, d)| d.medication_reference.is_some() && d.medication_codeable_concept.is_some())
    {
        issues.push(Issue::error(
            IssueCode::Structure,
            "MedicationDispense cannot contain both medicationReference and medicationCodeableConcept fields.",
            Some(join(&path(*index), ".medication[x]")),
        ));
    }
    let first_path = path(*first_index);
    let role = performer_role(first, &first_path)?;
    if role.practitioner.as_ref().is_some_and(is_literal) {
        issues.push(Issue::error(
            IssueCode::Invalid,
            "Bundle.entry(\"PractitionerRole\").practitioner populated incorrectly. Please populate with Identifier and Display.",
            Some(join(&first_path, ".contained(\"PractitionerRole\").practitioner")),
        ));
    }
    let (_, org) = dispensing_organization(input, role)?;
    if let Err(refusal) = reimbursement_authority(org) {
        if refusal
            .issues
            .iter()
            .any(|i| i.diagnostics.starts_with("Too many values submitted"))
        {
            return Err(refusal);
        }
        issues.extend(refusal.issues);
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(Rejection { issues })
    }
}

/// The dispensing Organization: the entry the PractitionerRole's `organization` names.
fn dispensing_organization<'b, 'a>(
    input: &Input<'b, 'a>,
    role: &PractitionerRole<'_>,
) -> Result<(usize, &'b Organization<'a>)> {
    let org_reference = required(role.organization.as_ref(), join(ROLE_PATH, ".organization"))?;
    if !is_literal(org_reference) {
        return Err(invalid(
            "resource(\"MedicationDispense\").contained(\"organization\")",
            "fhirContainedPractitionerRole.organization should be a Reference",
        ));
    }
    input.resolve_as(
        org_reference,
        &join(ROLE_PATH, ".organization"),
        "Organization",
        |r| match r {
            Resource::Organization(o) => Some(o),
            _ => None,
        },
    )
}

/// Builds the send message of a dispense-notification Bundle.
pub fn translate(input: &Input<'_, '_>) -> Result<super::Translated> {
    let bundle = input.bundle;
    let message_id = identifier_value(
        bundle.identifier.as_slice(),
        RFC4122_SYSTEM,
        "Bundle.identifier",
    )?;
    let (_, header) = input.message_header()?;
    let found = input.all(|r| match r {
        Resource::MedicationDispense(d) => Some(&**d),
        _ => None,
    });
    verify(input, &found)?;
    let mut dispenses = Vec::new();
    for (index, dispense) in found {
        let request = authorising_request(dispense, &path(index))?;
        dispenses.push(Dispense {
            index,
            dispense,
            request,
        });
    }
    let first = dispenses.first().ok_or_else(|| {
        invalid(
            "Bundle.entry",
            "Too few values submitted. Expected at least 1 element where resource.resourceType == 'MedicationDispense'.",
        )
    })?;
    let first_path = path(first.index);
    let role = performer_role(first.dispense, &first_path)?;
    let (org_index, org) = dispensing_organization(input, role)?;
    let org_path = entry_path(org_index);
    let payor = payor(org)?;

    // The patient: a Patient entry's NHS number, else the first dispense's subject.
    let nhs_number = match input
        .all(|r| match r {
            Resource::Patient(p) => Some(p),
            _ => None,
        })
        .first()
    {
        Some((i, p)) => {
            let at = join(&entry_path(*i), ".identifier");
            let mut numbers = p
                .identifier
                .iter()
                .filter(|id| id.system.as_deref() == Some(NHS_NUMBER_SYSTEM));
            let number = numbers.next();
            if numbers.next().is_some() {
                return Err(invalid(
                    at,
                    format!("Too many values submitted. Expected at most 1 element where system == '{NHS_NUMBER_SYSTEM}'."),
                ));
            }
            // The message needs the patient's NHS number: a Patient without one is refused.
            required(
                number.and_then(|id| id.value.as_deref()),
                format!("{at}.where(system = '{NHS_NUMBER_SYSTEM}').value"),
            )?
        }
        None => required(
            first
                .dispense
                .subject
                .as_ref()
                .and_then(|s| s.identifier.as_ref())
                .and_then(|i| i.value.as_deref()),
            join(&first_path, ".subject.identifier.value"),
        )?,
    };
    let handed_over = required_timestamp(
        first.dispense.when_handed_over.as_deref(),
        "MedicationDispense.whenHandedOver",
    )?;

    // Line items: one per authorising line item, in the order first dispensed; a later
    // dispense of the same line item adds its quantity to the first one's.
    let mut groups: Vec<(Option<String>, &Dispense, Vec<Element>)> = Vec::new();
    for d in &dispenses {
        let key = d
            .request
            .identifier
            .first()
            .and_then(|i| i.value.as_deref())
            .map(str::to_uppercase);
        match groups
            .iter_mut()
            .find(|(id, _, _)| id.is_some() && *id == key)
        {
            Some(group) => group.2.push(supplied_quantity(input, d)?),
            None => {
                let id = Some(order_item_id(d)?);
                groups.push((id, d, Vec::new()));
            }
        }
    }
    let mut items = Vec::with_capacity(groups.len());
    for (_, d, more) in groups {
        items.push(supplied_line_item(input, d, more)?);
    }

    let author = Element::new("author")
        .attr("contextControlCode", "OP")
        .attr("typeCode", "AUT")
        .child(Element::new("time").attr("value", input.ctx.now.hl7()))
        .child(Element::new("signatureText").attr("nullFlavor", "NA"))
        .child(dispenser::agent_person(
            role,
            org,
            &Paths {
                role: ROLE_PATH,
                organization: if org_path.is_empty() {
                    ORGANIZATION_PATH
                } else {
                    &org_path
                },
            },
        )?);
    let request = first.request;
    let group = required(
        request.group_identifier.as_ref(),
        "MedicationRequest.groupIdentifier",
    )?;
    let short_form = required(
        group.value.as_deref(),
        "MedicationRequest.groupIdentifier.value",
    )?;
    let long_form = exactly_one_extension(
        &group.extension,
        PRESCRIPTION_ID_URL,
        "MedicationRequest.groupIdentifier.extension.valueIdentifier",
    )?
    .value_identifier
    .as_ref()
    .and_then(|i| i.value.as_deref());
    let long_form = required(
        long_form,
        "MedicationRequest.groupIdentifier.extension.valueIdentifier",
    )?;
    let business_status = exactly_one_extension(
        present(&first.dispense.extension, "MedicationDispense.extension")?,
        BUSINESS_STATUS_URL,
        "MedicationDispense.extension",
    )?
    .value_coding
    .as_deref();
    let business_status = required(business_status, "MedicationDispense.extension")?;
    let status_code = code_of(business_status, "MedicationDispense.extension")?;

    let mut supply_header = Element::new("pertinentSupplyHeader")
        .attr("classCode", "SBADM")
        .attr("moodCode", "EVN")
        .child(Element::new("id").attr("root", global_id(message_id)))
        .child(code_element("code", "225426007", SNOMED_OID))
        .child(Element::new("effectiveTime").attr("nullFlavor", "NA"))
        .child_opt(header_repeat_number(first.request)?)
        .child(author);
    for item in items {
        supply_header.push(
            Element::new("pertinentInformation1")
                .attr("contextConductionInd", "true")
                .attr("inversionInd", "false")
                .attr("negationInd", "false")
                .attr("typeCode", "PERT")
                .child(Element::new("seperatableInd").attr("value", "false"))
                .child(template("CSAB_RM-NPfITUK10.sourceOf2"))
                .child(item),
        );
    }
    if let Some(reason) = header_non_dispensing_reason(&dispenses)? {
        supply_header.push(reason);
    }
    supply_header.push(pertinent(
        "pertinentInformation3",
        false,
        observation(
            "pertinentPrescriptionStatus",
            "PS",
            code_element("value", status_code.to_string(), PRESCRIPTION_STATUS_OID).attr_opt(
                "displayName",
                business_status.display.as_deref().map(str::to_string),
            ),
        ),
    ));
    supply_header.push(pertinent(
        "pertinentInformation4",
        false,
        observation(
            "pertinentPrescriptionID",
            "PID",
            Element::new("value")
                .attr("extension", short_form.to_string())
                .attr("root", PRESCRIPTION_ID_OID),
        ),
    ));
    supply_header.push(in_fulfillment_of(
        "priorOriginalPrescriptionRef",
        global_id(long_form),
    ));

    let mut category = Element::new("pertinentCareRecordElementCategory")
        .attr("classCode", "CATEGORY")
        .attr("moodCode", "EVN")
        .child(code_element("code", "185361000000102", SNOMED_OID).attr(
            "displayName",
            "Medication - care record element (record artifact)",
        ));
    for d in &dispenses {
        let id = identifier_value(
            &d.dispense.identifier,
            DISPENSE_ITEM_NUMBER_SYSTEM,
            "MedicationDispense.identifier",
        )?;
        category.push(
            Element::new("component").attr("typeCode", "COMP").child(
                Element::new("actRef")
                    .attr("classCode", "SBADM")
                    .attr("moodCode", "PRMS")
                    .child(Element::new("id").attr("root", global_id(id))),
            ),
        );
    }

    let mut notification = Element::new("DispenseNotification")
        .attr("classCode", "INFO")
        .attr("moodCode", "EVN")
        .child(Element::new("id").attr("root", global_id(message_id)))
        .child(code_element("code", "163541000000107", SNOMED_OID).attr(
            "displayName",
            "Dispensed Medication - FocusActOrEvent (administrative concept)",
        ))
        .child(Element::new("effectiveTime").attr("value", handed_over))
        .child(id_element("typeId", TYPE_ID_OID, "PORX_MT024001UK31"))
        .child(
            Element::new("recordTarget").attr("typeCode", "RCT").child(
                Element::new("patient")
                    .attr("classCode", "PAT")
                    .child(id_element("id", NHS_NUMBER_OID, nhs_number.to_string())),
            ),
        )
        .child(
            Element::new("primaryInformationRecipient")
                .attr("contextControlCode", "ON")
                .attr("typeCode", "PRCP")
                .child(
                    Element::new("AgentOrg")
                        .attr("classCode", "AGNT")
                        .child(payor),
                ),
        )
        .child(
            Element::new("pertinentInformation1")
                .attr("contextConductionInd", "true")
                .attr("typeCode", "PERT")
                .child(template("CSAB_RM-NPfITUK10.pertinentInformation"))
                .child(supply_header),
        )
        .child(
            Element::new("pertinentInformation2")
                .attr("typeCode", "PERT")
                .child(template("CSAB_RM-NPfITUK10.pertinentInformation1"))
                .child(category),
        );
    let replaced = only_extension(
        &header.extension,
        REPLACEMENT_OF_URL,
        "MessageHeader.extension",
    )?;
    if let Some(ext) = replaced {
        notification.push(replacement_of(ext, "MessageHeader.extension")?);
    }
    let release_id = required(
        header
            .response
            .as_ref()
            .and_then(|r| r.identifier.as_deref()),
        "MessageHeader.response.identifier",
    )?;
    notification.push(
        Element::new("sequelTo").attr("typeCode", "SEQL").child(
            Element::new("priorPrescriptionReleaseEventRef")
                .attr("classCode", "INFO")
                .attr("moodCode", "RQO")
                .child(Element::new("id").attr("root", global_id(release_id))),
        ),
    );
    let wrapper_id = match &input.ctx.message_id {
        Some(id) => id.clone(),
        None => global_id(message_id),
    };
    Ok(super::Translated {
        root: send_message(INTERACTION, &wrapper_id, input.ctx, notification),
        issues: Vec::new(),
    })
}

/// The payor: the reimbursement authority the dispensing Organization's ODS relationships
/// extension names, with the unspecified organisation type.
fn payor(org: &Organization<'_>) -> Result<Element> {
    let authority = reimbursement_authority(org)?;
    let mut el = Element::new("agentOrganization")
        .attr("classCode", "ORG")
        .attr("determinerCode", "INSTANCE");
    if let Some(code) = authority
        .value_identifier
        .as_ref()
        .and_then(|i| i.value.as_deref())
        .filter(|v| !v.is_empty())
    {
        el.push(ods_id("id", code));
    }
    Ok(el.child(code_element(
        "code",
        super::agent_person::ORGANISATION_TYPE_CODE,
        super::agent_person::ORGANISATION_TYPE_OID,
    )))
}

/// The `reimbursementAuthority` of the Organization's ODS relationships extension.
fn reimbursement_authority<'o, 'a>(org: &'o Organization<'a>) -> Result<&'o Extension<'a>> {
    let relationships = only_extension(
        &org.extension,
        ORGANISATION_RELATIONSHIPS_URL,
        "Organization.extension",
    )?
    .ok_or_else(|| {
            invalid(
                "Organization.extension",
                "The dispense notification is missing the reimbursement authority and it should be provided.",
            )
        })?;
    only_extension(
        &relationships.extension,
        "reimbursementAuthority",
        "Organization.extension[0].extension[0]",
    )?
    .ok_or_else(|| {
            invalid(
                "Organization.extension[0].extension[0]",
                "The dispense notification is missing the ODS code for reimbursement authority and it should be provided.",
            )
        })
}
