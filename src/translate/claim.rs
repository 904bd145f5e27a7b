//! `Claim` → `PORX_IN090101SM31` DispenseClaim: a dispenser's claim for reimbursement of one
//! prescription, or (with the `replacementOf` extension) an amendment of an earlier claim; a
//! repeat dispensing claim (EPS repeat information) carries the repeat numbers of the supply
//! header and of each line item. Element order and content follow the reference coordinator's dispense-claim translation.

use super::agent_person::{SDS_ROLE_PROFILE_SYSTEM, SDS_USER_SYSTEM};
use super::common::*;
use super::dispenser::{self, Paths};
use super::message::send_message;
use super::supply::*;
use crate::context::Context;
use crate::error::{Issue, IssueCode, Rejection};
use crate::fhir::*;
use crate::hl7v3::element::{code_element, id_element, Element};

pub const INTERACTION: &str = "PORX_IN090101SM31";

const NON_DISPENSING_REASON_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-TaskBusinessStatusReason";
const SEQUENCE_IDENTIFIER_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-ClaimSequenceIdentifier";
const MEDICATION_REQUEST_REFERENCE_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-ClaimMedicationRequestReference";
const GROUP_IDENTIFIER_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-DM-GroupIdentifier";
const CHARGE_EXEMPTION_SYSTEM: &str =
    "https://fhir.nhs.uk/CodeSystem/prescription-charge-exemption";
const EXEMPTION_EVIDENCE_SYSTEM: &str = "https://fhir.nhs.uk/CodeSystem/DM-exemption-evidence";
const CHARGE_SYSTEM: &str = "https://fhir.nhs.uk/CodeSystem/DM-prescription-charge";
const ENDORSEMENT_SYSTEM: &str = "https://fhir.nhs.uk/CodeSystem/medicationdispense-endorsement";

const CHARGE_EXEMPTION_OID: &str = "2.16.840.1.113883.2.1.3.2.4.16.33";
const ENDORSEMENT_OID: &str = "2.16.840.1.113883.2.1.3.2.4.16.29";
/// The release the claim follows is not named in a Claim: the reference writes this fixed id.
const UNKNOWN_RELEASE_ID: &str = "ffffffff-ffff-4fff-bfff-ffffffffffff";

/// The reimbursement authorities a claim may be sent to.
const REIMBURSEMENT_AUTHORITIES: [&str; 2] = ["T1450", "RQFZ1"];

const ROLE_PATH: &str = "Claim.contained(\"PractitionerRole\")";
const ORGANIZATION_PATH: &str = "Claim.contained(\"Organization\")";

/// The one extension with `url`, if any: two are refused, as the reference refuses them.
fn extension<'e, 'a>(
    list: &'e [Extension<'a>],
    url: &str,
    path: &str,
) -> Result<Option<&'e Extension<'a>>> {
    super::prescription::only_extension(list, url, path)
}

/// Exactly one extension with `url`; an absent list is a missing field.
fn required_extension<'e, 'a>(
    list: &'e Array<Extension<'a>>,
    url: &str,
    path: &str,
) -> Result<&'e Extension<'a>> {
    exactly_one_extension(present(list, path)?, url, path)
}

/// The codings of a system among a list of codeable concepts.
fn codings_for_system<'c, 'a>(
    concepts: &'c [CodeableConcept<'a>],
    system: &'c str,
) -> impl Iterator<Item = &'c Coding<'a>> {
    concepts
        .iter()
        .flat_map(|c| c.coding.iter())
        .filter(move |c| c.system.as_deref() == Some(system))
}

/// The one coding of a system among the concepts, if any (two are refused).
fn coding_for_system<'c, 'a>(
    concepts: &'c [CodeableConcept<'a>],
    system: &'c str,
    path: &str,
) -> Result<Option<&'c Coding<'a>>> {
    let mut hits = codings_for_system(concepts, system);
    let first = hits.next();
    if hits.next().is_some() {
        return Err(invalid(
            format!("{path}.coding"),
            format!(
                "Too many values submitted. Expected at most 1 element where system == '{system}'."
            ),
        ));
    }
    Ok(first)
}

