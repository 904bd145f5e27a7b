//! Shapes shared by every message part: identifiers, names, addresses, telecoms, codes,
//! times, and reference lookups that fail with a FHIRPath.

use crate::datetime;
use crate::error::{IssueCode, Rejection};
use crate::fhir::*;
use crate::hl7v3::element::{id_element, Element};
use crate::mappings::{lookup, Table};

/// OID of the SNOMED CT code system as HL7 v3 writes it.
pub const SNOMED_OID: &str = "2.16.840.1.113883.2.1.3.2.4.15";
/// OID of ODS organisation codes.
pub const ODS_OID: &str = "1.2.826.0.1285.0.1.10";
/// OID of the code system of EPS observation codes (`PT`, `DI`, `AI`, …).
pub const EPS_OBSERVATION_OID: &str = "2.16.840.1.113883.2.1.3.2.4.17.30";

pub type Result<T> = std::result::Result<T, Rejection>;

/// `base` followed by `tail`, as one FHIRPath. (Translation builds dozens of paths per
/// message, mostly never read; `format!` costs several times this.)
pub fn join(base: &str, tail: &str) -> String {
    let mut path = String::with_capacity(base.len() + tail.len());
    path.push_str(base);
    path.push_str(tail);
    path
}

/// `Bundle.entry[index].resource`.
pub fn entry_path(index: usize) -> String {
    let mut path = String::with_capacity(32);
    path.push_str("Bundle.entry[");
    push_number(&mut path, index);
    path.push_str("].resource");
    path
}

/// Appends a number's decimal digits.
pub fn push_number(out: &mut String, n: usize) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// An `invalid` error at a FHIRPath (the code the reference gives every translation error).
pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Rejection {
    Rejection::at(IssueCode::Invalid, path, message)
}

/// A reference given as a `reference` string (not empty), as opposed to one given by
/// identifier: what the reference implementation resolves within the Bundle.
pub fn is_literal(r: &Reference<'_>) -> bool {
    r.reference.as_deref().is_some_and(|s| !s.is_empty())
}

/// A missing member, refused in the reference's words (code `invalid`, "Required field
/// missing."), at the member's FHIRPath.
pub fn missing(path: impl Into<String>) -> Rejection {
    Rejection::at(IssueCode::Invalid, path, "Required field missing.")
}

/// The items of a list member the reference picks one item from, or "Required field
/// missing." at `path` when the member is absent (an empty list is the caller's "too few").
pub fn present<'v, T>(list: &'v Array<T>, path: &str) -> Result<&'v [T]> {
    list.present().ok_or_else(|| missing(path))
}

/// Unwraps an optional element or fails with "required field missing" at `path`.
pub fn required<T: ?Sized>(value: Option<&T>, path: impl Into<String>) -> Result<&T> {
    value.ok_or_else(|| missing(path))
}

/// Whether text holds a UUID (8-4-4-4-12 hex digits) anywhere.
pub fn contains_uuid(text: &str) -> bool {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let b = text.as_bytes();
    let len = 36;
    if b.len() < len {
        return false;
    }
    (0..=b.len() - len).any(|start| {
        let mut i = start;
        for (g, &n) in GROUPS.iter().enumerate() {
            if !b[i..i + n].iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            i += n;
            if g < 4 {
                if b[i] != b'-' {
                    return false;
                }
                i += 1;
            }
        }
        true
    })
}

/// An HL7 v3 global identifier: upper-cased when it holds a UUID, else verbatim.
pub fn global_id(value: &str) -> String {
    if contains_uuid(value) {
        value.to_uppercase()
    } else {
        value.to_string()
    }
}

/// `<name>` from a FHIR HumanName: prefix*, given*, family, suffix*.
pub fn name(n: &HumanName<'_>, path: &str) -> Result<Element> {
    let mut el = Element::new("name");
    // An empty use is no use, as the reference reads it.
    if let Some(u) = n.use_.as_deref().filter(|u| !u.is_empty()) {
        let code = lookup(Table::NameUse, u)
            .ok_or_else(|| invalid(join(path, ".use"), format!("Unhandled name use '{u}'.")))?;
        el = el.attr("use", code);
    }
    let no_parts = n.prefix.is_empty()
        && n.given.is_empty()
        && n.family.as_deref().is_none_or(str::is_empty)
        && n.suffix.is_empty();
    if let (true, Some(text)) = (no_parts, n.text.as_deref()) {
        // A name given only as text (as HL7 v3 can hold it) is written as text, not dropped;
        // an empty text is an empty name.
        return Ok(if text.is_empty() { el } else { el.text(text) });
    }
    for p in &n.prefix {
        el.push(Element::new("prefix").text(p.as_ref()));
    }
    for g in &n.given {
        el.push(Element::new("given").text(g.as_ref()));
    }
    if let Some(f) = n.family.as_deref().filter(|f| !f.is_empty()) {
        el.push(Element::new("family").text(f));
    }
    for s in &n.suffix {
        el.push(Element::new("suffix").text(s.as_ref()));
    }
    Ok(el)
}

/// `<telecom use value>`: whitespace removed, `tel:` prefixed.
pub fn telecom(t: &ContactPoint<'_>, path: &str) -> Result<Element> {
    let mut el = Element::new("telecom");
    // An empty use is no use, as the reference reads it.
    if let Some(u) = t.use_.as_deref().filter(|u| !u.is_empty()) {
        let code = lookup(Table::TelecomUse, u)
            .ok_or_else(|| invalid(join(path, ".use"), format!("Unhandled telecom use '{u}'.")))?;
        el = el.attr("use", code);
    }
    // An empty value is no value, as the reference reads it.
    if let Some(v) = t.value.as_deref().filter(|v| !v.is_empty()) {
        let compact: String = v.chars().filter(|c| !is_js_whitespace(*c)).collect();
        let value = if compact.starts_with("tel:") {
            compact
        } else {
            format!("tel:{compact}")
        };
        el = el.attr("value", value);
    }
    Ok(el)
}

