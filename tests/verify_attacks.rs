//! The verifier end to end with a test PKI made here (root → sub-CA → signer), and the
//! attacks it must refuse, each with the verdict that names it:
//!
//! * a prescription signed as a prescriber system signs it verifies in its HL7 v3 and FHIR
//!   forms, under a root anchor (sub-CA as intermediate) and under a sub-CA anchor;
//! * forged, self-signed, misissued, misused, expired and not-yet-valid certificates;
//! * every single-character change of the signed content and of `SignedInfo`;
//! * departures from the pinned profile, extra signatures and certificates, DTDs and
//!   entities, an oversized `SignatureValue`.

mod common;
mod verify_support;

use eps_translator::verify::{self, Check, PrescriptionVerdict, Status, Trust};
use verify_support::*;

fn verdict(input: &[u8], trust: &Trust) -> Result<PrescriptionVerdict, String> {
    let report = verify::verify(input, trust, checked_at()).map_err(|e| e.to_string())?;
    assert_eq!(report.prescriptions.len(), 1, "one prescription");
    Ok(report.prescriptions.into_iter().next().unwrap())
}

/// The sub-CA as the anchor; the root as an intermediate, whose key checks the ARL.
fn sub_ca_anchor() -> Trust {
    let mut trust = Trust::new();
    trust.add_anchors(&pki().sub_ca.pem()).unwrap();
    trust.add_intermediates(&pki().root.pem()).unwrap();
    for (name, crl) in pki().good_crls() {
        trust.add_crls(&crl, name).unwrap();
    }
    trust
}

fn a_prescription_signed_under_the_test_pki_verifies_in_both_forms() {
    let Some(shared) = common::shared_dir("verify end to end") else {
        return;
    };
    let pki = pki();
    let bundle = sign_bundle(&corpus_bundle(&shared), &pki.signer_key, &pki.signer);
    let xml = convert(&bundle);
    let searchset = serde_json::to_vec(&serde_json::json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": serde_json::from_slice::<serde_json::Value>(&bundle).unwrap()},
            {"resource": serde_json::from_slice::<serde_json::Value>(&bundle).unwrap()},
        ],
    }))
    .unwrap();
    let mut valid = 0;
    for (label, trust) in [
        ("root anchor, sub-CA intermediate", pki.trust()),
        ("sub-CA anchor", sub_ca_anchor()),
    ] {
        for (form, input) in [
            ("HL7 v3", xml.as_bytes()),
            ("FHIR", &bundle[..]),
            ("FHIR searchset", &searchset[..]),
        ] {
            let report = verify::verify(input, &trust, checked_at()).unwrap();
            assert!(!report.prescriptions.is_empty());
            for p in &report.prescriptions {
                assert!(p.is_valid(), "{form} under {label}: {:#?}", p.checks);
                for check in [Check::Revocation, Check::CaRevocation] {
                    assert_eq!(p.result(check).unwrap().status, Status::Passed);
                }
                valid += 1;
            }
        }
    }
    println!("verify end to end: {valid}/8 signed prescriptions valid (HL7 v3, FHIR, searchset; two trust configurations)");
    assert_eq!(valid, 8);
}

