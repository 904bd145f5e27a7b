//! Hostile and malformed HL7 v3 input is refused quickly, with an error that says what and
//! where — never a panic, never partial output. (No corpus needed.)

use eps_translator::error::IssueCode;
use eps_translator::to_fhir::to_fhir;

fn refused(input: &[u8]) -> eps_translator::Rejection {
    match to_fhir(input) {
        Ok(out) => panic!("accepted: {}", &out[..out.len().min(200)]),
        Err(r) => r,
    }
}

#[test]
fn unclosed_tag_is_refused_with_its_position() {
    let r = refused(b"<?xml version=\"1.0\"?>\n<ParentPrescription xmlns=\"urn:hl7-org:v3\">\n  <id root=\"X\">\n</ParentPrescription>");
    let issue = &r.issues[0];
    assert_eq!(issue.code, IssueCode::Structure);
    assert!(issue.diagnostics.contains("malformed xml"), "{issue}");
    assert!(
        issue.expression.as_deref().is_some_and(|e| e.contains(':')),
        "{issue}"
    );
}

#[test]
fn wrong_namespace_is_refused_naming_the_element() {
    let r = refused(
        b"<ParentPrescription xmlns=\"urn:example:not-hl7\"><id root=\"X\"/></ParentPrescription>",
    );
    let issue = &r.issues[0];
    assert_eq!(issue.code, IssueCode::NotSupported);
    assert!(issue.diagnostics.contains("urn:example:not-hl7"), "{issue}");
    assert_eq!(issue.expression.as_deref(), Some("1:1 /ParentPrescription"));
}

#[test]
fn dtd_with_entities_is_refused() {
    let lol = b"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>\n<ParentPrescription xmlns=\"urn:hl7-org:v3\">&lol2;</ParentPrescription>";
    let r = refused(lol);
    assert!(
        r.issues[0].diagnostics.to_lowercase().contains("dtd")
            || r.issues[0].diagnostics.contains("entity"),
        "{}",
        r.issues[0]
    );
}

#[test]
fn ten_thousand_deep_nesting_is_refused() {
    let mut xml = String::from("<ParentPrescription xmlns=\"urn:hl7-org:v3\">");
    for _ in 0..10_000 {
        xml.push_str("<a>");
    }
    for _ in 0..10_000 {
        xml.push_str("</a>");
    }
    xml.push_str("</ParentPrescription>");
    let r = refused(xml.as_bytes());
    assert_eq!(r.issues[0].code, IssueCode::TooCostly);
    assert!(
        r.issues[0].diagnostics.contains("nested deeper"),
        "{}",
        r.issues[0]
    );
}

#[test]
fn fifty_megabyte_text_node_is_refused_before_parsing() {
    let mut xml = b"<ParentPrescription xmlns=\"urn:hl7-org:v3\"><id root=\"".to_vec();
    xml.resize(xml.len() + 50 * 1024 * 1024, b'x');
    xml.extend_from_slice(b"\"/></ParentPrescription>");
    let r = refused(&xml);
    assert_eq!(r.issues[0].code, IssueCode::TooCostly);
    assert!(
        r.issues[0].diagnostics.contains("over the limit"),
        "{}",
        r.issues[0]
    );
}

#[test]
fn not_utf8_is_refused() {
    let r = refused(b"<ParentPrescription xmlns=\"urn:hl7-org:v3\">\xff</ParentPrescription>");
    assert!(r.issues[0].diagnostics.contains("UTF-8"), "{}", r.issues[0]);
}

#[test]
fn a_missing_element_is_named_with_its_path() {
    let r = refused(b"<ParentPrescription xmlns=\"urn:hl7-org:v3\">\n  <id root=\"A\"/>\n  <effectiveTime value=\"20220101\"/>\n</ParentPrescription>");
    let issue = &r.issues[0];
    assert_eq!(issue.code, IssueCode::Required);
    assert!(issue.diagnostics.contains("recordTarget"), "{issue}");
    assert_eq!(issue.expression.as_deref(), Some("1:1 /ParentPrescription"));
}

#[test]
fn a_bad_value_is_named_with_its_attribute() {
    let r = refused(b"<ParentPrescription xmlns=\"urn:hl7-org:v3\">\n  <id root=\"A\"/>\n  <effectiveTime value=\"2022-01-01\"/>\n</ParentPrescription>");
    let issue = &r.issues[0];
    assert_eq!(issue.code, IssueCode::Value);
    assert_eq!(
        issue.expression.as_deref(),
        Some("3:3 /ParentPrescription/effectiveTime/@value")
    );
}

#[test]
fn a_release_rejection_without_its_reason_is_refused_naming_the_place() {
    let r = refused(
        b"<PORX_IN110101UK30 xmlns=\"urn:hl7-org:v3\">\n  <id root=\"A\"/>\n  <creationTime value=\"20221129154500\"/>\n  <acknowledgement typeCode=\"AE\"/>\n  <ControlActEvent>\n    <subject>\n      <PrescriptionReleaseReject>\n        <pertinentInformation>\n          <pertinentRejectionReason/>\n        </pertinentInformation>\n      </PrescriptionReleaseReject>\n    </subject>\n  </ControlActEvent>\n</PORX_IN110101UK30>",
    );
    let issue = &r.issues[0];
    assert_eq!(issue.code, IssueCode::Required);
    assert!(issue.diagnostics.contains("value"), "{issue}");
    assert_eq!(
        issue.expression.as_deref(),
        Some("9:11 /PORX_IN110101UK30/ControlActEvent/subject/PrescriptionReleaseReject/pertinentInformation/pertinentRejectionReason")
    );
}
