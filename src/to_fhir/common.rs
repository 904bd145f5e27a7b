//! Shapes shared by every message part, HL7 v3 → FHIR: names, addresses, telecoms, times,
//! identifiers and codings.

use super::xml::{El, Result};
use crate::error::IssueCode;
use crate::mappings::{lookup, Table};
use serde_json::{json, Map, Value};
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

pub const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
pub const RFC4122_SYSTEM: &str = "https://tools.ietf.org/html/rfc4122";
pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";

/// A JSON object from key/value pairs, moving the values in. (`json!` serialises each
/// interpolated `Value`, which deep-copies it: for whole resources and Bundles that copy
/// was most of the translation time.)
pub fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (k, v) in pairs {
        map.insert(k.to_string(), v);
    }
    Value::Object(map)
}

/// `{"system": .., "value": ..}`.
pub fn identifier(system: &str, value: &str) -> Value {
    json!({"system": system, "value": value})
}

/// `urn:uuid:<id>`.
pub fn full_url(id: &str) -> String {
    format!("urn:uuid:{id}")
}

/// `{"reference": "urn:uuid:<id>"}`.
pub fn reference(id: &str) -> Value {
    json!({"reference": full_url(id)})
}

/// An attribute mapped through a value table, or an error naming the attribute.
fn mapped(el: &El<'_, '_>, attr: &str, table: Table, what: &str) -> Result<Option<&'static str>> {
    match el.attr(attr) {
        None => Ok(None),
        Some(code) => lookup(table, code)
            .map(Some)
            .ok_or_else(|| el.bad_value(attr, format!("unhandled {what} '{code}'"))),
    }
}

/// FHIR HumanNames from `<name>` elements: `use`, then either `text` (a name written as
/// text) or family, given, prefix and suffix.
pub fn names<'a, 'i: 'a>(els: impl Iterator<Item = El<'a, 'i>>) -> Result<Vec<Value>> {
    els.map(|n| name(&n)).collect()
}

fn name(n: &El<'_, '_>) -> Result<Value> {
    let mut out = Map::new();
    if let Some(u) = mapped(n, "use", Table::V3NameUse, "name use")? {
        out.insert("use".into(), json!(u));
    }
    let has_parts = n.node.children().any(|c| c.is_element());
    if !has_parts {
        let text = n.text();
        if !text.is_empty() {
            out.insert("text".into(), json!(text));
        }
        return Ok(Value::Object(out));
    }
    if let Some(f) = n.opt("family") {
        out.insert("family".into(), json!(f.text()));
    }
    let list =
        |part: &'static str| -> Vec<Value> { n.children(part).map(|p| json!(p.text())).collect() };
    for part in ["given", "prefix", "suffix"] {
        let values = list(part);
        if !values.is_empty() {
            out.insert(part.into(), Value::Array(values));
        }
    }
    Ok(Value::Object(out))
}

/// FHIR Addresses from `<addr>` elements: `use`, then `text` or every street line (city
/// and district included: HL7 v3 does not tell them apart) and the postal code.
pub fn addresses<'a, 'i: 'a>(els: impl Iterator<Item = El<'a, 'i>>) -> Result<Vec<Value>> {
    els.map(|a| address(&a)).collect()
}

fn address(a: &El<'_, '_>) -> Result<Value> {
    let mut out = Map::new();
    if let Some(u) = mapped(a, "use", Table::V3AddressUse, "address use")? {
        out.insert("use".into(), json!(u));
    }
    if !a.node.children().any(|c| c.is_element()) {
        let text = a.text();
        if !text.is_empty() {
            out.insert("text".into(), json!(text));
        }
        return Ok(Value::Object(out));
    }
    let lines: Vec<Value> = a
        .children("streetAddressLine")
        .map(|l| json!(l.text()))
        .collect();
    if !lines.is_empty() {
        out.insert("line".into(), Value::Array(lines));
    }
    if let Some(pc) = a.opt("postalCode") {
        out.insert("postalCode".into(), json!(pc.text()));
    }
    Ok(Value::Object(out))
}

/// FHIR ContactPoints from `<telecom>` elements: system `phone`, `use`, and the value
/// without its URI scheme (`tel:`).
pub fn telecoms<'a, 'i: 'a>(els: impl Iterator<Item = El<'a, 'i>>) -> Result<Vec<Value>> {
    els.map(|t| {
        let mut out = Map::new();
        out.insert("system".into(), json!("phone"));
        if let Some(u) = mapped(&t, "use", Table::V3TelecomUse, "telecom use")? {
            out.insert("use".into(), json!(u));
        }
        if let Some(v) = t.attr("value") {
            let value = v.split_once(':').map_or(v, |(_, rest)| rest);
            out.insert("value".into(), json!(value));
        }
        Ok(Value::Object(out))
    })
    .collect()
}

