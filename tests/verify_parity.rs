//! Parity with the reference verifier on the shared corpus, check by check:
//!
//! * the four signed prescriptions of `eps-signatures/signed-prescriptions/` get the verdicts
//!   `shared/README.md` lists (the ARL pair belongs to revocation), with the test sub-CA
//!   `NHS_INT_Level1D_Base64_pem.cer` as the anchor;
//! * the five release responses split into passed and failed prescriptions as
//!   `eps-oracle/release-responses/` shows, with the OperationOutcome the reference writes
//!   before each failed one.

mod common;

use eps_translator::datetime::Instant;
use eps_translator::to_fhir::{to_fhir_with, Signatures};
use eps_translator::verify::{self, Check, Status, Trust};
use serde_json::Value;
use std::path::Path;

/// The time the oracle's release responses were made at.
const CHECKED_AT: &str = "2024-12-09T11:50:04Z";

fn level_1d(shared: &Path) -> Trust {
    let mut trust = Trust::new();
    let pem =
        std::fs::read(shared.join("eps-signatures/certificates/NHS_INT_Level1D_Base64_pem.cer"))
            .unwrap();
    assert_eq!(trust.add_anchors(&pem).unwrap(), 1);
    // The reference treats a CRL it cannot fetch as "not revoked"; the corpus comes with no
    // CRL for Level 1D, so parity is under `prefer` (an unknown status is a warning).
    trust.policy.revocation = verify::RevocationPolicy::Prefer;
    trust
}

fn at() -> Instant {
    Instant::parse_rfc3339(CHECKED_AT).unwrap()
}

use Status::{Failed as F, NotChecked as N, Passed as P, Unknown as U};

/// Expected statuses in `Check::ALL` order: format, single-certificate, certificate, profile,
/// signature, digest, revocation, ca-revocation, validity, trust.
struct Case {
    file: &'static str,
    statuses: [Status; 10],
    /// The reference's verdict strings for this file with the same anchor, where ours agree.
    errors: &'static [&'static str],
    why: &'static str,
}

const CASES: &[Case] = &[
    Case {
        file: "ValidSignature.xml",
        statuses: [P, P, P, P, P, P, N, N, P, F],
        errors: &["Certificate not trusted"],
        why: "rsa-sha1 signature and digest verify; signed under NHS INT Level 2D, which is not the configured anchor",
    },
    Case {
        file: "SignatureAlgorithmSha256.xml",
        statuses: [P, P, P, P, P, F, N, N, P, F],
        errors: &["Signature doesn't match prescription", "Certificate not trusted"],
        why: "the rsa-sha256 signature value verifies; the prescription's SHA-256 fragment digest differs from DigestValue, as the reference also finds; signed under NHS INT Signing G2",
    },
    Case {
        file: "SignatureIsInvalid.xml",
        statuses: [P, P, P, P, F, P, U, U, P, P],
        errors: &["Signature is invalid"],
        why: "the signature value does not verify; digest, validity and the chain to Level 1D hold; no CRL is given, so revocation is unknown",
    },
    Case {
        file: "SignatureDoesNotMatchPrescription.xml",
        statuses: [P, P, P, P, F, F, N, N, P, F],
        errors: &["Signature is invalid", "Signature doesn't match prescription", "Certificate not trusted"],
        why: "the prescription was changed after signing: the digest differs, and the SignedInfo carrying the changed DigestValue is not what was signed",
    },
];