/// Exactly one coding of a system among the concepts.
fn required_coding<'c, 'a>(
    concepts: &'c [CodeableConcept<'a>],
    system: &'c str,
    path: &str,
) -> Result<&'c Coding<'a>> {
    exactly_one(
        codings_for_system(concepts, system),
        &format!("system == '{system}'"),
        &format!("{path}.coding"),
    )
}

/// The contained resource a `#id` reference names.
fn contained<'c, 'a, T>(
    claim: &'c Claim<'a>,
    reference: &str,
    type_name: &str,
    pick: impl Fn(&'c Resource<'a>) -> Option<&'c T>,
) -> Result<&'c T> {
    let id = reference.replacen('#', "", 1);
    let found = claim
        .contained
        .0
        .iter()
        .find(|r| match r {
            Resource::PractitionerRole(r) => r.id.as_deref() == Some(id.as_str()),
            Resource::Organization(o) => o.id.as_deref() == Some(id.as_str()),
            Resource::Other(_, other) => other.as_deref() == Some(id.as_str()),
            _ => false,
        })
        .ok_or_else(|| {
            invalid(
                "Claim.contained",
                format!("Contained resource with reference {reference} not found"),
            )
        })?;
    pick(found).ok_or_else(|| {
        invalid(
            "Claim.contained",
            format!("Contained resource with reference {reference} is not of type {type_name}"),
        )
    })
}

/// A pertinent observation under `name` with the reference's context conduction.
fn pertinent_obs(name: &'static str, separable: bool, child: Element) -> Element {
    Element::new(name)
        .attr("contextConductionInd", "true")
        .attr("typeCode", "PERT")
        .child(
            Element::new("seperatableInd").attr("value", if separable { "true" } else { "false" }),
        )
        .child(child)
}

