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

/// Exactly one element of `hits`, refused in the reference's words otherwise (`what` names the
/// filter, as in "url == '…'").
pub fn exactly_one<T>(
    mut hits: impl Iterator<Item = T>,
    what: &str,
    path: &str,
) -> super::common::Result<T> {
    use super::common::invalid;
    let first = hits.next().ok_or_else(|| {
        invalid(
            path,
            format!("Too few values submitted. Expected 1 element where {what}."),
        )
    })?;
    if hits.next().is_some() {
        return Err(invalid(
            path,
            format!("Too many values submitted. Expected 1 element where {what}."),
        ));
    }
    Ok(first)
}

/// Exactly one extension with `url` in `list`.
pub fn exactly_one_extension<'e, 'a>(
    list: &'e [crate::fhir::Extension<'a>],
    url: &str,
    path: &str,
) -> super::common::Result<&'e crate::fhir::Extension<'a>> {
    exactly_one(
        list.iter().filter(|e| e.url == url),
        &format!("url == '{url}'"),
        path,
    )
}

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

/// The repeat number both supply messages write from an EPS repeat information extension:
/// `<repeatNumber><low/><high/></repeatNumber>`, the repeat being supplied
/// (`numberOfRepeatsIssued` + 1) of the repeats allowed (`numberOfRepeatsAllowed` + 1). `at`
/// names the extension list the repeat information is in. Each number is read as the reference
/// reads it: the repeats issued as the whole number its text starts with (`1.5` is 1, `x` is
/// not a number, written `NaN`), the repeats allowed as a number (a JSON string as the whole
/// number it starts with), then written as a JavaScript number is.
pub fn repeat_number(
    info: &crate::fhir::Extension<'_>,
    at: &str,
) -> super::common::Result<Element> {
    use super::common::{invalid, missing};
    let path = format!("{at}(\"{REPEAT_INFORMATION_URL}\").extension");
    let sub = |name: &str| {
        exactly_one_extension(&info.extension, name, &path)?
            .value_integer
            .as_ref()
            .ok_or_else(|| missing(format!("{path}(\"{name}\").valueInteger")))
    };
    let issued = sub("numberOfRepeatsIssued")?;
    let low = js_number_text(js_parse_int(&issued.text()) + 1.0);
    let allowed = sub("numberOfRepeatsAllowed")?;
    let allowed_value = if allowed.0.get().starts_with('"') {
        js_parse_int(&allowed.text())
    } else {
        let text = allowed.text();
        let value: f64 = text.trim().parse().unwrap_or(f64::NAN);
        let has_digit = text
            .bytes()
            .take_while(|b| !matches!(b, b'e' | b'E'))
            .any(|b| (b'1'..=b'9').contains(&b));
        if !value.is_finite() || (value == 0.0 && has_digit) {
            return Err(invalid(
                format!("{path}(\"numberOfRepeatsAllowed\").valueInteger"),
                format!("'{text}' is too large or too small to be a number"),
            ));
        }
        value
    };
    let high = js_number_text(allowed_value + 1.0);
    Ok(Element::new("repeatNumber")
        .child(Element::new("low").attr("value", low))
        .child(Element::new("high").attr("value", high)))
}

/// JavaScript's `parseInt(text)`: the whole number (decimal, or hexadecimal after `0x`) the
/// text starts with after white space and a sign; NaN when there is none.
pub fn js_parse_int(text: &str) -> f64 {
    let t = text.trim_start();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, t) = if t.len() >= 2 && (t.starts_with("0x") || t.starts_with("0X")) {
        (16, &t[2..])
    } else {
        (10, t)
    };
    let digits: String = t.chars().take_while(|c| c.is_digit(radix)).collect();
    if digits.is_empty() {
        return f64::NAN;
    }
    let value = if radix == 10 {
        digits.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        digits.chars().fold(0.0, |acc, c| {
            acc * 16.0 + f64::from(c.to_digit(16).unwrap_or(0))
        })
    };
    if negative {
        -value
    } else {
        value
    }
}

/// A number as JavaScript writes it (`Number.prototype.toString`): the shortest digits that
/// read back to it, in exponent form from 1e21 up and below 1e-6.
pub fn js_number_text(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if value == 0.0 {
        return "0".into();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let sci = format!("{:e}", value.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    let n = exponent.parse::<i64>().unwrap_or(0) + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e = if e < 0 {
            format!("-{}", -e)
        } else {
            format!("+{e}")
        };
        if k == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

/// `replacementOf`: the message an amendment replaces, from the replacementOf extension
/// found in `list` (its FHIRPath, e.g. `Claim.extension`).
pub fn replacement_of(
    ext: &crate::fhir::Extension<'_>,
    list: &str,
) -> super::common::Result<Element> {
    let id = super::common::required(
        ext.value_identifier
            .as_ref()
            .and_then(|i| i.value.as_deref()),
        format!("{list}(\"{REPLACEMENT_OF_URL}\").valueIdentifier.value"),
    )?;
    Ok(Element::new("replacementOf")
        .attr("typeCode", "RPLC")
        .child(
            Element::new("priorMessageRef")
                .attr("classCode", "INFO")
                .attr("moodCode", "EVN")
                .child(Element::new("id").attr("root", super::common::global_id(id))),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_and_written_as_javascript_does() {
        assert_eq!(js_parse_int("1.5"), 1.0);
        assert_eq!(js_parse_int(" -12abc"), -12.0);
        assert_eq!(js_parse_int("1E2"), 1.0);
        assert_eq!(js_parse_int("0x1A"), 26.0);
        assert!(js_parse_int("x").is_nan());
        assert_eq!(js_number_text(2.5), "2.5");
        assert_eq!(js_number_text(101.0), "101");
        assert_eq!(js_number_text(1e21), "1e+21");
        assert_eq!(js_number_text(1.5e-7), "1.5e-7");
        assert_eq!(js_number_text(0.000001), "0.000001");
        assert_eq!(js_number_text(-0.0), "0");
        assert_eq!(js_number_text(f64::NAN), "NaN");
        assert_eq!(
            js_number_text(123456789012345680000.0),
            "123456789012345680000"
        );
    }
}
