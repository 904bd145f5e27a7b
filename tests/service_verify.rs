//! Verification over the service: the `Verify` RPC (HL7 v3 and FHIR forms, request and
//! server anchors, stream items), `ToFhir` of a release response (verified, refused without
//! anchors, or explicitly unchecked), and the HTTP façade's `$verify-signature` in the shape
//! of the reference's answer. The prescriptions are signed in the test with a test PKI.

mod common;
mod service_support;
mod verify_support;

use eps_translator::datetime::Instant;
use eps_translator::service::http_client::HttpClient;
use eps_translator::service::pb::v1::{self, stream_item, stream_result};
use serde_json::Value;
use service_support::{server, timestamp};
use verify_support::*;

fn server_trust(config: &mut eps_translator::service::Config) {
    config.trust = pki().trust();
    config.fixed_clock = Some(Instant::parse_rfc3339(CHECKED_AT).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_answers_a_verdict_per_check_over_grpc() {
    let Some(shared) = common::shared_dir("service Verify") else {
        return;
    };
    let pki = pki();
    let bundle = sign_bundle(&corpus_bundle(&shared), &pki.signer_key, &pki.signer);
    let xml = convert(&bundle);
    let tampered = xml.replacen("<family>", "<family>X", 1);
    let running = server(server_trust).await;
    let mut client = service_support::client(&running).await;
    let mut answered = 0;
    // The server's anchors; the HL7 v3 and the FHIR forms.
    for request in [
        v1::VerifyRequest {
            hl7v3_xml: xml.clone(),
            ..Default::default()
        },
        v1::VerifyRequest {
            bundle_json: bundle.clone(),
            ..Default::default()
        },
    ] {
        let answer = client.verify(request).await.unwrap().into_inner();
        assert!(answer.valid, "{answer:#?}");
        assert_eq!(answer.checks.len(), 10);
        assert_eq!(answer.prescriptions[0].checks, answer.checks);
        answered += 1;
    }
    // A changed prescription: OK, not valid, the digest check names it.
    let answer = client
        .verify(v1::VerifyRequest {
            hl7v3_xml: tampered,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.valid);
    assert_eq!(
        answer.prescriptions[0].errors,
        ["Signature doesn't match prescription"]
    );
    let digest = answer.checks.iter().find(|c| c.name == "digest").unwrap();
    assert_eq!((digest.passed, digest.status.as_str()), (false, "failed"));
    answered += 1;
    // The request's anchors replace the server's: an unrelated anchor, so not trusted.
    let answer = client
        .verify(v1::VerifyRequest {
            hl7v3_xml: xml.clone(),
            trusted_ca_pem: vec![pki.forged_sub_ca().pem()],
            at: Some(timestamp(CHECKED_AT)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.prescriptions[0].errors, ["Certificate not trusted"]);
    answered += 1;
    // Refused requests: no input, a CRL or a certificate that does not parse.
    for (request, field) in [
        (v1::VerifyRequest::default(), "hl7v3_xml"),
        (
            v1::VerifyRequest {
                hl7v3_xml: xml.clone(),
                crls: vec![b"x".to_vec()],
                ..Default::default()
            },
            "crls[0]",
        ),
        (
            v1::VerifyRequest {
                hl7v3_xml: xml.clone(),
                trusted_ca_pem: vec![b"not a certificate".to_vec()],
                ..Default::default()
            },
            "trusted_ca_pem[0]",
        ),
    ] {
        let status = client.verify(request).await.unwrap_err();
        assert_eq!(
            status.code(),
            tonic::Code::InvalidArgument,
            "{field}: {status:?}"
        );
        assert!(format!("{status:?}").contains(field), "{field}: {status:?}");
        answered += 1;
    }
    // The request's CRLs are used with the server's: a newer sub-CA CRL revoking the signer.
    let revoking = crl(
        &pki.sub_ca,
        &pki.sub_key,
        vec![revoked(
            &pki.signer,
            time::macros::datetime!(2025-01-01 0:00 UTC),
            Some(rcgen::RevocationReason::KeyCompromise),
        )],
        (time::macros::datetime!(2025-02-01 0:00 UTC), CRL_WINDOW.1),
    );
    let answer = client
        .verify(v1::VerifyRequest {
            hl7v3_xml: xml.clone(),
            crls: vec![revoking],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.prescriptions[0].errors, ["Certificate is revoked"]);
    // The request's policy: with the server's anchors but no CRL of the request's own
    // anchor, require says the status is unknown, off does not check.
    for (policy, valid, status) in [("require", false, "unknown"), ("off", true, "not-checked")] {
        let answer = client
            .verify(v1::VerifyRequest {
                hl7v3_xml: xml.clone(),
                trusted_ca_pem: vec![pki.sub_ca.pem()],
                revocation: policy.into(),
                at: Some(timestamp(CHECKED_AT)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.valid, valid, "{policy}: {answer:#?}");
        let ca = answer
            .checks
            .iter()
            .find(|c| c.name == "ca-revocation")
            .unwrap();
        assert_eq!(ca.status, status, "{policy}");
        answered += 1;
    }
    let status = client
        .verify(v1::VerifyRequest {
            hl7v3_xml: xml.clone(),
            revocation: "sometimes".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(format!("{status:?}").contains("revocation"));
    // A stream of Verify items: one result each, in order.
    let items: Vec<v1::StreamItem> = (0..6)
        .map(|i| v1::StreamItem {
            correlation_id: format!("v-{i}"),
            request: Some(stream_item::Request::Verify(v1::VerifyRequest {
                hl7v3_xml: xml.clone(),
                ..Default::default()
            })),
        })
        .collect();
    let mut results = client
        .convert_stream(tokio_stream::iter(items))
        .await
        .unwrap()
        .into_inner();
    let mut n = 0;
    while let Some(result) = results.message().await.unwrap() {
        assert_eq!(result.correlation_id, format!("v-{n}"));
        let Some(stream_result::Result::Verify(v)) = result.result else {
            panic!("{result:?}");
        };
        assert!(v.valid);
        n += 1;
    }
    assert_eq!(n, 6);
    println!("service Verify: {answered} calls and {n} stream items answered as expected");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_fhir_of_a_release_response_verifies_refuses_or_says_it_did_not() {
    let Some(shared) = common::shared_dir("service ToFhir release") else {
        return;
    };
    let release =
        std::fs::read_to_string(shared.join("eps-release-responses/release_invalid.xml")).unwrap();
    let anchor =
        std::fs::read(shared.join("eps-signatures/certificates/NHS_INT_Level1D_Base64_pem.cer"))
            .unwrap();
    let running = server(|_| {}).await;
    let mut client = service_support::client(&running).await;
    // No anchor anywhere: refused, saying how to proceed.
    let status = client
        .to_fhir(v1::ToFhirRequest {
            hl7v3_xml: release.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("no trust anchor"), "{status:?}");
    // Anchors in the request: the invalid prescription is in failedPrescriptions.
    let verified = client
        .to_fhir(v1::ToFhirRequest {
            hl7v3_xml: release.clone(),
            trusted_ca_pem: vec![anchor],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let verified: Value = serde_json::from_slice(&verified.fhir_json).unwrap();
    assert_eq!(verified["parameter"][0]["resource"]["total"], 0);
    assert_eq!(verified["parameter"][1]["resource"]["total"], 2);
    // Explicitly unchecked: passed, and tagged so.
    let unchecked = client
        .to_fhir(v1::ToFhirRequest {
            hl7v3_xml: release,
            no_verify: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let unchecked: Value = serde_json::from_slice(&unchecked.fhir_json).unwrap();
    assert_eq!(unchecked["meta"]["tag"][0]["code"], "not-checked");
    assert_eq!(unchecked["parameter"][0]["resource"]["total"], 1);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_signature_over_http_answers_the_reference_shape() {
    let Some(shared) = common::shared_dir("HTTP façade $verify-signature") else {
        return;
    };
    let pki = pki();
    let good = sign_bundle(&corpus_bundle(&shared), &pki.signer_key, &pki.signer);
    let bad = sign_bundle(
        &corpus_bundle(&shared),
        &pki.other_key,
        &pki.forged_sub_ca(),
    );
    let searchset = serde_json::to_vec(&serde_json::json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": serde_json::from_slice::<Value>(&good).unwrap()},
            {"resource": serde_json::from_slice::<Value>(&bad).unwrap()},
        ],
    }))
    .unwrap();
    let running = server(server_trust).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let headers = [("content-type", "application/fhir+json")];
    let answer = http
        .post("/FHIR/R4/$verify-signature", &headers, searchset)
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let parameters: Value = serde_json::from_slice(&answer.body).unwrap();
    let identifier = serde_json::from_slice::<Value>(&good).unwrap()["identifier"].clone();
    let parts = parameters["parameter"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part["name"], i.to_string());
        assert_eq!(part["part"][0]["name"], "messageIdentifier");
        assert_eq!(part["part"][0]["valueReference"]["identifier"], identifier);
        assert_eq!(part["part"][1]["name"], "result");
        assert_eq!(
            part["part"][1]["resource"]["meta"]["lastUpdated"],
            "2025-06-01T00:00:00+00:00"
        );
    }
    let issues = |i: usize| {
        parts[i]["part"][1]["resource"]["issue"]
            .as_array()
            .unwrap()
            .clone()
    };
    assert_eq!(issues(0)[0]["severity"], "information");
    assert_eq!(issues(0)[0]["code"], "informational");
    // Signed with the forged sub-CA's own key and certificate: the signature and digest
    // hold, trust does not.
    let bad_issues = issues(1);
    let displays: Vec<&str> = bad_issues
        .iter()
        .map(|i| i["details"]["coding"][0]["display"].as_str().unwrap())
        .collect();
    assert_eq!(displays, ["Certificate not trusted."]);
    for issue in &bad_issues {
        assert_eq!(issue["severity"], "error");
        assert_eq!(issue["code"], "invalid");
        assert_eq!(
            issue["details"]["coding"][0]["system"],
            "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode"
        );
        assert_eq!(issue["expression"][0], "Provenance.signature.data");
    }
    // Not a Bundle: 400 with an OperationOutcome.
    let answer = http
        .post(
            "/FHIR/R4/$verify-signature",
            &headers,
            br#"{"resourceType":"Patient"}"#.to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 400);
    running.shutdown().await.unwrap();
}