fn non_dispensing_reason(list: &[Extension<'_>], path: &str) -> Result<Option<Element>> {
    let Some(ext) = extension(list, NON_DISPENSING_REASON_URL, path)? else {
        return Ok(None);
    };
    let coding = required(ext.value_coding.as_deref(), join(path, ".valueCoding"))?;
    let code = code_of(coding, path)?;
    Ok(Some(pertinent_obs(
        "pertinentInformation2",
        false,
        observation(
            "pertinentNonDispensingReason",
            "NDR",
            code_element("value", code.to_string(), NON_DISPENSING_REASON_OID)
                .attr_opt("displayName", coding.display.as_deref().map(str::to_string)),
        ),
    )))
}

/// A repeat number from the EPS repeat information in `list`, when there is one.
fn repeat_number(list: &[Extension<'_>], path: &str) -> Result<Option<Element>> {
    extension(list, REPEAT_INFORMATION_URL, path)?
        .map(|info| super::supply::repeat_number(info, path))
        .transpose()
}

/// One `component`: a quantity of one product, the charge paid and the endorsements.
fn component(detail: &ClaimDetail<'_>, sub: &ClaimSubDetail<'_>) -> Result<Element> {
    let path = "Claim.item.detail.subDetail";
    let q = required(sub.quantity.as_ref(), join(path, ".quantity"))?;
    let value = required(q.value.as_ref(), join(path, ".quantity.value"))?
        .text()
        .into_owned();
    let unit_code = required(q.code.as_deref(), join(path, ".quantity.code"))?;
    let quantity = Element::new("quantity")
        .attr("unit", "1")
        .attr("value", value.clone())
        .child(snomed("translation", unit_code, q.unit.as_deref()).attr("value", value));
    let product_path = "Claim.item.detail.subDetail.productOrService";
    let product = required(sub.product_or_service.as_ref(), product_path)?;
    let coding = required_coding(std::slice::from_ref(product), SNOMED_SYSTEM, product_path)?;
    let code = code_of(coding, product_path)?;
    let product = Element::new("product")
        .attr("contextControlCode", "OP")
        .attr("typeCode", "PRD")
        .child(
            Element::new("suppliedManufacturedProduct")
                .attr("classCode", "MANU")
                .child(
                    Element::new("manufacturedSuppliedMaterial")
                        .attr("classCode", "MMAT")
                        .attr("determinerCode", "KIND")
                        .child(snomed("code", code, coding.display.as_deref())),
                ),
        );
    let charge_path = "Claim.item.detail.programCode";
    let paid = match required_coding(&detail.program_code, CHARGE_SYSTEM, charge_path)?
        .code
        .as_deref()
    {
        Some("paid-once" | "paid-twice") => "true",
        Some("not-paid") => "false",
        _ => return Err(invalid(charge_path, "Unsupported prescription charge code")),
    };
    let mut el = Element::new("suppliedLineItemQuantity")
        .attr("classCode", "SPLY")
        .attr("moodCode", "EVN")
        .child(super::line_item::dispensing_code())
        .child(quantity)
        .child(product)
        .child(pertinent_obs(
            "pertinentInformation1",
            false,
            observation(
                "pertinentChargePayment",
                "CP",
                Element::new("value").attr("value", paid),
            ),
        ));
    for concept in &detail.program_code {
        let Some(endorsement) = concept
            .coding
            .iter()
            .find(|c| c.system.as_deref() == Some(ENDORSEMENT_SYSTEM))
        else {
            continue;
        };
        let code = code_of(endorsement, charge_path)?;
        let mut obs = Element::new("pertinentDispensingEndorsement")
            .attr("classCode", "OBS")
            .attr("moodCode", "EVN")
            .child(code_element("code", "DE", EPS_OBSERVATION_OID));
        if let Some(text) = concept.text.as_deref().filter(|t| !t.is_empty()) {
            obs.push(Element::new("text").text(text.to_string()));
        }
        obs.push(code_element("value", code.to_string(), ENDORSEMENT_OID));
        el.push(pertinent_obs("pertinentInformation2", true, obs));
    }
    Ok(Element::new("component")
        .attr("typeCode", "COMP")
        .child(Element::new("seperatableInd").attr("value", "false"))
        .child(el))
}

/// One `pertinentSuppliedLineItem`: the line item's claim sequence id, its repeat number, its
/// quantities, status and the prescription line item it fulfils. The repeat information is the
/// line item's own when the claim's item carries one (`item_repeat`); otherwise that of the
/// line item's first quantity (`subDetail[0]`), where claims have carried it.
fn supplied_line_item(detail: &ClaimDetail<'_>, item_repeat: bool) -> Result<Element> {
    let ext_path = "Claim.item.detail.extension";
    let sequence = required_extension(&detail.extension, SEQUENCE_IDENTIFIER_URL, ext_path)?;
    let sequence = required(
        sequence
            .value_identifier
            .as_ref()
            .and_then(|i| i.value.as_deref()),
        ext_path,
    )?;
    let mut item = Element::new("pertinentSuppliedLineItem")
        .attr("classCode", "SBADM")
        .attr("moodCode", "PRMS")
        .child(Element::new("id").attr("root", global_id(sequence)))
        .child(snomed(
            "code",
            "225426007",
            Some("Administration of therapeutic substance (procedure)"),
        ))
        .child(Element::new("effectiveTime").attr("nullFlavor", "NA"));
    let repeat = if item_repeat {
        repeat_number(&detail.extension, ext_path)?
    } else if let Some(first) = detail.sub_detail.first() {
        repeat_number(&first.extension, ext_path)?
    } else {
        None
    };
    if let Some(repeat) = repeat {
        item.push(repeat);
    }
    for sub in &detail.sub_detail {
        item.push(component(detail, sub)?);
    }
    if let Some(reason) = non_dispensing_reason(&detail.extension, ext_path)? {
        item.push(reason);
    }
    let modifier_path = "Claim.item.detail.modifier";
    let status = required_coding(
        present(&detail.modifier, modifier_path)?,
        DISPENSE_TYPE_SYSTEM,
        modifier_path,
    )?;
    let status_code = code_of(status, modifier_path)?;
    item.push(pertinent_obs(
        "pertinentInformation3",
        false,
        observation(
            "pertinentItemStatus",
            "IS",
            code_element("value", status_code.to_string(), ITEM_STATUS_OID)
                .attr_opt("displayName", status.display.as_deref().map(str::to_string)),
        ),
    ));
    let request = required_extension(
        &detail.extension,
        MEDICATION_REQUEST_REFERENCE_URL,
        ext_path,
    )?;
    let request_id = required(
        request
            .value_reference
            .as_ref()
            .and_then(|r| r.identifier.as_ref())
            .and_then(|i| i.value.as_deref()),
        ext_path,
    )?;
    item.push(in_fulfillment_of(
        "priorOriginalItemRef",
        global_id(request_id),
    ));
    Ok(Element::new("pertinentInformation1")
        .attr("contextConductionInd", "true")
        .attr("inversionInd", "false")
        .attr("negationInd", "false")
        .attr("typeCode", "PERT")
        .child(Element::new("seperatableInd").attr("value", "false"))
        .child(template("CSAB_RM-NPfITUK10.sourceOf2"))
        .child(item))
}

/// One of the prescription ids (`shortForm`, `UUID`) in `Claim.prescription`'s group
/// identifier extension.
fn prescription_id<'c>(claim: &'c Claim<'_>, part: &str) -> Result<&'c str> {
    let prescription = required(claim.prescription.as_ref(), "Claim.prescription")?;
    let group = required_extension(
        &prescription.extension,
        GROUP_IDENTIFIER_URL,
        "Claim.prescription.extension",
    )?;
    let path = "Claim.prescription.extension(\"https://fhir.nhs.uk/StructureDefinition/Extension-DM-GroupIdentifier\").extension";
    let ext = required_extension(&group.extension, part, path)?;
    required(
        ext.value_identifier
            .as_ref()
            .and_then(|i| i.value.as_deref()),
        path,
    )
}

/// The dispenser's PractitionerRole: the contained resource `provider` references.
fn provider_role<'c, 'a>(claim: &'c Claim<'a>) -> Result<&'c PractitionerRole<'a>> {
    let provider = required(
        claim.provider.as_ref().and_then(|p| p.reference.as_deref()),
        "Claim.provider.reference",
    )?;
    contained(claim, provider, "PractitionerRole", |r| match r {
        Resource::PractitionerRole(r) => Some(r),
        _ => None,
    })
}

/// The reference's claim validator: one insurance, naming a known reimbursement authority;
/// the dispenser's practitioner given by identifier (an SDS user id) and its role by SDS role
/// profile id; and a dispensing endorsement on the line items. Every broken rule is reported.
pub fn validate(claim: &Claim<'_>) -> Result<Vec<Issue>> {
    let mut issues = Vec::new();
    match claim.insurance.as_slice() {
        [insurance] => {
            let path = "Claim.insurance[0].coverage.identifier.value";
            let authority = required(
                insurance
                    .coverage
                    .as_ref()
                    .and_then(|c| c.identifier.as_ref())
                    .and_then(|i| i.value.as_deref()),
                path,
            )?;
            if !REIMBURSEMENT_AUTHORITIES.contains(&authority) {
                let allowed: Vec<String> = REIMBURSEMENT_AUTHORITIES
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect();
                issues.push(Issue::error(
                    IssueCode::Value,
                    format!("{path} must be one of: {}.", allowed.join(", ")),
                    Some(path.to_string()),
                ));
            }
        }
        other => issues.push(Issue::error(
            IssueCode::Invalid,
            format!(
                "Expected 1 item(s) in Claim.insurance, but received {}.",
                other.len()
            ),
            Some("Claim.insurance".to_string()),
        )),
    }
    let role = provider_role(claim)?;
    let practitioner_path = join(ROLE_PATH, ".practitioner");
    if let Some(p) = &role.practitioner {
        if is_literal(p) {
            // The reference names the release request's field in this message.
            issues.push(Issue::error(
                IssueCode::Invalid,
                "Parameters.parameter(\"agent\").resource.practitioner populated incorrectly. Please populate with Identifier and Display.",
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
    if !endorsement_present(claim) {
        issues.push(Issue::error(
            IssueCode::Invalid,
            "The claim is missing the required endorsement code.",
            Some("Claim.item.detail.programCode".to_string()),
        ));
    }
    if issues.is_empty() {
        Ok(issues)
    } else {
        Err(Rejection { issues })
    }
}

/// Whether the first line item (of the first item) that has program codes has an
/// endorsement among them, which is what the reference checks.
fn endorsement_present(claim: &Claim<'_>) -> bool {
    claim
        .item
        .first()
        .and_then(|item| item.detail.iter().find(|d| !d.program_code.is_empty()))
        .is_some_and(|d| {
            d.program_code.iter().any(|c| {
                c.coding
                    .iter()
                    .any(|c| c.system.as_deref() == Some(ENDORSEMENT_SYSTEM))
            })
        })
}

/// Validates a Claim and builds its send message.
pub fn translate(claim: &Claim<'_>, ctx: &Context) -> Result<super::Translated> {
    let issues = validate(claim)?;
    let claim_id = identifier_value(
        present(&claim.identifier, "Claim.identifier")?,
        RFC4122_SYSTEM,
        "Claim.identifier",
    )?;
    let created = required_timestamp(claim.created.as_deref(), "Claim.created")?;
    let insurance = match claim.insurance.as_slice() {
        [one] => one,
        _ => {
            return Err(invalid(
                "Claim.insurance",
                format!("Expected 1 element but found {}.", claim.insurance.len()),
            ))
        }
    };
    let coverage = required(insurance.coverage.as_ref(), "Claim.insurance.coverage")?;
    let authority = required(
        coverage
            .identifier
            .as_ref()
            .and_then(|i| i.value.as_deref()),
        "Claim.insurance.coverage.identifier.value",
    )?;
    let mut authority_org = Element::new("agentOrganization")
        .attr("classCode", "ORG")
        .attr("determinerCode", "INSTANCE")
        .child(ods_id("id", authority))
        .child(code_element(
            "code",
            super::agent_person::ORGANISATION_TYPE_CODE,
            super::agent_person::ORGANISATION_TYPE_OID,
        ));
    // The name is written, empty when the coverage has no display.
    authority_org.push(match coverage.display.as_deref() {
        Some(display) => Element::new("name").text(display.to_string()),
        None => Element::new("name"),
    });
    let item = match claim.item.as_slice() {
        [one] => one,
        _ => {
            return Err(invalid(
                "Claim.item",
                format!("Expected 1 element but found {}.", claim.item.len()),
            ))
        }
    };
    // The supply header's repeat number: from the item's repeat information, or else from the
    // first line item's.
    let item_repeat = repeat_number(&item.extension, "Claim.item.extension")?;
    let has_item_repeat = item_repeat.is_some();
    let header_repeat = match (item_repeat, item.detail.first()) {
        (Some(repeat), _) => Some(repeat),
        (None, Some(first)) => repeat_number(&first.extension, "Claim.item.detail.extension")?,
        (None, None) => None,
    };

    // The supply header.
    let role = provider_role(claim)?;
    let org_reference = match role.organization.as_ref() {
        Some(r) if is_literal(r) => r.reference.as_deref().unwrap_or_default(),
        _ => {
            return Err(invalid(
                ROLE_PATH.to_string() + ".organization",
                "practitioner.organization should be a reference",
            ))
        }
    };
    let org = contained(claim, org_reference, "Organization", |r| match r {
        Resource::Organization(o) => Some(o),
        _ => None,
    })?;
    let mut header = Element::new("pertinentSupplyHeader")
        .attr("classCode", "SBADM")
        .attr("moodCode", "EVN")
        .child(Element::new("id").attr("root", global_id(claim_id)))
        .child(code_element("code", "225426007", SNOMED_OID))
        .child(Element::new("effectiveTime").attr("nullFlavor", "NA"))
        .child_opt(header_repeat)
        .child(
            Element::new("legalAuthenticator")
                .attr("contextControlCode", "OP")
                .attr("typeCode", "LA")
                .child(Element::new("time").attr("value", created.clone()))
                .child(Element::new("signatureText").attr("nullFlavor", "NA"))
                .child(dispenser::agent_person(
                    role,
                    org,
                    &Paths {
                        role: ROLE_PATH,
                        organization: ORGANIZATION_PATH,
                    },
                )?),
        );
    if let Some(reason) = non_dispensing_reason(&item.extension, "Claim.item.extension")? {
        header.push(reason);
    }
    let status = required_extension(&item.extension, BUSINESS_STATUS_URL, "Claim.item.extension")?;
    let status = required(status.value_coding.as_deref(), "Claim.item.extension")?;
    let status_code = code_of(status, "Claim.item.extension")?;
    header.push(pertinent_obs(
        "pertinentInformation3",
        false,
        observation(
            "pertinentPrescriptionStatus",
            "PS",
            code_element("value", status_code.to_string(), PRESCRIPTION_STATUS_OID)
                .attr_opt("displayName", status.display.as_deref().map(str::to_string)),
        ),
    ));
    for detail in &item.detail {
        header.push(supplied_line_item(detail, has_item_repeat)?);
    }
    let short_form = prescription_id(claim, "shortForm")?;
    header.push(pertinent_obs(
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
    let long_form = prescription_id(claim, "UUID")?;
    header.push(in_fulfillment_of(
        "priorOriginalPrescriptionRef",
        global_id(long_form),
    ));

    let mut dispense_claim = Element::new("DispenseClaim")
        .attr("classCode", "INFO")
        .attr("moodCode", "EVN")
        .child(Element::new("id").attr("root", global_id(claim_id)))
        .child(code_element("code", "163541000000107", SNOMED_OID).attr(
            "displayName",
            "Dispensed Medication - FocusActOrEvent (administrative concept)",
        ))
        .child(Element::new("effectiveTime").attr("value", created))
        .child(id_element("typeId", TYPE_ID_OID, "PORX_MT142001UK31"))
        .child(
            Element::new("primaryInformationRecipient")
                .attr("typeCode", "PRCP")
                .child(
                    Element::new("AgentOrg")
                        .attr("classCode", "AGNT")
                        .child(authority_org),
                ),
        )
        .child(
            Element::new("pertinentInformation1")
                .attr("contextConductionInd", "true")
                .attr("typeCode", "PERT")
                .child(template("CSAB_RM-NPfITUK10.pertinentInformation"))
                .child(header),
        );
    if let Some(ext) = extension(&claim.extension, REPLACEMENT_OF_URL, "Claim.extension")? {
        dispense_claim.push(replacement_of(ext, "Claim.extension")?);
    }
    if let Some(exemption) = coding_for_system(
        &item.program_code,
        CHARGE_EXEMPTION_SYSTEM,
        "Claim.item.programCode",
    )? {
        let code = code_of(exemption, "Claim.item.programCode")?;
        let mut exempt = Element::new("coveringChargeExempt")
            .attr("classCode", "OBS")
            .attr("moodCode", "EVN")
            .attr("negationInd", if code == "0001" { "true" } else { "false" })
            .child(code_element("code", "EX", EPS_OBSERVATION_OID))
            .child(code_element(
                "value",
                code.to_string(),
                CHARGE_EXEMPTION_OID,
            ));
        if let Some(evidence) = coding_for_system(
            &item.program_code,
            EXEMPTION_EVIDENCE_SYSTEM,
            "Claim.item.programCode",
        )? {
            let seen = evidence.code.as_deref() == Some("evidence-seen");
            exempt.push(
                Element::new("authorization")
                    .attr("contextConductionInd", "true")
                    .attr("typeCode", "AUTH")
                    .child(Element::new("seperatableInd").attr("value", "false"))
                    .child(
                        Element::new("authorizingEvidenceSeen")
                            .attr("classCode", "OBS")
                            .attr("moodCode", "EVN")
                            .attr("negationInd", if seen { "false" } else { "true" })
                            .child(code_element("code", "ES", EPS_OBSERVATION_OID)),
                    ),
            );
        }
        dispense_claim.push(
            Element::new("coverage")
                .attr("contextConductionInd", "true")
                .attr("typeCode", "COVBY")
                .child(Element::new("seperatableInd").attr("value", "false"))
                .child(exempt),
        );
    }
    dispense_claim.push(
        Element::new("sequelTo").attr("typeCode", "SEQL").child(
            Element::new("priorPrescriptionReleaseEventRef")
                .attr("classCode", "INFO")
                .attr("moodCode", "RQO")
                .child(Element::new("id").attr("root", global_id(UNKNOWN_RELEASE_ID))),
        ),
    );
    let message_id = match &ctx.message_id {
        Some(id) => id.clone(),
        None => global_id(claim_id),
    };
    Ok(super::Translated {
        root: send_message(INTERACTION, &message_id, ctx, dispense_claim),
        issues,
    })
}
