//! `recordTarget/Patient`: the patient, from the Bundle's one Patient resource.

use super::common::*;
use super::Input;
use crate::fhir::Patient;
use crate::hl7v3::element::{code_element, id_element, Element};
use crate::mappings::{lookup, Table};

const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const NHS_NUMBER_OID: &str = "2.16.840.1.113883.2.1.4.1";
const GENDER_OID: &str = "2.16.840.1.113883.2.1.3.2.4.16.25";
const CARE_PROVISION_OID: &str = "2.16.840.1.113883.2.1.3.2.4.17.37";
/// The ODS code meaning "no registered GP": written for a patient with no `generalPractitioner`
/// (an absent or empty array), as the reference writes it. A given code, this one included,
/// is written as it is given.
const UNKNOWN_GP_CODE: &str = "V81999";

/// `<recordTarget typeCode="RCT"><Patient …/></recordTarget>`.
pub fn record_target(input: &Input<'_, '_>) -> Result<Element> {
    let (index, patient) = input.only_patient()?;
    let path = entry_path(index);
    Ok(Element::new("recordTarget")
        .attr("typeCode", "RCT")
        .child(patient_element(patient, &path)?))
}

fn patient_element(p: &Patient<'_>, path: &str) -> Result<Element> {
    let nhs_number =
        identifier_value(&p.identifier, NHS_NUMBER_SYSTEM, &join(path, ".identifier"))?;
    let mut el = Element::new("Patient")
        .attr("classCode", "PAT")
        .child(id_element("id", NHS_NUMBER_OID, nhs_number.to_string()));
    if p.address.is_empty() {
        return Err(missing(join(path, ".address")));
    }
    for (i, a) in p.address.iter().enumerate() {
        el.push(address(a, &format!("{path}.address[{i}]"))?);
    }
    for (i, t) in p.telecom.iter().enumerate() {
        el.push(telecom(t, &format!("{path}.telecom[{i}]"))?);
    }
    Ok(el.child(patient_person(p, path)?))
}

fn patient_person(p: &Patient<'_>, path: &str) -> Result<Element> {
    let mut person = Element::new("patientPerson")
        .attr("classCode", "PSN")
        .attr("determinerCode", "INSTANCE");
    if p.name.is_empty() {
        return Err(missing(join(path, ".name")));
    }
    for (i, n) in p.name.iter().enumerate() {
        person.push(name(n, &format!("{path}.name[{i}]"))?);
    }
    // An absent gender is an unhandled one, in the reference's words.
    let gender = p.gender.as_deref().unwrap_or("undefined");
    let gender_code = lookup(Table::Gender, gender).ok_or_else(|| {
        invalid(
            join(path, ".gender"),
            format!("Unhandled gender '{gender}'."),
        )
    })?;
    person.push(code_element(
        "administrativeGenderCode",
        gender_code,
        GENDER_OID,
    ));
    let birth = required(p.birth_date.as_deref(), join(path, ".birthDate"))?;
    let birth_time = crate::datetime::date_only_to_hl7(birth).map_err(|_| {
        invalid(
            join(path, ".birthDate"),
            format!("Incorrect format for date string '{birth}'."),
        )
    })?;
    person.push(Element::new("birthTime").attr("value", birth_time));
    person.push(played_provider_patient(p, path)?);
    Ok(person)
}

fn played_provider_patient(p: &Patient<'_>, path: &str) -> Result<Element> {
    let gp_code = match p.general_practitioner.as_slice() {
        [] => UNKNOWN_GP_CODE,
        [gp] => gp
            .identifier
            .as_ref()
            .and_then(|i| i.value.as_deref())
            .ok_or_else(|| missing(join(path, ".generalPractitioner[0].identifier.value")))?,
        _ => {
            return Err(invalid(
                join(path, ".generalPractitioner"),
                "Too many values submitted. Expected 1 element.",
            ))
        }
    };
    let gp_id = ods_id("id", gp_code);
    let provision = Element::new("patientCareProvision")
        .attr("classCode", "PCPR")
        .attr("moodCode", "EVN")
        .child(code_element("code", "1", CARE_PROVISION_OID))
        .child(
            Element::new("responsibleParty")
                .attr("typeCode", "RESP")
                .child(
                    Element::new("healthCareProvider")
                        .attr("classCode", "PROV")
                        .child(gp_id),
                ),
        );
    Ok(Element::new("playedProviderPatient")
        .attr("classCode", "PAT")
        .child(
            Element::new("subjectOf")
                .attr("typeCode", "SBJ")
                .child(provision),
        ))
}
