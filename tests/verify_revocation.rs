//! Revocation: the signer against its CA's CRL and each CA against its issuer's ARL, with a
//! test PKI and CRLs made in the test (no key committed), under the three policies; and the
//! shared ARL pair (`SignatureCertCaOnArl.xml`, `SignatureCertCaNotOnArl.xml`) with
//! `certificates/static/` through the command line, which must give the reference's
//! revocation verdicts.

mod common;
#[path = "verify_support/mod.rs"]
mod verify_support;

use eps_translator::verify::{self, Check, PrescriptionVerdict, RevocationPolicy, Status, Trust};
use rcgen::RevocationReason as R;
use std::process::Command;
use time::macros::datetime;
use verify_support::*;

/// The test Bundle signed by the test signer, as HL7 v3.
fn signed_prescription() -> Option<String> {
    let shared = common::shared_dir("verify revocation")?;
    let pki = pki();
    Some(convert(&sign_bundle(
        &corpus_bundle(&shared),
        &pki.signer_key,
        &pki.signer,
    )))
}

/// Root anchor, sub-CA intermediate, the root's good ARL, and `crls` (DER) as given.
fn trust_with(crls: &[(&str, Vec<u8>)], policy: RevocationPolicy) -> Trust {
    let mut trust = trust_without_arl(crls, policy);
    let [root_arl, _] = pki().good_crls();
    trust.add_crls(&root_arl.1, root_arl.0).unwrap();
    trust
}

/// Root anchor, sub-CA intermediate, and `crls` (DER) as given.
fn trust_without_arl(crls: &[(&str, Vec<u8>)], policy: RevocationPolicy) -> Trust {
    let mut trust = pki().trust_without_crls();
    for (name, der) in crls {
        trust.add_crls(der, name).unwrap();
    }
    trust.policy.revocation = policy;
    trust
}

fn verdict(xml: &str, trust: &Trust) -> PrescriptionVerdict {
    let report = verify::verify(xml.as_bytes(), trust, checked_at()).unwrap();
    assert_eq!(report.prescriptions.len(), 1);
    report.prescriptions.into_iter().next().unwrap()
}

fn sub_ca_crl(revoked: Vec<rcgen::RevokedCertParams>) -> (&'static str, Vec<u8>) {
    let pki = pki();
    (
        "sub-CA CRL",
        crl(&pki.sub_ca, &pki.sub_key, revoked, CRL_WINDOW),
    )
}