/// Parses `YYYYMMDD[HH[MM[SS]]][.fraction][+-ZZZZ]` into a UTC date-time.
fn parse_hl7_time(text: &str) -> Option<time::OffsetDateTime> {
    let (main, offset) = match text.rfind(['+', '-']) {
        Some(i) if i >= 8 => (&text[..i], Some(&text[i..])),
        _ => (text, None),
    };
    let main = main.split('.').next().unwrap_or(main);
    if main.len() < 8 || main.len() > 14 || main.len() % 2 != 0 {
        return None;
    }
    if !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        main.get(r).map_or(Some(0), |s| s.parse().ok())
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(num(6..8)?).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(num(8..10)?).ok()?,
        u8::try_from(num(10..12)?).ok()?,
        u8::try_from(num(12..14)?).ok()?,
    )
    .ok()?;
    let offset = match offset {
        None => UtcOffset::UTC,
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let digits = &o[1..];
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h: i8 = digits[..2].parse().ok()?;
            let m: i8 = digits[2..].parse().ok()?;
            UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
    };
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}

/// An HL7 v3 timestamp attribute as a FHIR dateTime `YYYY-MM-DDTHH:MM:SS+00:00`.
pub fn date_time(el: &El<'_, '_>, attr: &str) -> Result<String> {
    let text = el.req_attr(attr)?;
    let t = parse_hl7_time(text)
        .ok_or_else(|| el.bad_value(attr, format!("'{text}' is not an HL7 v3 timestamp")))?;
    Ok(crate::datetime::Instant(t).iso_utc())
}

/// An HL7 v3 date (or timestamp) attribute as a FHIR date `YYYY-MM-DD`.
pub fn date(el: &El<'_, '_>, attr: &str) -> Result<String> {
    let text = el.req_attr(attr)?;
    let t = text
        .get(..8)
        .and_then(parse_hl7_time)
        .ok_or_else(|| el.bad_value(attr, format!("'{text}' is not an HL7 v3 date")))?;
    Ok(format!(
        "{:04}-{:02}-{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    ))
}

/// An attribute holding an integer, as a JSON number with the same text.
pub fn integer(el: &El<'_, '_>, attr: &str) -> Result<i64> {
    let text = el.req_attr(attr)?;
    text.trim()
        .parse()
        .map_err(|_| el.bad_value(attr, format!("'{text}' is not an integer")))
}

/// Marks a number whose exact text `serde_json` would rewrite (`1e1` becomes `1e+1`): it is
/// held as a string with this prefix until [`super::write`] puts the text back unquoted.
pub const RAW_NUMBER_MARK: &str = "\u{1}eps-number:";

/// An attribute holding a number, as a JSON number written exactly as the attribute is
/// (`1.50` stays `1.50`, `1e1` stays `1e1`), or an error when it is not a JSON number.
pub fn number(el: &El<'_, '_>, attr: &str) -> Result<Value> {
    let text = el.req_attr(attr)?;
    let n = serde_json::from_str::<serde_json::Number>(text)
        .map_err(|_| el.bad_value(attr, format!("'{text}' is not a number")))?;
    if n.to_string() == text {
        Ok(Value::Number(n))
    } else {
        Ok(Value::String(format!("{RAW_NUMBER_MARK}{text}")))
    }
}

/// A required-element error at `el`.
pub fn required(el: &El<'_, '_>, what: &str) -> crate::error::Rejection {
    el.error(IssueCode::Required, format!("required {what} is missing"))
}

/// `{"coding": [{"system", "code", "display"?}]}`.
pub fn codeable_concept(system: &str, code: &str, display: Option<&str>) -> Value {
    let mut coding = Map::new();
    coding.insert("system".into(), json!(system));
    coding.insert("code".into(), json!(code));
    if let Some(d) = display {
        coding.insert("display".into(), json!(d));
    }
    json!({"coding": [Value::Object(coding)]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hl7_times_become_utc_date_times() {
        let t = |s| parse_hl7_time(s).map(|t| crate::datetime::Instant(t).iso_utc());
        assert_eq!(
            t("20221021134700").as_deref(),
            Some("2022-10-21T13:47:00+00:00")
        );
        assert_eq!(t("20221021").as_deref(), Some("2022-10-21T00:00:00+00:00"));
        assert_eq!(
            t("20221021134700+0100").as_deref(),
            Some("2022-10-21T12:47:00+00:00")
        );
        assert_eq!(t("20221321"), None);
        assert_eq!(t("2022102"), None);
        assert_eq!(t("x0221021"), None);
    }
}
