//! Refused XML names its place as `line:column` in every entry point, with the same issue code
//! for the same problem: truncated documents at the end of the text (not `1:1`), malformed
//! markup where it is, non-UTF-8 input at the invalid byte's line and column.

use eps_translator::c14n::{canonicalize, Mode, Options};
use eps_translator::{to_fhir, translate, IssueCode, Rejection};

fn c14n(text: &str) -> Rejection {
    canonicalize(text, &Options::new(Mode::Exclusive))
        .unwrap_err()
        .to_rejection(text)
}

fn first(r: &Rejection) -> (IssueCode, Option<&str>) {
    (r.issues[0].code, r.issues[0].expression.as_deref())
}

#[test]
fn a_truncated_document_is_placed_at_its_end_in_to_fhir_and_c14n() {
    for (text, at) in [("<a>\n  <b>", "2:6"), ("<a><b></b>", "1:11"), ("<a", "1:3")] {
        let from_to_fhir = to_fhir::to_fhir(text.as_bytes()).unwrap_err();
        assert_eq!(
            first(&from_to_fhir),
            (IssueCode::Structure, Some(at)),
            "{text}"
        );
        assert_eq!(
            first(&c14n(text)),
            (IssueCode::Structure, Some(at)),
            "{text}"
        );
    }
}

#[test]
fn malformed_markup_is_placed_where_it_is() {
    let text = "<a>\n  <b></c>\n</a>";
    let from_to_fhir = to_fhir::to_fhir(text.as_bytes()).unwrap_err();
    let from_c14n = c14n(text);
    assert_eq!(first(&from_to_fhir), first(&from_c14n));
    assert_eq!(from_c14n.issues[0].code, IssueCode::Structure);
    assert!(
        from_c14n.issues[0]
            .expression
            .as_deref()
            .is_some_and(|p| p.starts_with("2:")),
        "{from_c14n}"
    );
}

#[test]
fn non_utf8_input_is_placed_at_the_invalid_byte() {
    let xml = b"<a>\n  \xff</a>";
    let refused = to_fhir::to_fhir(xml).unwrap_err();
    assert_eq!(first(&refused), (IssueCode::Structure, Some("2:3")));
    assert!(refused.issues[0].diagnostics.contains("byte offset 6"));

    let json = b"{\n\n  \"resourceType\": \"Bundle\xc3\"}";
    let ctx = eps_translator::Context::new(
        eps_translator::datetime::Instant::parse_rfc3339("2026-01-01T00:00:00Z").unwrap(),
    );
    let refused = translate::convert(json, &ctx).unwrap_err();
    assert_eq!(first(&refused), (IssueCode::Structure, Some("3:26")));
}
