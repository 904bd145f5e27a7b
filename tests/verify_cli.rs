//! `eps-translator verify` and `to-fhir` of release responses as a user runs them: JSON
//! verdicts on stdout, exit 0 when every prescription is valid and 1 when any is not (the
//! failing verdict named), 2 for a usage error; `to-fhir` refuses a release response with no
//! anchor, and `--no-verify` says the signatures were not checked.

mod common;

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eps-translator"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn verify_exits_by_verdict_and_names_what_failed() {
    let Some(shared) = common::shared_dir("verify CLI") else {
        return;
    };
    let anchor = shared.join("eps-signatures/certificates/NHS_INT_Level1D_Base64_pem.cer");
    let anchor = anchor.to_str().unwrap();
    let release = |name: &str| {
        shared
            .join(format!("eps-release-responses/{name}.xml"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let mut cases = 0;
    for (name, code, verdict) in [
        ("release_invalid", 1, Some("Signature is invalid")),
        ("release_success", 0, None),
        (
            "full_successful_release",
            1,
            Some("Certificate not trusted"),
        ),
    ] {
        // No CRL for the corpus' Level 1D: revocation unknown is a warning under prefer.
        let out = run(&[
            "verify",
            "--revocation",
            "prefer",
            "--trusted-ca",
            anchor,
            &release(name),
        ]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["valid"], code == 0, "{name}");
        if let Some(verdict) = verdict {
            assert!(
                String::from_utf8_lossy(&out.stderr).contains(verdict),
                "{name}"
            );
            assert_eq!(json["prescriptions"][0]["errors"][0], verdict, "{name}");
        }
        for check in json["prescriptions"][0]["checks"].as_array().unwrap() {
            for key in ["name", "passed", "status", "verdict", "detail"] {
                assert!(check.get(key).is_some(), "{name}: a check without {key}");
            }
        }
        cases += 1;
    }
    // Usage errors: an unreadable anchor, a bad time.
    assert_eq!(
        run(&[
            "verify",
            "--trusted-ca",
            "/nonexistent.pem",
            &release("release_success")
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&["verify", "--at", "yesterday", &release("release_success")])
            .status
            .code(),
        Some(2)
    );
    // A file that is not a certificate.
    let out = run(&[
        "verify",
        "--trusted-ca",
        &release("release_success"),
        &release("release_success"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trusted-ca"));
    println!("verify CLI: {cases}/3 release responses exit as their verdicts say");
}

#[test]
fn to_fhir_of_a_release_response_needs_anchors_or_an_explicit_no_verify() {
    let Some(shared) = common::shared_dir("to-fhir CLI release") else {
        return;
    };
    let release = shared.join("eps-release-responses/release_invalid.xml");
    let release = release.to_str().unwrap();
    let anchor = shared.join("eps-signatures/certificates/NHS_INT_Level1D_Base64_pem.cer");
    let refused = run(&["to-fhir", release]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("no trust anchor is configured"));
    let verified = run(&["to-fhir", "--trusted-ca", anchor.to_str().unwrap(), release]);
    assert!(verified.status.success());
    let json: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(
        json["parameter"][1]["resource"]["entry"][0]["resource"]["issue"][0]["details"]["coding"]
            [0]["display"],
        "Signature is invalid."
    );
    let unchecked = run(&["to-fhir", "--no-verify", release]);
    assert!(unchecked.status.success());
    let json: serde_json::Value = serde_json::from_slice(&unchecked.stdout).unwrap();
    assert_eq!(json["meta"]["tag"][0]["code"], "not-checked");
    // A send message needs neither.
    let send = common::convert_pairs(&shared).into_iter().next().unwrap().1;
    assert!(run(&["to-fhir", send.to_str().unwrap()]).status.success());
}