/// JavaScript's `\s`: the characters a reference regex strips from telecom values.
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | ' '
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// `<addr use>`: street lines from line*, city, district, state; then postalCode.
pub fn address(a: &Address<'_>, path: &str) -> Result<Element> {
    let mut el = Element::new("addr");
    // An empty use is no use, as the reference reads it.
    if let Some(u) = a.use_.as_deref().filter(|u| !u.is_empty()) {
        let code = lookup(Table::AddressUse, u)
            .ok_or_else(|| invalid(join(path, ".use"), format!("Unhandled address use '{u}'.")))?;
        el = el.attr("use", code);
    }
    let lines = a
        .line
        .iter()
        .map(|l| l.as_ref())
        .chain(a.city.as_deref())
        .chain(a.district.as_deref())
        .chain(a.state.as_deref())
        .filter(|l| !l.is_empty());
    for line in lines {
        el.push(Element::new("streetAddressLine").text(line));
    }
    if let Some(pc) = a.postal_code.as_deref().filter(|p| !p.is_empty()) {
        el.push(Element::new("postalCode").text(pc));
    }
    Ok(el)
}

/// A FHIR date-time at `path` as `YYYYMMDDHHMMSS` (UTC); refused in the reference's words.
pub fn timestamp(text: &str, path: &str) -> Result<String> {
    datetime::to_hl7_timestamp(text).map_err(|_| {
        invalid(
            path,
            format!("Incorrect format for date time string '{text}'."),
        )
    })
}

/// A date-time member the message needs, as [`timestamp`]; an absent one is refused as the
/// reference refuses it, as a date-time written `undefined`.
pub fn required_timestamp(text: Option<&str>, path: &str) -> Result<String> {
    timestamp(text.unwrap_or("undefined"), path)
}

/// A FHIR date or date-time at `path` as `YYYYMMDD` (the UTC date).
pub fn date(text: &str, path: &str) -> Result<String> {
    datetime::to_hl7_date(text).map_err(|e| invalid(path, e))
}

/// The one item whose system is `system` (by `system_of`), or the reference's error at `path`
/// when there is none or more than one.
pub fn exactly_one_with_system<'v, T>(
    items: &'v [T],
    system_of: impl Fn(&T) -> Option<&str>,
    system: &str,
    path: &str,
) -> Result<&'v T> {
    let mut hits = items.iter().filter(|item| system_of(item) == Some(system));
    let first = hits.next().ok_or_else(|| {
        Rejection::at(
            IssueCode::Invalid,
            path,
            format!("Too few values submitted. Expected 1 element where system == '{system}'."),
        )
    })?;
    if hits.next().is_some() {
        return Err(invalid(
            path,
            format!("Too many values submitted. Expected 1 element where system == '{system}'."),
        ));
    }
    Ok(first)
}

/// The one identifier value with a system, or an error at `path`.
pub fn identifier_value<'v>(
    ids: &'v [Identifier<'_>],
    system: &str,
    path: &str,
) -> Result<&'v str> {
    exactly_one_with_system(ids, |i| i.system.as_deref(), system, path)?
        .value
        .as_deref()
        .ok_or_else(|| missing(join(path, ".value")))
}

/// The identifier value with a system, if there is exactly one.
pub fn identifier_value_opt<'v>(ids: &'v [Identifier<'_>], system: &str) -> Option<&'v str> {
    ids.iter()
        .find(|i| i.system.as_deref() == Some(system))
        .and_then(|i| i.value.as_deref())
}

/// `<id extension root="ODS OID"/>`.
pub fn ods_id(name: &'static str, code: &str) -> Element {
    id_element(name, ODS_OID, code.to_string())
}

/// The first coding of a concept, or an error at `path`.
pub fn first_coding<'c, 'a>(
    cc: Option<&'c CodeableConcept<'a>>,
    path: &str,
) -> Result<&'c Coding<'a>> {
    cc.and_then(|c| c.coding.first())
        .ok_or_else(|| missing(join(path, ".coding")))
}

/// The code of a coding, or an error at `path`.
pub fn code_of<'c>(c: &'c Coding<'_>, path: &str) -> Result<&'c str> {
    c.code
        .as_deref()
        .ok_or_else(|| missing(join(path, ".code")))
}

/// An observation of the EPS shape:
/// `<code code=CODE codeSystem=EPS_OBSERVATION_OID/>` then `value`.
pub fn observation(name: &'static str, code: &str, value: Element) -> Element {
    Element::new(name)
        .attr("classCode", "OBS")
        .attr("moodCode", "EVN")
        .child(
            Element::new("code")
                .attr("code", code.to_string())
                .attr("codeSystem", EPS_OBSERVATION_OID),
        )
        .child(value)
}

/// `<name contextConductionInd="true" typeCode="PERT"><seperatableInd value=../>child</name>`.
pub fn pertinent(name: &'static str, separable: bool, child: Element) -> Element {
    Element::new(name)
        .attr("contextConductionInd", "true")
        .attr("typeCode", "PERT")
        .child(
            Element::new("seperatableInd").attr("value", if separable { "true" } else { "false" }),
        )
        .child(child)
}
