//! What one fuzz input does at each entry point of eps-translator, and what counts as a
//! finding. The fuzz targets (`fuzz/fuzz_targets/*.rs`) call these functions; the main
//! crate's `tests/fuzz_replay.rs` includes this file as a module and replays every committed
//! finding through the same function on stable, so a fix that regresses fails `cargo test`.
//!
//! An input is a finding when the entry point panics, or answers with something that is not
//! a complete answer or a clear refusal: a refusal without issues, an issue without a
//! reason, a `too-costly` refusal that names no limit, or an output that does not parse
//! (XML from `convert`, JSON from `to-fhir`). Those checks panic here, so libFuzzer saves
//! the input. Cost (time, memory) is checked by libFuzzer's `-timeout`/`-rss_limit_mb` and
//! by [`timed`] in the fuzz targets.
//!
//! Only crates that the main crate also has (as dependencies or dev-dependencies) are used,
//! so that the replay test can compile this file.

use base64::Engine;
use eps_translator::c14n::{canonicalize, Mode, Options};
use eps_translator::datetime::Instant;
use eps_translator::error::IssueCode;
use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::verify::Trust;
use eps_translator::{Context, Rejection};
use std::sync::OnceLock;

/// What one entry point made of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A complete answer (a translation, a canonical form, a verification report).
    Completed,
    /// A refusal: the first issue's code.
    Refused(IssueCode),
}

/// The clock the translations run with (pinned: a fuzz finding must replay the same).
fn context() -> Context {
    Context::new(Instant::parse_rfc3339("2022-02-01T00:00:00Z").expect("a valid instant"))
}

/// The time signatures are checked at.
fn checked_at() -> Instant {
    Instant::parse_rfc3339("2025-06-01T00:00:00Z").expect("a valid instant")
}

/// Judges an answer: a completed one passes, a refusal must say what and why. Panics
/// (a finding) on a refusal that is not clear.
fn judged(result: Result<(), Rejection>, entry: &str) -> Outcome {
    let rejection = match result {
        Ok(()) => return Outcome::Completed,
        Err(r) => r,
    };
    assert!(
        !rejection.issues.is_empty(),
        "{entry}: a refusal without issues"
    );
    for issue in &rejection.issues {
        assert!(
            !issue.diagnostics.trim().is_empty(),
            "{entry}: an issue without a reason: {issue:?}"
        );
        if issue.code == IssueCode::TooCostly {
            let d = &issue.diagnostics;
            assert!(
                ["limit", "more than", "exceed", "deeper than"]
                    .iter()
                    .any(|w| d.contains(w)),
                "{entry}: a too-costly refusal that names no limit: {issue:?}"
            );
        }
    }
    Outcome::Refused(rejection.issues[0].code)
}

/// `convert`: FHIR Bundle JSON to HL7 v3. A translation must be well-formed XML.
pub fn convert(data: &[u8]) -> Outcome {
    let result = eps_translator::translate::convert(data, &context()).map(|t| {
        if let Err(e) = roxmltree::Document::parse(&t.xml) {
            panic!("convert: the translation is not well-formed XML: {e}");
        }
    });
    judged(result, "convert")
}

/// `prepare`: the signing fragments of a Bundle, with SHA-256 for inputs of even length and
/// SHA-1 for odd (both algorithms get inputs without spending a byte of the input).
pub fn prepare_one(data: &[u8]) -> Outcome {
    let algorithm = if data.len().is_multiple_of(2) {
        DigestAlgorithm::Sha256
    } else {
        DigestAlgorithm::Sha1
    };
    judged(prepare(data, algorithm, &context()).map(|_| ()), "prepare")
}

/// `to-fhir`: HL7 v3 XML to a FHIR Bundle. A translation must be JSON.
pub fn to_fhir(data: &[u8]) -> Outcome {
    let result = eps_translator::to_fhir::to_fhir(data).map(|json| {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
            panic!("to-fhir: the translation is not JSON: {e}");
        }
    });
    judged(result, "to-fhir")
}

/// The c14n request an input describes. The first line is a header, the rest the document:
///
/// ```text
/// <mode byte>[<subtree>][|<prefix> <prefix> ...][|<prefix>=<uri> ...]\n<document>
/// ```
///
/// The mode byte modulo 4 picks exclusive, exclusive with comments, inclusive, inclusive
/// with comments (`0`..`3`). The subtree selector is empty for the whole document; the
/// prefix list is the exclusive modes' InclusiveNamespaces (`#default` for the default
/// namespace); the bindings name the selector's prefixes. An input without a newline is a
/// whole document in the mode its first byte picks.
pub struct C14nRequest<'a> {
    pub mode: Mode,
    pub subtree: Option<&'a str>,
    pub prefixes: Vec<String>,
    pub namespaces: Vec<(String, String)>,
    pub document: &'a str,
}

