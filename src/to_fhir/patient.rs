//! `recordTarget/Patient` → Patient: NHS number, names, telecoms, gender, birth date,
//! addresses and the registered GP's ODS code.

use super::common::*;
use super::xml::{El, Result};
use crate::mappings::{lookup, Table};
use serde_json::{json, Map, Value};

/// The Patient resource (`id` given) from a `Patient` element.
pub fn patient(p: &El<'_, '_>, id: &str) -> Result<Value> {
    let mut out = Map::new();
    out.insert("resourceType".into(), json!("Patient"));
    out.insert("id".into(), json!(id));
    let nhs_number = p.child("id")?.req_attr("extension")?;
    out.insert(
        "identifier".into(),
        json!([identifier(NHS_NUMBER_SYSTEM, nhs_number)]),
    );
    let person = p.child("patientPerson")?;
    out.insert("name".into(), Value::Array(names(person.children("name"))?));
    let t = telecoms(p.children("telecom"))?;
    if !t.is_empty() {
        out.insert("telecom".into(), Value::Array(t));
    }
    if let Some(g) = person.opt("administrativeGenderCode") {
        let code = g.req_attr("code")?;
        let gender = lookup(Table::V3Gender, code)
            .ok_or_else(|| g.bad_value("code", format!("unhandled gender code '{code}'")))?;
        out.insert("gender".into(), json!(gender));
    }
    if let Some(b) = person.opt("birthTime") {
        out.insert("birthDate".into(), json!(date(&b, "value")?));
    }
    out.insert(
        "address".into(),
        Value::Array(addresses(p.children("addr"))?),
    );
    let gp = person.opt_path(
        "playedProviderPatient/subjectOf/patientCareProvision/responsibleParty/healthCareProvider/id",
    );
    if let Some(code) = gp.and_then(|id| id.attr("extension")) {
        out.insert(
            "generalPractitioner".into(),
            json!([{"identifier": identifier(ODS_SYSTEM, code)}]),
        );
    }
    Ok(Value::Object(out))
}
