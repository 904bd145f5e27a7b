//! The profiled FHIR R4 resources EPS prescription messages carry.

use super::datatypes::*;
use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageHeader<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow)]
    pub event_coding: Option<Coding<'a>>,
    #[serde(borrow)]
    pub sender: Option<Reference<'a>>,
    #[serde(borrow)]
    pub source: Option<MessageSource<'a>>,
    #[serde(borrow, default)]
    pub destination: Vec<MessageDestination<'a>>,
    #[serde(borrow, default)]
    pub focus: Vec<Reference<'a>>,
    #[serde(borrow)]
    pub reason: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub response: Option<MessageResponse<'a>>,
}

/// `MessageHeader.response`: the message this one answers (a dispense notification names the
/// release response it follows).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageResponse<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub identifier: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub code: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSource<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub endpoint: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDestination<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub endpoint: Option<Str<'a>>,
    #[serde(borrow)]
    pub receiver: Option<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MedicationRequest<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow, default)]
    pub identifier: Array<Identifier<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub status: Option<Str<'a>>,
    #[serde(borrow)]
    pub status_reason: Option<CodeableConcept<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub intent: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub category: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub medication_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub medication_reference: Option<Reference<'a>>,
    #[serde(borrow)]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub authored_on: Option<Str<'a>>,
    #[serde(borrow)]
    pub requester: Option<Reference<'a>>,
    #[serde(borrow)]
    pub group_identifier: Option<Identifier<'a>>,
    #[serde(borrow)]
    pub course_of_therapy_type: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub note: Vec<Annotation<'a>>,
    #[serde(borrow, default)]
    pub dosage_instruction: Vec<Dosage<'a>>,
    #[serde(borrow)]
    pub dispense_request: Option<DispenseRequest<'a>>,
    pub substitution: Option<Substitution>,
    #[serde(borrow, default)]
    pub based_on: Vec<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotation<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub text: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Substitution {
    pub allowed_boolean: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dosage<'a> {
    #[serde(borrow)]
    pub sequence: Option<Num<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub text: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub patient_instruction: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub additional_instruction: Vec<CodeableConcept<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DispenseRequest<'a> {
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow)]
    pub validity_period: Option<Period<'a>>,
    #[serde(borrow)]
    pub number_of_repeats_allowed: Option<Num<'a>>,
    #[serde(borrow)]
    pub quantity: Option<Quantity<'a>>,
    #[serde(borrow)]
    pub expected_supply_duration: Option<Quantity<'a>>,
    #[serde(borrow)]
    pub performer: Option<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(borrow, default)]
    pub name: Vec<HumanName<'a>>,
    #[serde(borrow, default)]
    pub telecom: Vec<ContactPoint<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub gender: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub birth_date: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub address: Vec<Address<'a>>,
    #[serde(borrow, default)]
    pub general_practitioner: Vec<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Practitioner<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub identifier: Vec<Identifier<'a>>,
    /// `None` when absent (no name is written); an empty array is refused.
    #[serde(borrow)]
    pub name: Option<Vec<HumanName<'a>>>,
    /// `None` when absent: the reference then falls back to the organisation's telecom.
    #[serde(borrow)]
    pub telecom: Option<Vec<ContactPoint<'a>>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PractitionerRole<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    /// `None` when absent (no role id is written); an empty array is refused, as the
    /// reference refuses it.
    #[serde(borrow)]
    pub identifier: Option<Vec<Identifier<'a>>>,
    #[serde(borrow)]
    pub practitioner: Option<Reference<'a>>,
    #[serde(borrow)]
    pub organization: Option<Reference<'a>>,
    /// `None` when absent (no job role code is written); an empty array is refused.
    #[serde(borrow)]
    pub code: Option<Vec<CodeableConcept<'a>>>,
    /// `None` when absent: for a primary-care prescription the reference refuses the member
    /// even when it is an empty array.
    #[serde(borrow)]
    pub healthcare_service: Option<Vec<Reference<'a>>>,
    #[serde(borrow, default)]
    pub location: Vec<Reference<'a>>,
    /// `None` when absent: the reference then falls back to another resource's telecom.
    #[serde(borrow)]
    pub telecom: Option<Vec<ContactPoint<'a>>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow, default)]
    pub identifier: Array<Identifier<'a>>,
    #[serde(borrow, default, rename = "type")]
    pub type_: Vec<CodeableConcept<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub telecom: Vec<ContactPoint<'a>>,
    #[serde(borrow, default)]
    pub address: Vec<Address<'a>>,
    #[serde(borrow)]
    pub part_of: Option<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthcareService<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(borrow)]
    pub provided_by: Option<Reference<'a>>,
    /// `None` when absent ("required field missing"); an empty array is refused as too few.
    #[serde(borrow)]
    pub location: Option<Vec<Reference<'a>>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub telecom: Vec<ContactPoint<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(borrow)]
    pub address: Option<Address<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Medication<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow)]
    pub code: Option<CodeableConcept<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub target: Vec<Reference<'a>>,
    #[serde(borrow, default)]
    pub signature: Vec<Signature<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signature<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub when: Option<Str<'a>>,
    #[serde(borrow)]
    pub who: Option<Reference<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub data: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationRequest<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow)]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, default)]
    pub payload: Vec<CommunicationPayload<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationPayload<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub content_string: Option<Str<'a>>,
    #[serde(borrow)]
    pub content_reference: Option<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub id: Option<Str<'a>>,
    #[serde(borrow)]
    pub code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, default)]
    pub entry: Vec<ListEntry<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEntry<'a> {
    #[serde(borrow)]
    pub item: Option<Reference<'a>>,
}

/// One Bundle entry's resource, typed by its `resourceType`. Bundles hold a handful of
/// entries, so variants are stored inline rather than boxed.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Resource<'a> {
    MessageHeader(MessageHeader<'a>),
    /// Boxed: by far the largest resource, and entries are moved while the Bundle is read.
    MedicationRequest(Box<MedicationRequest<'a>>),
    Patient(Patient<'a>),
    Practitioner(Practitioner<'a>),
    PractitionerRole(PractitionerRole<'a>),
    Organization(Organization<'a>),
    HealthcareService(HealthcareService<'a>),
    Location(Location<'a>),
    Medication(Medication<'a>),
    Provenance(Provenance<'a>),
    CommunicationRequest(CommunicationRequest<'a>),
    List(List<'a>),
    /// Boxed: it holds its own contained resources.
    MedicationDispense(Box<super::dispensing::MedicationDispense<'a>>),
    /// A resource type EPS does not use (its type name, empty when it has none, and its `id`
    /// where it was read); kept so references to it still resolve.
    Other(String, Option<String>),
}

impl Resource<'_> {
    /// The FHIR resource type name.
    pub fn type_name(&self) -> &str {
        match self {
            Resource::MessageHeader(_) => "MessageHeader",
            Resource::MedicationRequest(_) => "MedicationRequest",
            Resource::Patient(_) => "Patient",
            Resource::Practitioner(_) => "Practitioner",
            Resource::PractitionerRole(_) => "PractitionerRole",
            Resource::Organization(_) => "Organization",
            Resource::HealthcareService(_) => "HealthcareService",
            Resource::Location(_) => "Location",
            Resource::Medication(_) => "Medication",
            Resource::Provenance(_) => "Provenance",
            Resource::CommunicationRequest(_) => "CommunicationRequest",
            Resource::List(_) => "List",
            Resource::MedicationDispense(_) => "MedicationDispense",
            Resource::Other(name, _) => name,
        }
    }
}