impl<'a> C14nRequest<'a> {
    /// The request in `data`; `None` when it is not UTF-8 (the command line refuses such a
    /// document before canonicalising, as the service does).
    pub fn parse(data: &'a [u8]) -> Option<C14nRequest<'a>> {
        let (&first, rest) = data.split_first()?;
        let mode = Mode::ALL[usize::from(first % 4)];
        let text = std::str::from_utf8(rest).ok()?;
        let Some((header, document)) = text.split_once('\n') else {
            return Some(C14nRequest {
                mode,
                subtree: None,
                prefixes: Vec::new(),
                namespaces: Vec::new(),
                document: text,
            });
        };
        let mut fields = header.splitn(3, '|');
        let subtree = fields.next().filter(|s| !s.is_empty());
        let prefixes = fields
            .next()
            .unwrap_or("")
            .split_ascii_whitespace()
            .map(str::to_string)
            .collect();
        let namespaces = fields
            .next()
            .unwrap_or("")
            .split_ascii_whitespace()
            .map(|b| match b.split_once('=') {
                Some((p, u)) => (p.to_string(), u.to_string()),
                None => (b.to_string(), String::new()),
            })
            .collect();
        Some(C14nRequest {
            mode,
            subtree,
            prefixes,
            namespaces,
            document,
        })
    }
}

/// `c14n` in the mode, with the selection and prefix list the input's header gives.
/// `None` for an input that is not UTF-8.
pub fn c14n(data: &[u8]) -> Option<Outcome> {
    let request = C14nRequest::parse(data)?;
    let opts = Options {
        mode: request.mode,
        inclusive_prefixes: request.prefixes,
        subtree: request.subtree,
        namespaces: request.namespaces,
    };
    let result = canonicalize(request.document, &opts)
        .map(|_| ())
        .map_err(|e| Rejection::from(&e));
    Some(judged(result, "c14n"))
}

/// A fixed trust anchor: a self-signed CA whose RSA key comes from a seeded generator, made
/// once per process (no key is committed). With an anchor configured the verifier builds
/// chains for the certificates an input carries, rather than stopping at "no anchors".
pub fn trust() -> &'static Trust {
    static TRUST: OnceLock<Trust> = OnceLock::new();
    TRUST.get_or_init(|| {
        use rand_chacha::rand_core::SeedableRng;
        use rsa::pkcs8::EncodePrivateKey;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(19);
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
        let pem = private
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .expect("PKCS#8 of the anchor key");
        let pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
            .expect("the anchor key");
        let mut params = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, "eps-translator fuzz anchor");
        params.distinguished_name = dn;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let cert = params.self_signed(&pair).expect("the anchor certificate");
        let mut trust = Trust::new();
        trust
            .add_anchors(cert.der())
            .expect("the anchor certificate parses");
        trust
    })
}

/// `verify`: HL7 v3 XML or FHIR JSON (told apart by the first character), checked against
/// the fixed anchor of [`trust`].
pub fn verify(data: &[u8]) -> Outcome {
    let result = eps_translator::verify::verify(data, trust(), checked_at()).map(|_| ());
    judged(result, "verify")
}

/// The repository's minimal prescription-order Bundle with a Provenance whose
/// `signature.data` is `@SIGNATURE@`, as JSON text.
fn signed_bundle_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let mut bundle: serde_json::Value =
            serde_json::from_str(include_str!("../../golden/convert/acute_minimal.json"))
                .expect("the golden Bundle is JSON");
        bundle["entry"]
            .as_array_mut()
            .expect("the golden Bundle has entries")
            .push(serde_json::json!({
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000099",
                "resource": {"resourceType": "Provenance", "signature": [{
                    "when": "2022-01-31T00:00:00+00:00",
                    "who": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000005"},
                    "data": "@SIGNATURE@"}]}
            }));
        serde_json::to_string(&bundle).expect("a Value serialises")
    })
}

/// The minimal Bundle carrying `signature_xml` (base64ed) as its Provenance signature.
pub fn bundle_signed_with(signature_xml: &[u8]) -> Vec<u8> {
    let data = base64::engine::general_purpose::STANDARD.encode(signature_xml);
    signed_bundle_template()
        .replacen("@SIGNATURE@", &data, 1)
        .into_bytes()
}

/// The Bundle's embedded signature XML: `data` is the signature document a prescription
/// Bundle carries; the Bundle goes through `convert` and `prepare`.
pub fn bundle_signature(data: &[u8]) -> [Outcome; 2] {
    let bundle = bundle_signed_with(data);
    [convert(&bundle), prepare_one(&bundle)]
}

/// A Bundle (mutated as JSON by the structure-aware target) through `convert` and
/// `prepare`.
pub fn bundle_json(data: &[u8]) -> [Outcome; 2] {
    [convert(data), prepare_one(data)]
}

/// Runs `f`, and panics (a finding) if it took longer than `$FUZZ_SLOW_MS` milliseconds
/// three times running: on a shared machine one slow run can be the scheduler's, a slow
/// input is slow every time. Without that variable nothing is timed. For fuzz campaigns
/// only.
pub fn timed<T>(f: impl Fn() -> T) -> T {
    static LIMIT: OnceLock<Option<std::time::Duration>> = OnceLock::new();
    let limit = *LIMIT.get_or_init(|| {
        std::env::var("FUZZ_SLOW_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_millis)
    });
    let Some(limit) = limit else {
        return f();
    };
    let mut fastest = std::time::Duration::MAX;
    for _ in 0..3 {
        let start = std::time::Instant::now();
        let out = f();
        let took = start.elapsed();
        if took <= limit {
            return out;
        }
        fastest = fastest.min(took);
    }
    panic!("slow input: the fastest of three runs took {fastest:?} (limit {limit:?})");
}