fn signed_prescriptions_get_the_reference_verdicts_check_by_check() {
    let Some(shared) = common::shared_dir("verify parity (signed prescriptions)") else {
        return;
    };
    let trust = level_1d(&shared);
    let mut agreed = 0;
    let mut failures = Vec::new();
    for case in CASES {
        let path = shared
            .join("eps-signatures/signed-prescriptions")
            .join(case.file);
        let report = verify::verify(&std::fs::read(&path).unwrap(), &trust, at()).unwrap();
        assert_eq!(report.prescriptions.len(), 1, "{}", case.file);
        let verdict = &report.prescriptions[0];
        let statuses: Vec<Status> = Check::ALL
            .iter()
            .map(|c| verdict.result(*c).unwrap().status)
            .collect();
        if statuses != case.statuses || verdict.errors() != case.errors {
            failures.push(format!(
                "{} ({}):\n  expected {:?} {:?}\n  got      {:?} {:?}\n  {:#?}",
                case.file,
                case.why,
                case.statuses,
                case.errors,
                statuses,
                verdict.errors(),
                verdict.checks
            ));
        } else {
            agreed += 1;
        }
        assert!(
            !verdict.is_valid(),
            "{}: no corpus prescription is fully valid under Level 1D",
            case.file
        );
    }
    println!(
        "verify parity: {agreed}/{} signed prescriptions, check by check",
        CASES.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The reference's verdicts on the release responses (eps-oracle/README.md), per
/// prescription: its errors with the Level 1D anchor.
const RELEASES: &[(&str, usize, &[&str])] = &[
    ("full_successful_release", 20, &["Certificate not trusted"]),
    ("release_invalid", 1, &["Signature is invalid"]),
    ("release_success", 1, &[]),
    (
        "repeat_dispensing_release_success",
        1,
        &["Certificate not trusted"],
    ),
    (
        "repeat_prescribing_release_success",
        1,
        &["Invalid signature format"],
    ),
];

/// `(prescription id, OperationOutcome without its id)` for each failed entry, and the ids of
/// the passed prescriptions, from a release-response Parameters.
fn split(parameters: &Value) -> (Vec<String>, Vec<(String, Value)>) {
    let bundle_id = |b: &Value| b["identifier"]["value"].as_str().unwrap().to_string();
    let entries = |i: usize| {
        parameters["parameter"][i]["resource"]["entry"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let passed = entries(0)
        .iter()
        .map(|e| bundle_id(&e["resource"]))
        .collect();
    let failed = entries(1)
        .chunks(2)
        .map(|pair| {
            let mut outcome = pair[0]["resource"].clone();
            assert_eq!(outcome["resourceType"], "OperationOutcome");
            outcome.as_object_mut().unwrap().remove("id");
            (bundle_id(&pair[1]["resource"]), outcome)
        })
        .collect();
    (passed, failed)
}

fn release_responses_split_as_the_reference_splits_them() {
    let Some(shared) = common::shared_dir("verify parity (release responses)") else {
        return;
    };
    let trust = level_1d(&shared);
    let mut agreed = 0;
    for (name, count, errors) in RELEASES {
        let xml = std::fs::read(shared.join(format!("eps-release-responses/{name}.xml"))).unwrap();
        // The verdicts.
        let report = verify::verify(&xml, &trust, at()).unwrap();
        assert_eq!(report.prescriptions.len(), *count, "{name}");
        for p in &report.prescriptions {
            assert_eq!(p.errors(), *errors, "{name} {}: {:#?}", p.id, p.checks);
        }
        // The translation's split and OperationOutcomes.
        let ours: Value = serde_json::from_str(
            &to_fhir_with(
                &xml,
                &Signatures::Verify {
                    trust: &trust,
                    at: at(),
                },
            )
            .unwrap(),
        )
        .unwrap();
        let reference: Value = serde_json::from_slice(
            &std::fs::read(shared.join(format!("eps-oracle/release-responses/{name}.json")))
                .unwrap(),
        )
        .unwrap();
        let (our_passed, mut our_failed) = split(&ours);
        let (ref_passed, ref_failed) = split(&reference);
        assert_eq!(our_passed, ref_passed, "{name}: passed prescriptions");
        for (_, outcome) in &mut our_failed {
            let issue = outcome["issue"][0].as_object_mut().unwrap();
            let diagnostics = issue.remove("diagnostics").expect("our per-check detail");
            for verdict in *errors {
                assert!(
                    diagnostics.as_str().unwrap().contains(verdict),
                    "{name}: {diagnostics}"
                );
            }
        }
        assert_eq!(
            our_failed, ref_failed,
            "{name}: failed prescriptions and their OperationOutcomes"
        );
        // The prescription Bundles are the ones the unchecked translation lists (compared
        // with the reference in to_fhir_conformance).
        let unchecked: Value =
            serde_json::from_str(&to_fhir_with(&xml, &Signatures::NotChecked).unwrap()).unwrap();
        let all_ours: Vec<&Value> = ours["parameter"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["resource"]["entry"].as_array().unwrap())
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == "Bundle")
            .collect();
        let all_unchecked: Vec<&Value> = unchecked["parameter"][0]["resource"]["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        assert_eq!(all_ours.len(), all_unchecked.len(), "{name}");
        for bundle in all_ours {
            assert!(
                all_unchecked.contains(&bundle),
                "{name}: a Bundle differs from the unchecked translation's"
            );
        }
        agreed += 1;
    }
    println!(
        "verify parity: {agreed}/{} release responses split as the reference splits them",
        RELEASES.len()
    );
}

fn release_translation_without_anchors_is_refused_and_unchecked_is_tagged() {
    let Some(shared) = common::shared_dir("verify parity (no anchors)") else {
        return;
    };
    let xml = std::fs::read(shared.join("eps-release-responses/release_invalid.xml")).unwrap();
    let empty = Trust::new();
    let refused = to_fhir_with(
        &xml,
        &Signatures::Verify {
            trust: &empty,
            at: at(),
        },
    )
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("no trust anchor is configured"),
        "{refused}"
    );
    let unchecked: Value =
        serde_json::from_str(&to_fhir_with(&xml, &Signatures::NotChecked).unwrap()).unwrap();
    assert_eq!(unchecked["meta"]["tag"][0]["code"], "not-checked");
    assert_eq!(unchecked["parameter"][0]["resource"]["total"], 1);
}

/// The corpus' `$verify-signature` request (a searchset of one signed prescription-order
/// Bundle): the reference, converting the Bundle and verifying the result, finds the signature
/// value and the chain to Level 1D good and the digest not matching; so do we.
fn the_corpus_verify_signature_request_gets_the_reference_verdict() {
    let Some(shared) = common::shared_dir("verify parity (FHIR request)") else {
        return;
    };
    let request = shared.join("eps-examples/secondary-care/community/acute/nominated-pharmacy/clinical-practitioner/1-VerifySignature-Request-200_OK.json");
    let report =
        verify::verify(&std::fs::read(request).unwrap(), &level_1d(&shared), at()).unwrap();
    assert_eq!(report.prescriptions.len(), 1);
    let verdict = &report.prescriptions[0];
    assert_eq!(verdict.errors(), ["Signature doesn't match prescription"]);
    for check in [Check::Signature, Check::Validity, Check::Trust] {
        assert_eq!(verdict.result(check).unwrap().status, P, "{check:?}");
    }
    assert_eq!(
        verify::message::message_identifier(verdict),
        "6faf886e-b7a9-4a82-ab48-cc51747ec9e7"
    );
    println!("verify parity: 1/1 FHIR verify-signature request");
}

fn main() -> std::process::ExitCode {
    use common::Needs;
    common::run_suite(
        "verify_parity",
        &[
            (
                "signed_prescriptions_get_the_reference_verdicts_check_by_check",
                Needs::Corpus,
                signed_prescriptions_get_the_reference_verdicts_check_by_check,
            ),
            (
                "release_responses_split_as_the_reference_splits_them",
                Needs::Corpus,
                release_responses_split_as_the_reference_splits_them,
            ),
            (
                "release_translation_without_anchors_is_refused_and_unchecked_is_tagged",
                Needs::Corpus,
                release_translation_without_anchors_is_refused_and_unchecked_is_tagged,
            ),
            (
                "the_corpus_verify_signature_request_gets_the_reference_verdict",
                Needs::Corpus,
                the_corpus_verify_signature_request_gets_the_reference_verdict,
            ),
        ],
    )
}
