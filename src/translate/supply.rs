//! What the two messages that report a supply (the dispense notification and the dispense
//! claim) share: their `templateId`, SNOMED-coded elements, and the FHIR extension and code
//! system urls both read.

use super::common::SNOMED_OID;
use crate::hl7v3::element::{code_element, id_element, Element};

pub const RFC4122_SYSTEM: &str = "https://tools.ietf.org/html/rfc4122";
pub const REPLACEMENT_OF_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-replacementOf";
pub const REPEAT_INFORMATION_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation";
pub const BUSINESS_STATUS_URL: &str =
    "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-TaskBusinessStatus";
pub const DISPENSE_TYPE_SYSTEM: &str = "https://fhir.nhs.uk/CodeSystem/medicationdispense-type";
pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";
pub const TEMPLATE_OID: &str = "2.16.840.1.113883.2.1.3.2.4.18.2";
pub const TYPE_ID_OID: &str = "2.16.840.1.113883.2.1.3.2.4.18.7";
pub const PRESCRIPTION_STATUS_OID: &str = "2.16.840.1.113883.2.1.3.2.4.16.35";
pub const NON_DISPENSING_REASON_OID: &str = "2.16.840.1.113883.2.1.3.2.4.16.31";
pub const ITEM_STATUS_OID: &str = "2.16.840.1.113883.2.1.3.2.4.17.23";
pub const PRESCRIPTION_ID_OID: &str = "2.16.840.1.113883.2.1.3.2.4.18.8";

/// `<templateId root=".." extension=EXTENSION/>`.
pub fn template(extension: &'static str) -> Element {
    id_element("templateId", TEMPLATE_OID, extension)
}

/// A SNOMED-coded element `name`, with the display name when there is one.
pub fn snomed(name: &'static str, code: &str, display: Option<&str>) -> Element {
    code_element(name, code.to_string(), SNOMED_OID)
        .attr_opt("displayName", display.map(str::to_string))
}

/// `<inFulfillmentOf>` pointing at the original prescription or line item the supply fulfils:
/// `reference` is `priorOriginalPrescriptionRef` or `priorOriginalItemRef`, `id` its id root.
pub fn in_fulfillment_of(reference: &'static str, id: String) -> Element {
    Element::new("inFulfillmentOf")
        .attr("inversionInd", "false")
        .attr("negationInd", "false")
        .attr("typeCode", "FLFS")
        .child(Element::new("seperatableInd").attr("value", "true"))
        .child(template("CSAB_RM-NPfITUK10.sourceOf1"))
        .child(
            Element::new(reference)
                .attr("classCode", "SBADM")
                .attr("moodCode", "RQO")
                .child(Element::new("id").attr("root", id)),
        )
}