/// What an attack must get.
enum Expect {
    /// This check fails (and so the prescription is not valid).
    Fails(Check),
    /// The input is refused outright, with a message containing this.
    Refused(&'static str),
}

fn check(name: &str, input: &[u8], trust: &Trust, expect: &Expect, failures: &mut Vec<String>) {
    match (verdict(input, trust), expect) {
        (Ok(v), Expect::Fails(check)) => {
            let failed = v.result(*check).is_some_and(|r| r.status == Status::Failed);
            if !failed || v.is_valid() || !v.errors().contains(&check.verdict()) {
                failures.push(format!(
                    "{name}: expected {} to fail, got {:#?}",
                    check.name(),
                    v.checks
                ));
            }
        }
        (Err(e), Expect::Refused(text)) if e.contains(text) => {}
        (Err(e), _) => failures.push(format!("{name}: refused: {e}")),
        (Ok(v), Expect::Refused(text)) => failures.push(format!(
            "{name}: expected a refusal naming '{text}', got {:#?}",
            v.checks
        )),
    }
}

fn attacks_are_refused_with_the_verdict_that_names_them() {
    let Some(shared) = common::shared_dir("verify attacks") else {
        return;
    };
    let pki = pki();
    let corpus = corpus_bundle(&shared);
    let trust = pki.trust();
    let signed = |key: &Key, cert: &Cert| convert(&sign_bundle(&corpus, key, cert));
    let by_sub_ca = |p| issue(p, &pki.signer_key, Some((&pki.sub_ca, &pki.sub_key)));
    let good = signed(&pki.signer_key, &pki.signer);
    assert!(verdict(good.as_bytes(), &trust).unwrap().is_valid());
    let edit = |from: &str, to: &str| {
        assert!(good.contains(from), "the signed message holds {from}");
        good.replacen(from, to, 1)
    };
    let between = |open: &str, close: &str| {
        let start = good.find(open).unwrap();
        let end = good[start..].find(close).unwrap() + start + close.len();
        good[start..end].to_string()
    };

    let forged = pki.forged_sub_ca();
    let forged_signer = issue(
        params("Test Prescriber", Role::Signer, VALID),
        &pki.signer_key,
        Some((&forged, &pki.other_key)),
    );
    let mut trust_with_forgery = pki.trust();
    trust_with_forgery.add_intermediates(&forged.pem()).unwrap();
    let non_ca = issue(
        params("Test Not A CA", Role::Signer, VALID),
        &pki.other_key,
        Some((&pki.sub_ca, &pki.sub_key)),
    );
    let under_non_ca = issue(
        params("Test Prescriber", Role::Signer, VALID),
        &pki.signer_key,
        Some((&non_ca, &pki.other_key)),
    );
    let mut trust_with_non_ca = pki.trust();
    trust_with_non_ca.add_intermediates(&non_ca.pem()).unwrap();
    let other_key_cert = issue(
        params("Test Prescriber", Role::Signer, VALID),
        &pki.other_key,
        Some((&pki.sub_ca, &pki.sub_key)),
    );
    let expired = (
        time::macros::datetime!(2020-01-01 0:00 UTC),
        time::macros::datetime!(2024-12-31 0:00 UTC),
    );
    let not_yet = (
        time::macros::datetime!(2025-02-01 0:00 UTC),
        time::macros::datetime!(2030-01-01 0:00 UTC),
    );

    let signed_info = between("<SignedInfo", "</SignedInfo>");
    let reference = between("<Reference", "</Reference>");
    let signature = between("<Signature ", "</Signature>");
    let certificate = between("<X509Certificate>", "</X509Certificate>");
    let digest_value = between("<DigestValue>", "</DigestValue>");
    let exc = "http://www.w3.org/2001/10/xml-exc-c14n#";
    let huge = format!(
        "<SignatureValue>{}</SignatureValue>",
        "A".repeat(10 * 1024 * 1024)
    );
    let mut dtd_signature_bundle: serde_json::Value =
        serde_json::from_slice(&sign_bundle(&corpus, &pki.signer_key, &pki.signer)).unwrap();
    for entry in dtd_signature_bundle["entry"].as_array_mut().unwrap() {
        if entry["resource"]["resourceType"] == "Provenance" {
            let xml = String::from_utf8(
                base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    entry["resource"]["signature"][0]["data"].as_str().unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
            let with_dtd = format!(
                "<!DOCTYPE Signature [<!ENTITY d \"x\">]>{}",
                xml.replacen("</DigestValue>", "&d;</DigestValue>", 1)
            );
            entry["resource"]["signature"][0]["data"] = b64(with_dtd.as_bytes()).into();
        }
    }

    let no_anchor = Trust::new();
    use Check::{Certificate, Format, Profile, Signature, SingleCertificate, Validity};
    use Expect::*;
    let cases: Vec<(&str, Vec<u8>, &Trust, Expect)> = vec![
        ("forged issuer: the sub-CA's name and key identifier, another key", signed(&pki.signer_key, &forged_signer).into_bytes(), &trust, Fails(Check::Trust)),
        ("forged issuer, offered as an intermediate too", signed(&pki.signer_key, &forged_signer).into_bytes(), &trust_with_forgery, Fails(Check::Trust)),
        ("self-signed signer", signed(&pki.signer_key, &issue(params("Test Prescriber", Role::Signer, VALID), &pki.signer_key, None)).into_bytes(), &trust, Fails(Check::Trust)),
        ("signer issued by a certificate that is not a CA", signed(&pki.signer_key, &under_non_ca).into_bytes(), &trust_with_non_ca, Fails(Check::Trust)),
        ("signer whose keyUsage allows no signing", signed(&pki.signer_key, &by_sub_ca(params("Test Prescriber", Role::EnciphermentOnly, VALID))).into_bytes(), &trust, Fails(Check::Trust)),
        ("certificate expired when signed", signed(&pki.signer_key, &by_sub_ca(params("Test Prescriber", Role::Signer, expired))).into_bytes(), &trust, Fails(Validity)),
        ("certificate not yet valid when signed", signed(&pki.signer_key, &by_sub_ca(params("Test Prescriber", Role::Signer, not_yet))).into_bytes(), &trust, Fails(Validity)),
        ("certificate of another key than the one that signed", signed(&pki.signer_key, &other_key_cert).into_bytes(), &trust, Fails(Signature)),
        ("no trust anchor configured", good.clone().into_bytes(), &no_anchor, Fails(Check::Trust)),
        ("two References", edit(&reference, &format!("{reference}{reference}")).into_bytes(), &trust, Fails(Profile)),
        ("a Reference with a URI", edit("<Reference>", "<Reference URI=\"#prescription\">").into_bytes(), &trust, Fails(Profile)),
        ("a Reference with an empty URI", edit("<Reference>", "<Reference URI=\"\">").into_bytes(), &trust, Fails(Profile)),
        ("an extra transform", edit("</Transforms>", "<Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/></Transforms>").into_bytes(), &trust, Fails(Profile)),
        ("a different transform", edit(&format!("<Transform Algorithm=\"{exc}\""), "<Transform Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"").into_bytes(), &trust, Fails(Profile)),
        ("rsa-sha512", edit("xmldsig-more#rsa-sha256", "xmldsig-more#rsa-sha512").into_bytes(), &trust, Fails(Profile)),
        ("DigestMethod not matching SignatureMethod", edit("xmlenc#sha256", "xmlenc#sha512").into_bytes(), &trust, Fails(Profile)),
        ("a comment inside DigestValue", edit(&digest_value, &digest_value.replacen("</DigestValue>", "<!-- x --></DigestValue>", 1)).into_bytes(), &trust, Fails(Profile)),
        ("a processing instruction inside SignedInfo", edit(&signed_info, &signed_info.replacen("<Reference>", "<?pi x?><Reference>", 1)).into_bytes(), &trust, Fails(Profile)),
        ("two Signature elements", edit(&signature, &format!("{signature}{signature}")).into_bytes(), &trust, Fails(Format)),
        ("a second certificate", edit(&certificate, &format!("{certificate}{certificate}")).into_bytes(), &trust, Fails(SingleCertificate)),
        ("a certificate that is not X.509", edit(&certificate, "<X509Certificate>bm90IGEgY2VydGlmaWNhdGU=</X509Certificate>").into_bytes(), &trust, Fails(Certificate)),
        ("no signature", edit(&signature, "").into_bytes(), &trust, Fails(Format)),
        ("a DTD in the message", format!("<!DOCTYPE x [<!ENTITY e \"1\">]>{}", good.trim_start_matches(|c| c != '<').split_once("?>").map_or(good.as_str(), |(_, rest)| rest)).into_bytes(), &trust, Refused("document type declaration")),
        ("an entity reference in the signature text", edit(&digest_value, &digest_value.replacen("</DigestValue>", "&e;</DigestValue>", 1)).into_bytes(), &trust, Refused("entity")),
        ("a DTD and entity in the FHIR signature", serde_json::to_vec(&dtd_signature_bundle).unwrap(), &trust, Refused("document type declaration")),
        ("a 10 MB SignatureValue", edit(&between("<SignatureValue>", "</SignatureValue>"), &huge).into_bytes(), &trust, Fails(Signature)),
    ];
    let mut failures = Vec::new();
    for (name, input, trust, expect) in &cases {
        check(name, input, trust, expect, &mut failures);
    }
    println!(
        "verify attacks: refused {}/{} with the expected verdict",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The positions of the characters that can be changed in `raw` (XML source text) and
/// leave it well-formed: ASCII letters and digits outside entity and character references.
fn changeable(raw: &str) -> Vec<usize> {
    let mut in_reference = false;
    let mut out = Vec::new();
    for (i, b) in raw.bytes().enumerate() {
        match b {
            b'&' => in_reference = true,
            b';' => in_reference = false,
            _ if !in_reference && b.is_ascii_alphanumeric() => out.push(i),
            _ => {}
        }
    }
    out
}

fn changed(b: u8) -> u8 {
    match b {
        b'9' => b'0',
        b'z' => b'a',
        b'Z' => b'A',
        _ => b + 1,
    }
}

/// Every attribute value and non-blank text inside `nodes` (the ranges in the source),
/// leaving out the subtrees named in `skip`.
fn value_ranges(nodes: &[roxmltree::Node<'_, '_>], skip: &[&str]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    for node in nodes {
        for d in node.descendants() {
            if d.ancestors()
                .take_while(|a| a != &node.parent().unwrap())
                .any(|a| skip.contains(&a.tag_name().name()))
            {
                continue;
            }
            if d.is_element() {
                out.extend(d.attributes().map(|a| a.range_value()));
            } else if d.is_text() && !d.text().unwrap_or_default().trim().is_empty() {
                out.push(d.range());
            }
        }
    }
    out
}

fn every_single_change_of_the_signed_content_or_signed_info_is_refused() {
    let Some(shared) = common::shared_dir("verify single changes") else {
        return;
    };
    let pki = pki();
    let trust = pki.trust();
    let good = convert(&sign_bundle(
        &corpus_bundle(&shared),
        &pki.signer_key,
        &pki.signer,
    ));
    assert!(verdict(good.as_bytes(), &trust).unwrap().is_valid());
    let doc = roxmltree::Document::parse(&good).unwrap();
    fn find<'a, 'i>(
        doc: &'a roxmltree::Document<'i>,
        name: &'static str,
    ) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
        doc.descendants()
            .filter(move |n| n.tag_name().name() == name)
    }
    fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> roxmltree::Node<'a, 'i> {
        n.children().find(|c| c.tag_name().name() == name).unwrap()
    }
    let find = |name| find(&doc, name);
    let prescription = find("pertinentPrescription").next().unwrap();
    let author = prescription
        .children()
        .find(|n| n.tag_name().name() == "author")
        .unwrap();
    let mut signed_parts = vec![
        child(author, "time"),
        child(prescription, "id"),
        child(author, "AgentPerson"),
        find("recordTarget").next().unwrap(),
    ];
    signed_parts.extend(find("pertinentLineItem"));
    let content = value_ranges(
        &signed_parts,
        &["pertinentInformation4", "pertinentItemStatus", "statusCode"],
    );
    let signed_info = value_ranges(&[find("SignedInfo").next().unwrap()], &[]);

    let mutate = |at: usize| {
        let mut bytes = good.clone().into_bytes();
        bytes[at] = changed(bytes[at]);
        bytes
    };
    // Signed content: the first changeable character of each value. SignedInfo: every one.
    let first = |r: &std::ops::Range<usize>| {
        changeable(&good[r.clone()])
            .first()
            .map(|i| (r.clone(), r.start + i))
    };
    let every = |r: &std::ops::Range<usize>| {
        changeable(&good[r.clone()])
            .into_iter()
            .map(|i| (r.clone(), r.start + i))
            .collect::<Vec<_>>()
    };
    let mut failures = Vec::new();
    let (mut refused, mut tried) = (0, 0);
    for (range, at) in content.iter().filter_map(first) {
        let input = mutate(at);
        tried += 1;
        match verdict(&input, &trust) {
            Ok(v) if !v.is_valid() && v.result(Check::Digest).unwrap().status == Status::Failed => {
                refused += 1
            }
            Ok(v) => failures.push(format!(
                "content change at {range:?} '{}': {:?}",
                &good[range.clone()],
                v.errors()
            )),
            Err(e) => failures.push(format!(
                "content change at {range:?}: refused as input: {e}"
            )),
        }
    }
    println!(
        "verify single changes: signed content refused {refused}/{tried} (digest does not match)"
    );
    let (mut si_refused, mut si_tried) = (0, 0);
    for (range, at) in signed_info.iter().flat_map(every) {
        let input = mutate(at);
        si_tried += 1;
        match verdict(&input, &trust) {
            Ok(v)
                if !v.is_valid()
                    && [Check::Profile, Check::Signature, Check::Digest]
                        .iter()
                        .any(|c| v.result(*c).unwrap().status == Status::Failed) =>
            {
                si_refused += 1
            }
            Ok(v) => failures.push(format!(
                "SignedInfo change at {range:?} '{}': {:?}",
                &good[range.clone()],
                v.errors()
            )),
            Err(e) => failures.push(format!(
                "SignedInfo change at {range:?}: refused as input: {e}"
            )),
        }
    }
    println!("verify single changes: SignedInfo refused {si_refused}/{si_tried}");
    assert!(
        tried > 100 && si_tried > 100,
        "too few changes tried: {tried}, {si_tried}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn main() -> std::process::ExitCode {
    use common::Needs;
    common::run_suite(
        "verify_attacks",
        &[
            (
                "a_prescription_signed_under_the_test_pki_verifies_in_both_forms",
                Needs::Corpus,
                a_prescription_signed_under_the_test_pki_verifies_in_both_forms,
            ),
            (
                "attacks_are_refused_with_the_verdict_that_names_them",
                Needs::Corpus,
                attacks_are_refused_with_the_verdict_that_names_them,
            ),
            (
                "every_single_change_of_the_signed_content_or_signed_info_is_refused",
                Needs::Corpus,
                every_single_change_of_the_signed_content_or_signed_info_is_refused,
            ),
        ],
    )
}
