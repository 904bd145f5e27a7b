//! The dispensing side's resources that are not Bundles: the release request `Parameters`
//! (`Task/$release`), the return or withdrawal `Task`, and the dispense `Claim`, read into the
//! same borrowing model as a Bundle's entries.

use super::datatypes::borrowed;
use super::ResourceKind;
use super::{deserialize_with_path, input_text, other_resource, parse_resource, skimmed_type};
use super::{
    Array, CodeableConcept, Dosage, Extension, Identifier, Quantity, Reference, Resource, Str,
};
use crate::error::{Issue, IssueCode, Rejection};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The top-level `resourceType` of a FHIR JSON document, when it reads as JSON and has one.
pub fn top_level_kind(input: &[u8]) -> Option<String> {
    let text = input_text(input).ok()?;
    let kind: ResourceKind = serde_json::from_str(text).ok()?;
    kind.resource_type.map(|k| k.into_owned())
}

/// A `Parameters` resource: its parameters in input order.
#[derive(Debug, Clone)]
pub struct Parameters<'a> {
    pub parameter: Vec<Parameter<'a>>,
}

/// One parameter. A parameter with a `resource` has it typed as a Bundle entry would be
/// (PractitionerRole and Organization are the types a release request carries).
#[derive(Debug, Clone)]
pub struct Parameter<'a> {
    pub name: Option<Str<'a>>,
    pub value_identifier: Option<Identifier<'a>>,
    pub resource: Option<Resource<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawParameters<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    parameter: Option<Vec<RawParameter<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawParameter<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    value_identifier: Option<Identifier<'a>>,
    #[serde(borrow)]
    resource: Option<&'a RawValue>,
}

impl<'a> Parameters<'a> {
    /// Parses Parameters JSON; errors name the FHIRPath of the offending element.
    pub fn parse(text: &'a str) -> Result<Parameters<'a>, Rejection> {
        let raw: RawParameters<'a> = deserialize_with_path(text, "Parameters")?;
        if raw.resource_type.as_deref() != Some("Parameters") {
            return Err(Rejection::single(Issue::error(
                IssueCode::Invalid,
                "resourceType must be 'Parameters'",
                Some("Parameters.resourceType".to_string()),
            )));
        }
        let Some(list) = raw.parameter else {
            return Err(Rejection::at(
                IssueCode::Invalid,
                "Parameters.parameter",
                "Required field missing.",
            ));
        };
        let mut parameter = Vec::with_capacity(list.len());
        for (i, p) in list.into_iter().enumerate() {
            let resource = match p.resource {
                Some(raw) => Some(parse_resource(
                    raw,
                    &format!("Parameters.parameter[{i}].resource"),
                    true,
                )?),
                None => None,
            };
            parameter.push(Parameter {
                name: p.name,
                value_identifier: p.value_identifier,
                resource,
            });
        }
        Ok(Parameters { parameter })
    }
}

/// A `Task`: a return (`status` `rejected`) or a withdrawal (`status` `in-progress`), with the
/// dispenser as contained PractitionerRole and Organization.
#[derive(Debug, Clone)]
pub struct Task<'a> {
    /// `None` when the member is absent.
    pub contained: Option<Vec<Resource<'a>>>,
    pub identifier: Option<Vec<Identifier<'a>>>,
    pub status: Option<Str<'a>>,
    pub intent: Option<Str<'a>>,
    pub group_identifier: Option<Identifier<'a>>,
    pub code: Option<CodeableConcept<'a>>,
    pub focus: Option<Reference<'a>>,
    pub for_: Option<Reference<'a>>,
    pub authored_on: Option<Str<'a>>,
    pub status_reason: Option<CodeableConcept<'a>>,
    pub requester: Option<Reference<'a>>,
    pub extension: Vec<Extension<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTask<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    resource_type: Option<Str<'a>>,
    #[serde(borrow)]
    contained: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    identifier: Option<Vec<Identifier<'a>>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    status: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    intent: Option<Str<'a>>,
    #[serde(borrow)]
    group_identifier: Option<Identifier<'a>>,
    #[serde(borrow)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    focus: Option<Reference<'a>>,
    #[serde(borrow, rename = "for")]
    for_: Option<Reference<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    authored_on: Option<Str<'a>>,
    #[serde(borrow)]
    status_reason: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    requester: Option<Reference<'a>>,
    #[serde(borrow, default)]
    extension: Vec<Extension<'a>>,
}

