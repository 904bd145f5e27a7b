//! Convert conformance of the dispensing messages against the reference corpus: every
//! dispensing request in `eps-examples` with a golden HL7 v3 response beside it, per kind.
//!
//! Kinds this translator converts must reproduce every golden (100%); the count per kind is
//! printed, and kinds not yet converted are listed as not covered. The reference draws two
//! random ids for a release request (the message id and the request's own id): the
//! translation is run with the ids the pinned oracle draws (`…0002`, `…0003`), and compared
//! with the golden with those ids masked.

mod common;

use eps_translator::translate::convert;
use std::path::{Path, PathBuf};

const CONVERT_NOW: &str = "2022-02-01T00:00:00Z";
/// The ids the oracle draws for a release request's message and request.
const ORACLE_MESSAGE_ID: &str = "00000000-0000-4000-8000-000000000002";
const ORACLE_PAYLOAD_ID: &str = "00000000-0000-4000-8000-000000000003";

struct Kind {
    name: &'static str,
    request_suffix: &'static str,
    response_suffix: &'static str,
    implemented: bool,
    /// The reference draws the message and payload ids at random.
    random_ids: bool,
    /// Goldens (by a fragment of their path) the reference no longer reproduces: they carry an
    /// out-of-date id that is not in the request (`shared/README.md`).
    stale: Option<&'static str>,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "Release",
        request_suffix: "-Task-Request-Release-200_OK.json",
        response_suffix: "-Convert-Response-Release-200_OK.xml",
        implemented: true,
        random_ids: true,
        stale: None,
    },
    Kind {
        name: "Return",
        request_suffix: "-Task-Request-Return-200_OK.json",
        response_suffix: "-Convert-Response-Return-200_OK.xml",
        implemented: true,
        random_ids: false,
        stale: None,
    },
    Kind {
        name: "Withdraw",
        request_suffix: "-Task-Request-Withdraw-200_OK.json",
        response_suffix: "-Convert-Response-Withdraw-200_OK.xml",
        implemented: true,
        random_ids: false,
        stale: None,
    },
    Kind {
        name: "Dispense",
        request_suffix: "-Process-Request-Dispense-200_OK.json",
        response_suffix: "-Convert-Response-Dispense-200_OK.xml",
        implemented: true,
        random_ids: false,
        stale: Some("-dosage-instructions/"),
    },
    Kind {
        name: "DispenseAmend",
        request_suffix: "-Process-Request-DispenseAmend-200_OK.json",
        response_suffix: "-Convert-Response-DispenseAmend-200_OK.xml",
        implemented: true,
        random_ids: false,
        stale: None,
    },
    Kind {
        name: "Claim",
        request_suffix: "-Claim-Request-200_OK.json",
        response_suffix: "-Convert-Response-Claim-200_OK.xml",
        implemented: true,
        random_ids: false,
        stale: None,
    },
    Kind {
        name: "Amend",
        request_suffix: "-Claim-Request-Amend-200_OK.json",
        response_suffix: "-Convert-Response-Amend-200_OK.xml",
        implemented: true,
        random_ids: false,
        stale: None,
    },
];

/// `(request, golden response)` of one kind: requests with a response beside them.
fn pairs(shared: &Path, kind: &Kind) -> Vec<(PathBuf, PathBuf)> {
    common::find_files(&shared.join("eps-examples"), &|n| {
        n.ends_with(kind.request_suffix)
    })
    .into_iter()
    .filter_map(|request| {
        let name = request.file_name()?.to_str()?;
        let stem = name.strip_suffix(kind.request_suffix)?;
        let response = request.with_file_name(format!("{stem}{}", kind.response_suffix));
        response.exists().then_some((request, response))
    })
    .collect()
}

/// The UUID of an `<id root="UUID"/>` line.
fn id_root(line: &str) -> Option<&str> {
    line.trim_start()
        .strip_prefix("<id root=\"")
        .and_then(|r| r.strip_suffix("\"/>"))
}