/// What a case must give: the two revocation statuses, validity, and a word of the detail.
struct Case {
    name: &'static str,
    crls: Vec<(&'static str, Vec<u8>)>,
    /// Whether the root's good ARL is given too.
    root_arl: bool,
    revocation: Status,
    ca_revocation: Status,
    valid: bool,
    detail: &'static str,
}

#[test]
fn each_revocation_case_gives_the_verdict_its_rules_say() {
    let Some(xml) = signed_prescription() else {
        return;
    };
    let pki = pki();
    let signed = datetime!(2025-01-15 10:00 UTC);
    let before = datetime!(2025-01-01 0:00 UTC);
    let after = datetime!(2025-03-01 0:00 UTC);
    let signer = |when, reason| sub_ca_crl(vec![revoked(&pki.signer, when, reason)]);
    assert!(before < signed && signed < after);
    let cases = vec![
        Case {
            name: "nothing revoked",
            crls: vec![sub_ca_crl(vec![])],
            root_arl: true,
            revocation: Status::Passed,
            ca_revocation: Status::Passed,
            valid: true,
            detail: "is not on the CRL",
        },
        Case {
            name: "signer revoked for keyCompromise after the signing time",
            crls: vec![signer(after, Some(R::KeyCompromise))],
            root_arl: true,
            revocation: Status::Failed,
            ca_revocation: Status::Passed,
            valid: false,
            detail: "keyCompromise, which revokes whatever the signing time",
        },
        Case {
            name: "signer superseded before the signing time",
            crls: vec![signer(before, Some(R::Superseded))],
            root_arl: true,
            revocation: Status::Failed,
            ca_revocation: Status::Passed,
            valid: false,
            detail: "at or before the signing time",
        },
        Case {
            name: "signer superseded at the signing time",
            crls: vec![signer(signed, Some(R::Superseded))],
            root_arl: true,
            revocation: Status::Failed,
            ca_revocation: Status::Passed,
            valid: false,
            detail: "at or before the signing time",
        },
        Case {
            name: "signer revoked without a reason before the signing time",
            crls: vec![signer(before, None)],
            root_arl: true,
            revocation: Status::Failed,
            ca_revocation: Status::Passed,
            valid: false,
            detail: "no reason given",
        },
        Case {
            name: "signer superseded after the signing time",
            crls: vec![signer(after, Some(R::Superseded))],
            root_arl: true,
            revocation: Status::Passed,
            ca_revocation: Status::Passed,
            valid: true,
            detail: "after the signing time",
        },
        Case {
            name: "signer listed with removeFromCRL",
            crls: vec![signer(before, Some(R::RemoveFromCrl))],
            root_arl: true,
            revocation: Status::Passed,
            ca_revocation: Status::Passed,
            valid: true,
            detail: "removeFromCRL, which is not a revocation",
        },
        Case {
            name: "another certificate revoked",
            crls: vec![sub_ca_crl(vec![revoked(
                &pki.sub_ca,
                before,
                Some(R::KeyCompromise),
            )])],
            root_arl: true,
            revocation: Status::Passed,
            ca_revocation: Status::Passed,
            valid: true,
            detail: "is not on the CRL",
        },
        Case {
            name: "sub-CA on the root's ARL (cACompromise)",
            crls: vec![
                sub_ca_crl(vec![]),
                (
                    "root ARL revoking the sub-CA",
                    crl(
                        &pki.root,
                        &pki.root_key,
                        vec![revoked(&pki.sub_ca, after, Some(R::CaCompromise))],
                        (datetime!(2025-02-01 0:00 UTC), CRL_WINDOW.1),
                    ),
                ),
            ],
            root_arl: true,
            revocation: Status::Passed,
            ca_revocation: Status::Failed,
            valid: false,
            detail: "cACompromise",
        },
        Case {
            name: "CRL with the sub-CA's name signed by another key",
            crls: vec![(
                "forged CRL",
                crl(&pki.forged_sub_ca(), &pki.other_key, vec![], CRL_WINDOW),
            )],
            root_arl: true,
            revocation: Status::Unknown,
            ca_revocation: Status::Passed,
            valid: false,
            detail: "its signature does not verify",
        },
        Case {
            name: "CRL from another issuer only (the root's, listing the signer)",
            crls: vec![(
                "root CRL",
                crl(
                    &pki.root,
                    &pki.root_key,
                    vec![revoked(&pki.signer, before, Some(R::KeyCompromise))],
                    (datetime!(2025-02-01 0:00 UTC), CRL_WINDOW.1),
                ),
            )],
            root_arl: true,
            revocation: Status::Unknown,
            ca_revocation: Status::Passed,
            valid: false,
            detail: "no CRL issued by",
        },
        Case {
            name: "stale CRL",
            crls: vec![(
                "stale CRL",
                crl(
                    &pki.sub_ca,
                    &pki.sub_key,
                    vec![],
                    (
                        datetime!(2025-01-01 0:00 UTC),
                        datetime!(2025-05-01 0:00 UTC),
                    ),
                ),
            )],
            root_arl: true,
            revocation: Status::Unknown,
            ca_revocation: Status::Passed,
            valid: false,
            detail: "it is stale",
        },
        Case {
            name: "CRL not yet valid",
            crls: vec![(
                "future CRL",
                crl(
                    &pki.sub_ca,
                    &pki.sub_key,
                    vec![],
                    (
                        datetime!(2025-07-01 0:00 UTC),
                        datetime!(2025-08-01 0:00 UTC),
                    ),
                ),
            )],
            root_arl: true,
            revocation: Status::Unknown,
            ca_revocation: Status::Passed,
            valid: false,
            detail: "not yet valid",
        },
        Case {
            name: "a stale CRL beside a current one: the current one decides",
            crls: vec![
                (
                    "stale CRL",
                    crl(
                        &pki.sub_ca,
                        &pki.sub_key,
                        vec![revoked(&pki.signer, before, Some(R::KeyCompromise))],
                        (
                            datetime!(2024-01-01 0:00 UTC),
                            datetime!(2024-06-01 0:00 UTC),
                        ),
                    ),
                ),
                sub_ca_crl(vec![]),
            ],
            root_arl: true,
            revocation: Status::Passed,
            ca_revocation: Status::Passed,
            valid: true,
            detail: "is not on the CRL",
        },
        Case {
            name: "no ARL from the root",
            crls: vec![sub_ca_crl(vec![])],
            root_arl: false,
            revocation: Status::Passed,
            ca_revocation: Status::Unknown,
            valid: false,
            detail: "no CRL issued by 'O=eps-translator test PKI, CN=Test Root'",
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let trust = if case.root_arl {
            trust_with(&case.crls, RevocationPolicy::Require)
        } else {
            trust_without_arl(&case.crls, RevocationPolicy::Require)
        };
        let v = verdict(&xml, &trust);
        let rev = v.result(Check::Revocation).unwrap();
        let ca = v.result(Check::CaRevocation).unwrap();
        let detail = format!("{} | {}", rev.detail, ca.detail);
        if rev.status != case.revocation
            || ca.status != case.ca_revocation
            || v.is_valid() != case.valid
            || !detail.contains(case.detail)
        {
            failures.push(format!(
                "{}: expected {:?}/{:?} valid {} with '{}', got {:?}/{:?} valid {}: {detail}",
                case.name,
                case.revocation,
                case.ca_revocation,
                case.valid,
                case.detail,
                rev.status,
                ca.status,
                v.is_valid()
            ));
        }
        // The verdict strings name what made it invalid.
        let expected: Vec<&str> = [(rev, Check::Revocation), (ca, Check::CaRevocation)]
            .iter()
            .filter_map(|(r, c)| match r.status {
                Status::Failed => Some(c.verdict()),
                Status::Unknown => Some(c.unknown_verdict()),
                _ => None,
            })
            .collect();
        if v.errors() != expected {
            failures.push(format!("{}: errors {:?}", case.name, v.errors()));
        }
    }
    println!(
        "verify revocation: {}/{} cases give their verdict",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_grace_period_stretches_a_crl_s_window_and_no_more() {
    let Some(xml) = signed_prescription() else {
        return;
    };
    let pki = pki();
    // Stale by 31 days at the time of checking (2025-06-01).
    let stale = (
        "stale CRL",
        crl(
            &pki.sub_ca,
            &pki.sub_key,
            vec![],
            (
                datetime!(2025-01-01 0:00 UTC),
                datetime!(2025-05-01 0:00 UTC),
            ),
        ),
    );
    let mut trust = trust_with(&[stale], RevocationPolicy::Require);
    for (grace_days, status) in [
        (0, Status::Unknown),
        (30, Status::Unknown),
        (32, Status::Passed),
    ] {
        trust.policy.crl_grace_seconds = grace_days * 86_400;
        let v = verdict(&xml, &trust);
        assert_eq!(
            v.result(Check::Revocation).unwrap().status,
            status,
            "grace {grace_days} days"
        );
    }
}

#[test]
fn require_prefer_and_off_on_the_same_missing_crl() {
    let Some(xml) = signed_prescription() else {
        return;
    };
    // The sub-CA's CRL is missing: the signer's status is unknown.
    let require = verdict(&xml, &trust_with(&[], RevocationPolicy::Require));
    assert!(!require.is_valid());
    assert_eq!(require.errors(), ["Certificate revocation status unknown"]);
    assert!(require.warnings().is_empty());
    assert!(require
        .result(Check::Revocation)
        .unwrap()
        .detail
        .contains("no CRL issued by"));

    let prefer = verdict(&xml, &trust_with(&[], RevocationPolicy::Prefer));
    assert!(prefer.is_valid());
    assert!(prefer.errors().is_empty());
    assert_eq!(prefer.warnings().len(), 1);
    assert!(prefer.warnings()[0].starts_with("revocation: no CRL issued by"));
    assert_eq!(
        prefer.result(Check::Revocation).unwrap().status,
        Status::Unknown
    );

    let off = verdict(&xml, &trust_with(&[], RevocationPolicy::Off));
    assert!(off.is_valid());
    assert!(off.warnings().is_empty());
    for check in [Check::Revocation, Check::CaRevocation] {
        let r = off.result(check).unwrap();
        assert_eq!(r.status, Status::NotChecked);
        assert!(r.detail.contains("off"), "{}", r.detail);
    }
    // A revoked signer is invalid under prefer too: only an unknown status is relaxed.
    let pki = pki();
    let revoked_crl = sub_ca_crl(vec![revoked(
        &pki.signer,
        datetime!(2025-01-01 0:00 UTC),
        Some(R::KeyCompromise),
    )]);
    let prefer = verdict(&xml, &trust_with(&[revoked_crl], RevocationPolicy::Prefer));
    assert!(!prefer.is_valid());
    assert_eq!(prefer.errors(), ["Certificate is revoked"]);
    println!("verify revocation: require, prefer and off give invalid, valid with a warning, valid unchecked");
}

#[test]
fn unreadable_crls_are_refused_naming_why() {
    let pki = pki();
    let good = crl(&pki.sub_ca, &pki.sub_key, vec![], CRL_WINDOW);
    let mut trust = Trust::new();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "not an X.509 CRL",
        ),
        ("garbage", b"this is not a CRL".to_vec(), "not an X.509 CRL"),
        (
            "trailing bytes",
            [&good[..], b"xx"].concat(),
            "2 bytes follow",
        ),
        (
            "PEM without its end line",
            b"-----BEGIN X509 CRL-----\nAAAA\n".to_vec(),
            "has no '-----END X509 CRL-----' line",
        ),
        (
            "50 MB of zeros",
            vec![0; 50 * 1024 * 1024],
            "not an X.509 CRL",
        ),
    ];
    for (name, bytes, expected) in &cases {
        let e = trust.add_crls(bytes, name).unwrap_err();
        assert!(e.contains(expected), "{name}: {e}");
    }
    assert!(trust.crls().is_empty());
    // PEM, with two CRLs in one file, is read.
    let pem = |der: &[u8]| {
        format!(
            "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
            b64(der)
        )
    };
    let two = format!(
        "{}{}",
        pem(&good),
        pem(&crl(&pki.root, &pki.root_key, vec![], CRL_WINDOW))
    );
    assert_eq!(trust.add_crls(two.as_bytes(), "two.pem").unwrap(), 2);
    assert_eq!(trust.crls()[1].source, "two.pem #2");
    println!("verify revocation: {} unreadable CRLs refused", cases.len());
}

/// The shared ARL pair through `eps-translator verify --crl`: with the ARL, the sub-CA of
/// `SignatureCertCaOnArl.xml` is revoked (`CA certificate is revoked`, as the reference
/// says); the one of `SignatureCertCaNotOnArl.xml` is not. Without it, neither is said
/// revoked (the reference's verdicts when the ARL cannot be had), and `require` says why.
#[test]
fn the_shared_arl_pair_gives_the_reference_s_revocation_verdicts() {
    let Some(shared) = common::shared_dir("verify revocation (shared ARL pair)") else {
        return;
    };
    let s = shared.join("eps-signatures");
    let path = |p: &str| s.join(p).to_str().unwrap().to_string();
    let run = |file: &str, extra: &[&str]| {
        let mut args = vec![
            "verify".to_string(),
            "--trusted-ca".into(),
            path("certificates/static/ca.pem"),
            "--trusted-ca".into(),
            path("certificates/static/revokedCa.pem"),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        args.push(path(&format!("signed-prescriptions/{file}")));
        let out = Command::new(env!("CARGO_BIN_EXE_eps-translator"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{file}: every one has a bad signature"
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["prescriptions"][0].clone()
    };
    let arl = path("certificates/static/ca.crl");
    let errors = |p: &serde_json::Value| -> Vec<String> {
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect()
    };
    // The reference (oracle `verify` with `--crl http://crl.nhs.uk/int/1d/arlc3.crl=ca.crl`):
    // [Signature is invalid, Signature doesn't match prescription, CA certificate is revoked].
    let on = run("SignatureCertCaOnArl.xml", &["--crl", &arl]);
    assert_eq!(
        errors(&on),
        [
            "Signature is invalid",
            "Signature doesn't match prescription",
            "CA certificate is revoked"
        ]
    );
    assert!(on["checks"][7]["detail"]
        .as_str()
        .unwrap()
        .contains("superseded"));
    // Without the ARL (the reference: the same without the last), under prefer.
    let on = run("SignatureCertCaOnArl.xml", &["--revocation", "prefer"]);
    assert_eq!(
        errors(&on),
        [
            "Signature is invalid",
            "Signature doesn't match prescription"
        ]
    );
    // One warning: the signer's CRL is missing. Its CA is a self-signed anchor, checked
    // only against an ARL under its own name, when one is given.
    let warnings = on["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .contains("http://example.com/eps.crl"));
    // Under require, the missing list makes it invalid and is named.
    let on = run("SignatureCertCaOnArl.xml", &[]);
    assert!(errors(&on).contains(&"Certificate revocation status unknown".to_string()));
    // NotOnArl: the reference says [Signature is invalid, Certificate expired when signed];
    // no revocation verdict with or without the ARL. Ours adds `Certificate not trusted`
    // (its CA was not yet valid when it was signed; docs/deviations.md), so revocation is
    // not run for want of a chain.
    for extra in [&["--crl", arl.as_str()][..], &[]] {
        let not_on = run("SignatureCertCaNotOnArl.xml", extra);
        let e = errors(&not_on);
        assert!(
            !e.iter()
                .any(|e| e.contains("revoked") || e.contains("revocation")),
            "{e:?}"
        );
        assert!(e.contains(&"Certificate expired when signed".to_string()));
    }
    // The ARL in PEM form is read as its DER.
    let pem_file = std::env::temp_dir().join(format!("eps-arl-{}.pem", std::process::id()));
    let der = std::fs::read(&arl).unwrap();
    let der = if der.starts_with(b"-----") {
        der
    } else {
        format!(
            "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
            b64(&der)
        )
        .into_bytes()
    };
    std::fs::write(&pem_file, der).unwrap();
    let on = run(
        "SignatureCertCaOnArl.xml",
        &["--crl", pem_file.to_str().unwrap()],
    );
    std::fs::remove_file(&pem_file).ok();
    assert!(errors(&on).contains(&"CA certificate is revoked".to_string()));
    println!("verify revocation: the shared ARL pair gives the reference's revocation verdicts");
}

#[test]
fn an_unreadable_crl_file_is_a_usage_error_naming_it() {
    let file = std::env::temp_dir().join(format!("eps-bad-crl-{}.crl", std::process::id()));
    std::fs::write(&file, b"garbage").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eps-translator"))
        .args(["verify", "--crl", file.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--crl") && stderr.contains("not an X.509 CRL"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_eps-translator"))
        .args(["verify", "--revocation", "sometimes", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
