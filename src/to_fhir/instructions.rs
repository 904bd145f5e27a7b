//! Additional instructions (`pertinentAdditionalInstructions/value`) taken apart again.
//!
//! The forward translation writes, as one text, `<medication>…</medication>` items (the
//! List a CommunicationRequest points at) and `<patientInfo>…</patientInfo>` items (the
//! CommunicationRequest's text) for the first line item, then `CD: <quantity words>` and the
//! note joined by a newline — all of it escaped once as XML, as an XML fragment. Here the
//! leading tags are read off one by one, then the controlled drug words, and what is left is
//! the note. Every part is unescaped once, so a note `A & B` comes back as `A & B`.

use super::common::{identifier, reference, NHS_NUMBER_SYSTEM, ODS_SYSTEM};
use serde_json::{json, Value};

/// The parts of one line item's additional instructions.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub medication: Vec<String>,
    pub patient_info: Vec<String>,
    pub controlled_drug_words: String,
    pub note: String,
}

/// JavaScript's `\s` (the reference matches the tags after optional whitespace).
fn is_js_space(c: char) -> bool {
    crate::translate::common::is_js_whitespace(c)
}

/// A line terminator, which JavaScript's `.` does not match.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// Reads `<tag>inner</tag>` after optional whitespace at the start of `text`: the inner
/// text and the rest.
fn leading_tag<'t>(text: &'t str, tag: &str) -> Option<(&'t str, &'t str)> {
    let rest = text.trim_start_matches(is_js_space);
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let inner_start = rest.strip_prefix(open.as_str())?;
    let end = inner_start.find(close.as_str())?;
    let inner = &inner_start[..end];
    if inner.contains(is_line_terminator) {
        return None;
    }
    Some((inner, &inner_start[end + close.len()..]))
}

/// Replaces the XML entity and character references of `text` once.
pub fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let replaced = rest.find(';').filter(|&end| end <= 12).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = if let Some(hex) = entity.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = entity.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        None
                    };
                    number.and_then(char::from_u32)
                }
            }?;
            Some((c, end + 1))
        });
        match replaced {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Takes a line item's additional instructions text apart.
pub fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut rest = text;
    loop {
        if let Some((inner, after)) = leading_tag(rest, "medication") {
            parsed.medication.push(unescape(inner));
            rest = after;
        } else if let Some((inner, after)) = leading_tag(rest, "patientInfo") {
            parsed.patient_info.push(unescape(inner));
            rest = after;
        } else {
            break;
        }
    }
    match rest.strip_prefix("CD: ") {
        Some(cd) => match cd.split_once('\n') {
            Some((words, note)) => {
                parsed.controlled_drug_words = unescape(words);
                parsed.note = unescape(note);
            }
            None => parsed.controlled_drug_words = unescape(cd),
        },
        None => parsed.note = unescape(rest),
    }
    parsed
}

/// The CommunicationRequest (patient information, and a reference to the List of
/// medication) and the List, from the first line item's instructions.
pub fn communication_request(
    parsed: &Parsed,
    ids: &super::ids::Ids,
    patient_id: &str,
    nhs_number: &str,
    ods_code: &str,
) -> (Value, Option<Value>) {
    let cr_id = ids.id("communication-request");
    let mut payload: Vec<Value> = parsed
        .patient_info
        .iter()
        .map(|p| json!({"contentString": p}))
        .collect();
    let list = (!parsed.medication.is_empty()).then(|| {
        let list_id = ids.id("list");
        payload.push(json!({"contentReference": reference(&list_id)}));
        json!({
            "resourceType": "List",
            "id": list_id,
            "status": "current",
            "mode": "snapshot",
            "entry": parsed.medication.iter().map(|m| json!({"item": {"display": m}})).collect::<Vec<_>>(),
        })
    });
    let cr = json!({
        "resourceType": "CommunicationRequest",
        "id": cr_id,
        "status": "unknown",
        "subject": reference(patient_id),
        "payload": payload,
        "requester": {"identifier": identifier(ODS_SYSTEM, ods_code)},
        "recipient": [{"identifier": identifier(NHS_NUMBER_SYSTEM, nhs_number)}],
    });
    (cr, list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_then_controlled_drug_words_then_note() {
        let p = parse("<medication>A &amp; B</medication><patientInfo>Closed</patientInfo>CD: ten\nTake &lt;2&gt;");
        assert_eq!(p.medication, vec!["A & B"]);
        assert_eq!(p.patient_info, vec!["Closed"]);
        assert_eq!(p.controlled_drug_words, "ten");
        assert_eq!(p.note, "Take <2>");
    }

    #[test]
    fn plain_text_is_the_note() {
        let p = parse("Dosage has been decreased");
        assert_eq!(p.note, "Dosage has been decreased");
        assert!(p.medication.is_empty());
        assert_eq!(parse("CD: twenty").controlled_drug_words, "twenty");
    }

    #[test]
    fn unknown_references_are_kept() {
        assert_eq!(unescape("a &b; &#65; &#x42;&"), "a &b; A B&");
    }
}