/// Our output and a stale golden with the golden's out-of-date ids masked: an `<id root>`
/// line of the golden whose UUID the request does not hold (in any case), and our `<id root>`
/// line in the same place. Every other line is compared as it is.
fn mask_stale_ids(ours: &str, golden: &str, request: &str) -> (String, String) {
    let request = request.to_lowercase();
    let mask = |line: &str| {
        let indent = &line[..line.len() - line.trim_start().len()];
        format!("{indent}<id root=\"(stale)\"/>")
    };
    let mut ours_lines: Vec<String> = ours.lines().map(str::to_string).collect();
    let golden_lines: Vec<String> = golden
        .lines()
        .enumerate()
        .map(|(i, line)| match id_root(line) {
            Some(root) if !request.contains(&root.to_lowercase()) => {
                if let Some(o) = ours_lines.get_mut(i).filter(|o| id_root(o).is_some()) {
                    *o = mask(o);
                }
                mask(line)
            }
            _ => line.to_string(),
        })
        .collect();
    (ours_lines.join("\n"), golden_lines.join("\n"))
}

/// `<id root="UUID"/>` with the UUID replaced: ids the reference draws at random.
fn mask_random_ids(xml: &str) -> String {
    xml.lines()
        .map(|line| {
            let t = line.trim_start();
            match t
                .strip_prefix("<id root=\"")
                .and_then(|r| r.strip_suffix("\"/>"))
            {
                Some(root) if root.len() == 36 && root.matches('-').count() == 4 => {
                    format!("{}<id root=\"(random)\"/>", &line[..line.len() - t.len()])
                }
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn corpus_dispensing_goldens_are_reproduced_per_kind() {
    let Some(shared) = common::shared_dir("dispensing convert conformance") else {
        return;
    };
    let mut failures = Vec::new();
    let mut not_covered = Vec::new();
    for kind in KINDS {
        let pairs = pairs(&shared, kind);
        if !kind.implemented {
            not_covered.push(format!("{} ({} goldens)", kind.name, pairs.len()));
            continue;
        }
        assert!(!pairs.is_empty(), "{}: no corpus goldens found", kind.name);
        let mut ctx = common::corpus_context(CONVERT_NOW);
        if kind.random_ids {
            ctx.message_id = Some(ORACLE_MESSAGE_ID.to_string());
            ctx.payload_id = Some(ORACLE_PAYLOAD_ID.to_string());
        }
        let mut passed = 0;
        let mut stale_count = 0;
        for (request, golden) in &pairs {
            let expected = std::fs::read_to_string(golden).unwrap();
            let outcome = convert(&std::fs::read(request).unwrap(), &ctx);
            match outcome {
                Ok(t) => {
                    let stale = kind
                        .stale
                        .is_some_and(|f| golden.to_string_lossy().contains(f));
                    let (ours, theirs) = if kind.random_ids {
                        (mask_random_ids(&t.xml), mask_random_ids(&expected))
                    } else if stale {
                        let text = std::fs::read_to_string(request).unwrap();
                        stale_count += 1;
                        mask_stale_ids(&t.xml, &expected, &text)
                    } else {
                        (t.xml.clone(), expected.clone())
                    };
                    if ours == theirs {
                        passed += 1;
                    } else {
                        failures.push(format!(
                            "{}: {}",
                            golden.display(),
                            common::first_difference(&ours, &theirs)
                        ));
                    }
                }
                Err(e) => failures.push(format!("{}: refused: {e}", request.display())),
            }
        }
        println!(
            "dispensing convert {}: {passed}/{} identical{}",
            kind.name,
            pairs.len(),
            if kind.random_ids {
                " (random ids masked)".to_string()
            } else if stale_count > 0 {
                format!(" ({stale_count} stale goldens with their out-of-date ids masked)")
            } else {
                String::new()
            }
        );
    }
    println!(
        "dispensing convert NOT COVERED (not translated yet): {}",
        not_covered.join(", ")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn stale_masking_touches_only_ids_the_request_does_not_hold() {
    let request = r#"{"id": "aaaaaaaa-0000-4000-8000-000000000001"}"#;
    let golden = "<a>\n  <id root=\"BBBBBBBB-0000-4000-8000-000000000002\"/>\n  <id root=\"AAAAAAAA-0000-4000-8000-000000000001\"/>\n</a>";
    let ours = "<a>\n  <id root=\"CCCCCCCC-0000-4000-8000-000000000003\"/>\n  <id root=\"AAAAAAAA-0000-4000-8000-000000000001\"/>\n</a>";
    let (o, g) = mask_stale_ids(ours, golden, request);
    assert_eq!(o, g);
    assert!(g.contains("(stale)") && g.contains("AAAAAAAA"));
    // A line that differs where the golden's id is current still differs.
    let wrong = ours.replace("AAAAAAAA", "DDDDDDDD");
    let (o, g) = mask_stale_ids(&wrong, golden, request);
    assert_ne!(o, g);
}

fn masking_touches_only_random_id_lines() {
    let xml = "<a>\n  <id root=\"E06621D1-3EC6-4F8C-ABE6-3AB3F60F741B\"/>\n  <id extension=\"X\" root=\"1.2\"/>\n</a>";
    assert_eq!(
        mask_random_ids(xml),
        "<a>\n  <id root=\"(random)\"/>\n  <id extension=\"X\" root=\"1.2\"/>\n</a>"
    );
}

fn rules_input(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("golden/rules/{name}.json")))
        .unwrap()
}

/// The id roots of a release request: the message's and the request's.
fn id_roots(xml: &str) -> Vec<String> {
    xml.lines()
        .filter_map(|l| {
            l.trim_start()
                .strip_prefix("<id root=\"")?
                .strip_suffix("\"/>")
                .map(str::to_string)
        })
        .collect()
}

fn release_ids_without_context_are_name_based_and_deterministic() {
    let ctx = common::corpus_context(CONVERT_NOW);
    let patient = rules_input("release_patient");
    let first = convert(&patient, &ctx).unwrap().xml;
    assert_eq!(first, convert(&patient, &ctx).unwrap().xml);
    let ids = id_roots(&first);
    assert_eq!(ids.len(), 2, "{first}");
    assert_ne!(ids[0], ids[1]);
    assert!(ids
        .iter()
        .all(|id| id.len() == 36 && id == &id.to_uppercase()));
    // Another request, or the same one at another time, is another message.
    let other = convert(&rules_input("release_nominated"), &ctx)
        .unwrap()
        .xml;
    assert_ne!(id_roots(&other)[0], ids[0]);
    let later = convert(&patient, &common::corpus_context("2022-02-01T00:00:01Z"))
        .unwrap()
        .xml;
    assert_ne!(id_roots(&later)[0], ids[0]);
    // A message id from the context gives the request id too.
    let mut given = ctx.clone();
    given.message_id = Some(ORACLE_MESSAGE_ID.to_string());
    let with_id = convert(&patient, &given).unwrap().xml;
    let with_ids = id_roots(&with_id);
    assert_eq!(with_ids[0], ORACLE_MESSAGE_ID);
    assert_ne!(with_ids[1], ids[1]);
}

#[cfg(feature = "service")]
fn the_service_convert_operation_takes_a_release_request() {
    use eps_translator::service::pb::v1;
    let request = v1::ConvertRequest {
        bundle_json: rules_input("release_patient"),
        context: Some(v1::Context {
            message_id: Some(ORACLE_MESSAGE_ID.to_string()),
            ..Default::default()
        }),
    };
    let now = eps_translator::datetime::Instant::parse_rfc3339(CONVERT_NOW).unwrap();
    let answer =
        eps_translator::service::ops::convert(&request, eps_translator::Context::new(now)).unwrap();
    let mut ctx = common::corpus_context(CONVERT_NOW);
    ctx.message_id = Some(ORACLE_MESSAGE_ID.to_string());
    let expected = convert(&request.bundle_json, &ctx).unwrap().xml;
    assert_eq!(answer.hl7v3_xml, expected);
    assert!(expected.contains("<PORX_IN132004SM30 "));
}

fn a_claim_without_its_provider_is_refused_naming_the_place() {
    let ctx = common::corpus_context(CONVERT_NOW);
    let err = convert(br#"{"resourceType": "Claim", "status": "active"}"#, &ctx).unwrap_err();
    assert_eq!(err.issues.len(), 1);
    assert_eq!(
        err.issues[0].expression.as_deref(),
        Some("Claim.provider.reference")
    );
}

/// The corpus' claim without an endorsement: the reference answers 400 with this one issue.
fn the_corpus_claim_without_an_endorsement_is_refused_as_the_reference_does() {
    let Some(shared) = common::shared_dir("claim refusal") else {
        return;
    };
    let request = shared.join(
        "eps-examples/primary-care/acute/nominated-pharmacy/medical-prescriber/2-Claim-Request-400_Missing_Endorsement_Code.json",
    );
    let ctx = common::corpus_context(CONVERT_NOW);
    let err = convert(&std::fs::read(request).unwrap(), &ctx).unwrap_err();
    assert_eq!(err.issues.len(), 1);
    assert_eq!(err.issues[0].code, eps_translator::IssueCode::Invalid);
    assert_eq!(
        err.issues[0].diagnostics,
        "The claim is missing the required endorsement code."
    );
}

fn prepare_refuses_a_dispense_notification_as_the_reference_does() {
    // The reference's $prepare signs prescription-orders only; a dispense notification is
    // refused in its words before anything of it is read.
    let ctx = common::corpus_context(CONVERT_NOW);
    let input = rules_input("dispense_basic");
    assert!(convert(&input, &ctx).is_ok());
    let err = eps_translator::signing::prepare(
        &input,
        eps_translator::signing::DigestAlgorithm::Sha256,
        &ctx,
    )
    .unwrap_err();
    assert_eq!(err.issues.len(), 1);
    assert_eq!(err.issues[0].code, eps_translator::IssueCode::Invalid);
    assert_eq!(
        err.issues[0].diagnostics,
        "MessageHeader.eventCoding.code must be 'prescription-order'."
    );
}

fn main() -> std::process::ExitCode {
    use common::Needs;
    #[allow(unused_mut)]
    let mut tests: Vec<(&'static str, Needs, fn())> = vec![
        (
            "corpus_dispensing_goldens_are_reproduced_per_kind",
            Needs::Corpus,
            corpus_dispensing_goldens_are_reproduced_per_kind,
        ),
        (
            "stale_masking_touches_only_ids_the_request_does_not_hold",
            Needs::Nothing,
            stale_masking_touches_only_ids_the_request_does_not_hold,
        ),
        (
            "masking_touches_only_random_id_lines",
            Needs::Nothing,
            masking_touches_only_random_id_lines,
        ),
        (
            "release_ids_without_context_are_name_based_and_deterministic",
            Needs::Nothing,
            release_ids_without_context_are_name_based_and_deterministic,
        ),
        (
            "a_claim_without_its_provider_is_refused_naming_the_place",
            Needs::Nothing,
            a_claim_without_its_provider_is_refused_naming_the_place,
        ),
        (
            "the_corpus_claim_without_an_endorsement_is_refused_as_the_reference_does",
            Needs::Corpus,
            the_corpus_claim_without_an_endorsement_is_refused_as_the_reference_does,
        ),
        (
            "prepare_refuses_a_dispense_notification_as_the_reference_does",
            Needs::Nothing,
            prepare_refuses_a_dispense_notification_as_the_reference_does,
        ),
    ];
    #[cfg(feature = "service")]
    tests.push((
        "the_service_convert_operation_takes_a_release_request",
        Needs::Nothing,
        the_service_convert_operation_takes_a_release_request,
    ));
    common::run_suite("dispense_conformance", &tests)
}