impl<'a> Task<'a> {
    /// Parses Task JSON; errors name the FHIRPath of the offending element.
    pub fn parse(text: &'a str) -> Result<Task<'a>, Rejection> {
        let raw: RawTask<'a> = deserialize_with_path(text, "Task")?;
        if raw.resource_type.as_deref() != Some("Task") {
            return Err(Rejection::at(
                IssueCode::Invalid,
                "Task.resourceType",
                "resourceType must be 'Task'",
            ));
        }
        let contained = match raw.contained {
            Some(list) => Some(
                list.into_iter()
                    .enumerate()
                    .map(|(i, r)| parse_resource(r, &format!("Task.contained[{i}]"), true))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        Ok(Task {
            contained,
            identifier: raw.identifier,
            status: raw.status,
            intent: raw.intent,
            group_identifier: raw.group_identifier,
            code: raw.code,
            focus: raw.focus,
            for_: raw.for_,
            authored_on: raw.authored_on,
            status_reason: raw.status_reason,
            requester: raw.requester,
            extension: raw.extension,
        })
    }
}

/// A `MedicationDispense` of a dispense notification: one supply (or non-supply) of one line
/// item, with the dispenser (PractitionerRole) and the authorising prescription
/// (MedicationRequest) as contained resources.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MedicationDispense<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub contained: Contained<'a>,
    #[serde(borrow, default)]
    pub extension: Array<Extension<'a>>,
    #[serde(borrow, default)]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub status: Option<Str<'a>>,
    #[serde(borrow)]
    pub status_reason_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub medication_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub medication_reference: Option<Reference<'a>>,
    #[serde(borrow)]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, default)]
    pub performer: Vec<DispensePerformer<'a>>,
    #[serde(borrow, default)]
    pub authorizing_prescription: Vec<Reference<'a>>,
    #[serde(borrow, rename = "type")]
    pub type_: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub quantity: Option<Quantity<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub when_handed_over: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub dosage_instruction: Vec<Dosage<'a>>,
}

/// `MedicationDispense.performer`: who dispensed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DispensePerformer<'a> {
    #[serde(borrow)]
    pub actor: Option<Reference<'a>>,
}

/// A resource's `contained` resources, each typed as a Bundle entry would be, except a
/// contained resource that may itself contain resources (a `MedicationDispense`): that one
/// is kept by its type and `id` only, its members not read.
///
/// FHIR forbids resources nested in a contained resource (dom-2) and no translation reads
/// them. Reading them would also make the cost grow with each level of nesting: a refused
/// resource is read a second time to find the place of the error, so a chain of contained
/// resources nested d deep would be read 2^d times.
#[derive(Debug, Clone, Default)]
pub struct Contained<'a>(pub Vec<Resource<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Contained<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Vec<&'de RawValue> = Vec::deserialize(deserializer)?;
        raw.into_iter()
            .enumerate()
            .map(|(i, r)| {
                if skimmed_type(r.get()).as_deref() == Some("MedicationDispense") {
                    return Ok(other_resource("MedicationDispense", r.get()));
                }
                parse_resource(r, &format!("contained[{i}]"), false).map_err(|e| {
                    serde::de::Error::custom(
                        e.issues
                            .first()
                            .map(|i| i.diagnostics.clone())
                            .unwrap_or_default(),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Contained)
    }
}

// ---- Claim ----

/// A dispense `Claim`: one prescription's claim for reimbursement, with the dispenser
/// (PractitionerRole and Organization) as contained resources.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub contained: Contained<'a>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow, default)]
    pub identifier: Array<Identifier<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub created: Option<Str<'a>>,
    #[serde(borrow)]
    pub provider: Option<Reference<'a>>,
    #[serde(borrow)]
    pub prescription: Option<ClaimPrescription<'a>>,
    #[serde(borrow, default)]
    pub insurance: Vec<ClaimInsurance<'a>>,
    #[serde(borrow, default)]
    pub item: Vec<ClaimItem<'a>>,
}

/// `Claim.prescription`: the prescription's ids in the group identifier extension.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimPrescription<'a> {
    #[serde(borrow, default)]
    pub extension: Array<Extension<'a>>,
}

/// `Claim.insurance`: the reimbursement authority as `coverage`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimInsurance<'a> {
    #[serde(borrow)]
    pub coverage: Option<Reference<'a>>,
}

/// `Claim.item`: the prescription, with one `detail` per line item.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimItem<'a> {
    #[serde(borrow, default)]
    pub extension: Array<Extension<'a>>,
    #[serde(borrow, default)]
    pub program_code: Vec<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub detail: Vec<ClaimDetail<'a>>,
}

/// `Claim.item.detail`: one line item, with one `subDetail` per product supplied.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimDetail<'a> {
    #[serde(borrow, default)]
    pub extension: Array<Extension<'a>>,
    #[serde(borrow, default)]
    pub modifier: Array<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub program_code: Vec<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub sub_detail: Vec<ClaimSubDetail<'a>>,
}

/// `Claim.item.detail.subDetail`: a quantity of one product.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSubDetail<'a> {
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow)]
    pub product_or_service: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub quantity: Option<Quantity<'a>>,
}

impl<'a> Claim<'a> {
    /// Parses Claim JSON; errors name the FHIRPath of the offending element.
    pub fn parse(text: &'a str) -> Result<Claim<'a>, Rejection> {
        let claim: Claim<'a> = deserialize_with_path(text, "Claim")?;
        if claim.resource_type.as_deref() != Some("Claim") {
            return Err(Rejection::at(
                IssueCode::Invalid,
                "Claim.resourceType",
                "resourceType must be 'Claim'",
            ));
        }
        Ok(claim)
    }
}
