//! Signature verification of prescriptions: the prescriber's XML-DSig signature checked
//! against the prescription it travels with, and the signer's certificate against
//! configured trust anchors.
//!
//! The core is a pure function of (prescription, [`Trust`], time of checking): it reads no
//! clock, file or network. Trust anchors and revocation lists come in as data
//! ([`Trust::add_anchors`], [`Trust::add_crls`]); fetching and caching CRLs belongs to the
//! adapters. Every check is reported ([`verdict::Check`]); whatever the verifier cannot
//! establish is a failure, `unknown` or `not-checked`, never a pass, and a prescription is
//! valid only when every check passed, revocation being as [`RevocationPolicy`] says.
//!
//! The checks, in report order (see `docs/verify.md`): the signature's format, one
//! certificate, the certificate parses, the pinned profile, the RSA signature over the
//! received `SignedInfo`, the digest of the prescription's own fragments against
//! `DigestValue`, revocation (certificate and CA), validity at the signing time, and trust.
//!
//! Crates, evaluated for this: RSA with `ring` (small, audited, constant-time, verification
//! only with fixed algorithm objects, no OpenSSL) rather than `aws-lc-rs` (same API, but a
//! large C build) or RustCrypto `rsa` (pure Rust, but a timing advisory on private-key
//! operations and a slower bignum); certificates with `x509-parser` (keeps the DER of the
//! to-be-signed part as received, so an issuer's signature is checked over the exact bytes,
//! and parses the extensions needed here) rather than `x509-cert` (re-encodes to get those
//! bytes) or `webpki` (built for TLS server names and usages, and refuses SHA-1 and
//! 1024-bit RSA certificates still found on NHS smartcards).

pub mod certificate;
pub mod dsig;
pub mod message;
pub mod revocation;
pub mod verdict;

pub use message::{verify, verify_fhir, verify_hl7v3};
pub use verdict::{Check, CheckResult, PrescriptionVerdict, Report, Status};

use crate::datetime::Instant;
use crate::hl7v3::Element;
use crate::signing::fragments::canonical_fragments;
use base64::Engine;
use revocation::Crl;
use roxmltree::Node;
use std::sync::Arc;
use x509_parser::certificate::X509Certificate;

/// What an unknown revocation status does to the verdict (`--revocation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevocationPolicy {
    /// Revocation must be established: a certificate whose status no usable CRL gives makes
    /// the prescription invalid, the check saying why.
    #[default]
    Require,
    /// An unknown status is a warning and does not make the prescription invalid (what the
    /// reference does whenever a CRL cannot be had).
    Prefer,
    /// Revocation is not checked: both checks are `not-checked`, and say so.
    Off,
}

impl RevocationPolicy {
    /// `require`, `prefer` or `off`.
    pub fn parse(value: &str) -> Result<RevocationPolicy, String> {
        match value {
            "require" => Ok(RevocationPolicy::Require),
            "prefer" => Ok(RevocationPolicy::Prefer),
            "off" => Ok(RevocationPolicy::Off),
            other => Err(format!(
                "expected require, prefer or off for the revocation policy, got '{other}'"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RevocationPolicy::Require => "require",
            RevocationPolicy::Prefer => "prefer",
            RevocationPolicy::Off => "off",
        }
    }
}

/// The verifier's limits, in one place, with documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Smallest RSA modulus accepted for the signer's key (1024 bits: smartcard keys).
    pub min_rsa_bits: usize,
    /// Longest `SignatureValue` text read, in characters (an 8192-bit signature is 1,366
    /// base64 characters; the default leaves room for line breaks).
    pub max_signature_value_chars: usize,
    pub revocation: RevocationPolicy,
    /// Seconds a CRL is still taken before its `thisUpdate` and after its `nextUpdate`
    /// (clock skew between the CA and this verifier). Default 0.
    pub crl_grace_seconds: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_rsa_bits: 1024,
            max_signature_value_chars: 4096,
            revocation: RevocationPolicy::Require,
            crl_grace_seconds: 0,
        }
    }
}

/// The trust configuration: anchors, intermediates, revocation lists and the policy.
/// Certificates are kept as DER, checked to parse when added; CRLs parsed once, shared.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    anchors: Vec<Vec<u8>>,
    intermediates: Vec<Vec<u8>>,
    crls: Vec<Arc<Crl>>,
    pub policy: Policy,
}

impl Trust {
    /// No anchors: every prescription is `Certificate not trusted`.
    pub fn new() -> Trust {
        Trust::default()
    }

    /// Adds the trust anchors in a PEM text (every certificate in it) or a DER certificate.
    /// An anchor may be a root or a sub-CA; chains end at the first anchor reached.
    pub fn add_anchors(&mut self, pem_or_der: &[u8]) -> Result<usize, String> {
        let certs = certificate::read_certificates(pem_or_der)?;
        let n = certs.len();
        self.anchors.extend(certs);
        Ok(n)
    }

    /// Adds certificates that may link a signer to an anchor without being trusted
    /// themselves (a sub-CA under a configured root).
    pub fn add_intermediates(&mut self, pem_or_der: &[u8]) -> Result<usize, String> {
        let certs = certificate::read_certificates(pem_or_der)?;
        let n = certs.len();
        self.intermediates.extend(certs);
        Ok(n)
    }

    /// Adds the CRLs (and ARLs) in a PEM text (every `X509 CRL` block) or a DER CRL;
    /// `source` names them in details (`source`, or `source #n` for several).
    pub fn add_crls(&mut self, pem_or_der: &[u8], source: &str) -> Result<usize, String> {
        let ders = revocation::read_crls(pem_or_der)?;
        let n = ders.len();
        for (i, der) in ders.iter().enumerate() {
            let name = if n == 1 {
                source.to_string()
            } else {
                format!("{source} #{}", i + 1)
            };
            self.crls.push(Arc::new(Crl::from_der(der, name)?));
        }
        Ok(n)
    }

    /// Adds CRLs already parsed (shared with other trust configurations).
    pub fn extend_crls(&mut self, crls: impl IntoIterator<Item = Arc<Crl>>) {
        self.crls.extend(crls);
    }

    /// The CRLs given.
    pub fn crls(&self) -> &[Arc<Crl>] {
        &self.crls
    }

    /// Whether no anchor is configured.
    pub fn has_no_anchors(&self) -> bool {
        self.anchors.is_empty()
    }

    fn pool(&self) -> certificate::Pool<'_> {
        fn parsed(list: &[Vec<u8>]) -> Vec<X509Certificate<'_>> {
            list.iter()
                .filter_map(|der| certificate::parse(der).ok())
                .collect()
        }
        certificate::Pool {
            anchors: parsed(&self.anchors),
            intermediates: parsed(&self.intermediates),
        }
    }
}

/// The HL7 v3 namespace.
const HL7_NS: &str = "urn:hl7-org:v3";

/// A child element by local name, in the HL7 v3 namespace or in none (bare signed
/// prescriptions are written without a namespace).
pub(crate) fn hl7_child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| {
        c.is_element()
            && c.tag_name().name() == name
            && matches!(c.tag_name().namespace(), None | Some(HL7_NS))
    })
}

/// A descendant by a path of local names.
pub(crate) fn hl7_path<'a, 'i>(node: Node<'a, 'i>, path: &str) -> Option<Node<'a, 'i>> {
    path.split('/').try_fold(node, hl7_child)
}

/// `YYYYMMDDHHMMSS` (optionally with a `+HHMM`/`-HHMM` offset; UTC without one) → seconds
/// since the epoch.
fn parse_hl7_time(value: &str) -> Option<i64> {
    use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};
    let (digits, offset) = match value.len() {
        14 => (value, 0),
        19 => {
            let (d, o) = value.split_at(14);
            let sign = match o.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h: i32 = o.get(1..3)?.parse().ok()?;
            let m: i32 = o.get(3..5)?.parse().ok()?;
            (d, sign * (h * 3600 + m * 60))
        }
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().ok();
    let date = Date::from_calendar_date(
        n(0..4)? as i32,
        Month::try_from(n(4..6)? as u8).ok()?,
        n(6..8)? as u8,
    )
    .ok()?;
    let time = Time::from_hms(n(8..10)? as u8, n(10..12)? as u8, n(12..14)? as u8).ok()?;
    let offset = UtcOffset::from_whole_seconds(offset).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .unix_timestamp(),
    )
}

fn iso(seconds: i64) -> String {
    Instant::from_unix(seconds).map_or_else(|_| seconds.to_string(), |i| i.iso_utc())
}

/// The parts of a ParentPrescription the fragments are taken from, read into the element
/// model, and nothing else (the rest of a released prescription is most of it): the
/// `recordTarget`, and of `pertinentPrescription` its `id`, the author's `time` and
/// `AgentPerson`, and each `pertinentInformation2/pertinentLineItem`.
fn signed_parts(parent: Node<'_, '_>) -> Element {
    use crate::hl7v3::reader::read_element;
    let read = |node: Node<'_, '_>, name: &str| hl7_child(node, name).map(read_element);
    let mut out = Element::new("ParentPrescription").child_opt(read(parent, "recordTarget"));
    if let Some(prescription) = hl7_path(parent, "pertinentInformation1/pertinentPrescription") {
        let author = hl7_child(prescription, "author").map(|a| {
            Element::new("author")
                .child_opt(read(a, "time"))
                .child_opt(read(a, "AgentPerson"))
        });
        let mut kept = Element::new("pertinentPrescription")
            .child_opt(read(prescription, "id"))
            .child_opt(author);
        for item in prescription.children().filter(|c| {
            c.is_element()
                && c.tag_name().name() == "pertinentInformation2"
                && matches!(c.tag_name().namespace(), None | Some(HL7_NS))
        }) {
            kept.push(
                Element::new("pertinentInformation2").child_opt(read(item, "pertinentLineItem")),
            );
        }
        out.push(Element::new("pertinentInformation1").child(kept));
    }
    out
}

/// The digest check: the `DigestValue` against the digest of the canonical fragments taken
/// from this prescription (the bytes `prepare` hashes), never from the signature.
fn digest_check(parent: Node<'_, '_>, profile: &dsig::Profile) -> Result<String, String> {
    let element = signed_parts(parent);
    let fragments = canonical_fragments(&element)
        .map_err(|e| format!("the signed parts cannot be taken from the prescription: {e}"))?;
    let computed = profile.algorithm.hash(&fragments);
    let b64 = base64::engine::general_purpose::STANDARD;
    let claimed =
        dsig::decode_base64(&profile.digest_value).map_err(|e| format!("DigestValue is {e}"))?;
    let name = profile.algorithm.jws_name();
    if computed == claimed {
        Ok(format!(
            "{name} digest of the prescription's {}-byte canonical fragments equals DigestValue {}",
            fragments.len(),
            b64.encode(&claimed)
        ))
    } else {
        Err(format!(
            "DigestValue is {} but the prescription's {}-byte canonical fragments digest to {} ({name})",
            profile.digest_value.trim(),
            fragments.len(),
            b64.encode(&computed)
        ))
    }
}

/// The signing time check: the certificate was valid at `author/time`, and that time is not
/// after the time of checking.
fn validity_check(
    parent: Node<'_, '_>,
    signer: &X509Certificate<'_>,
    at: Instant,
) -> Result<String, String> {
    let value = hl7_path(
        parent,
        "pertinentInformation1/pertinentPrescription/author/time",
    )
    .and_then(|t| t.attribute("value"))
    .ok_or("the prescription has no author/time (the signing time)")?;
    let signed = parse_hl7_time(value)
        .ok_or_else(|| format!("author/time '{value}' is not a YYYYMMDDHHMMSS time"))?;
    let now = at.0.unix_timestamp();
    if signed > now {
        return Err(format!(
            "signed at {} is after the time of checking {}",
            iso(signed),
            iso(now)
        ));
    }
    certificate::valid_at(signer, signed)
        .map(|window| format!("signed at {}; the certificate was {window}", iso(signed)))
        .map_err(|why| format!("signed at {}; the certificate was {why}", iso(signed)))
}

/// Verifies one ParentPrescription element (HL7 v3 namespace or none).
pub fn verify_prescription(
    parent: Node<'_, '_>,
    trust: &Trust,
    at: Instant,
) -> PrescriptionVerdict {
    let id = hl7_child(parent, "id")
        .and_then(|i| i.attribute("root"))
        .unwrap_or_default()
        .to_string();
    let short_form_id = hl7_path(parent, "pertinentInformation1/pertinentPrescription/id")
        .and_then(|i| i.attribute("extension"))
        .map(str::to_string);
    let signature_text = hl7_path(
        parent,
        "pertinentInformation1/pertinentPrescription/author/signatureText",
    );
    let mut crl_urls = Vec::new();
    let checks = run_checks(parent, signature_text, trust, at, &mut crl_urls);
    PrescriptionVerdict {
        id,
        short_form_id,
        message_identifier: None,
        checks,
        revocation: trust.policy.revocation,
        crl_urls,
    }
}

fn run_checks(
    parent: Node<'_, '_>,
    signature_text: Option<Node<'_, '_>>,
    trust: &Trust,
    at: Instant,
    crl_urls: &mut Vec<Vec<String>>,
) -> Vec<CheckResult> {
    use Check::*;
    let mut results = Vec::with_capacity(Check::ALL.len());
    let not_run = |results: &mut Vec<CheckResult>, from: usize, why: &str| {
        for check in &Check::ALL[from..] {
            results.push(CheckResult::not_checked(*check, why));
        }
    };
    let signature = match dsig::read(signature_text) {
        Ok(s) => {
            results.push(CheckResult::passed(Format, "one Signature with SignedInfo, SignatureValue and KeyInfo/X509Data/X509Certificate"));
            results.push(CheckResult::passed(
                SingleCertificate,
                "KeyInfo holds one certificate",
            ));
            s
        }
        Err(dsig::FormatError::Shape(why)) => {
            results.push(CheckResult::failed(Format, why));
            not_run(&mut results, 1, "the signature's format is invalid");
            return results;
        }
        Err(dsig::FormatError::MultipleCertificates(n)) => {
            results.push(CheckResult::passed(
                Format,
                "one Signature with SignedInfo, SignatureValue and KeyInfo",
            ));
            results.push(CheckResult::failed(
                SingleCertificate,
                format!("KeyInfo holds {n} certificates; exactly one is accepted"),
            ));
            not_run(&mut results, 2, "the signer's certificate is ambiguous");
            return results;
        }
    };
    let der = dsig::decode_base64(&signature.certificate);
    let parsed = der
        .as_deref()
        .map_err(Clone::clone)
        .and_then(certificate::parse);
    let signer = match &parsed {
        Ok(cert) => {
            results.push(CheckResult::passed(
                Certificate,
                format!(
                    "X.509 certificate of '{}' issued by '{}'",
                    certificate::subject(cert),
                    cert.issuer()
                ),
            ));
            Some(cert)
        }
        Err(why) => {
            results.push(CheckResult::failed(
                Certificate,
                format!("X509Certificate is {why}"),
            ));
            None
        }
    };
    let profile = dsig::profile(signature.signed_info, signer, &trust.policy);
    match &profile {
        Ok(p) => results.push(CheckResult::passed(Profile, format!(
            "one Reference without URI, exclusive C14N transform, {} with its digest, canonicalisation {}",
            p.algorithm.signature_method(),
            p.canonicalization.algorithm_uri()
        ))),
        Err(why) => results.push(CheckResult::failed(Profile, why.clone())),
    }
    results.push(match (&profile, signer) {
        (Ok(p), Some(cert)) => CheckResult::from_outcome(
            Signature,
            dsig::verify_value(&signature, p, cert, &trust.policy),
        ),
        (Err(_), _) => {
            CheckResult::not_checked(Signature, "the signature is outside the accepted profile")
        }
        (_, None) => CheckResult::not_checked(Signature, "the signer's certificate is unreadable"),
    });
    results.push(match &profile {
        Ok(p) => CheckResult::from_outcome(Digest, digest_check(parent, p)),
        Err(_) => CheckResult::not_checked(Digest, "the signature is outside the accepted profile"),
    });
    let Some(signer) = signer else {
        for check in [Revocation, CaRevocation, Validity, Trust] {
            results.push(CheckResult::not_checked(
                check,
                "the signer's certificate is unreadable",
            ));
        }
        return results;
    };
    let validity = validity_check(parent, signer, at);
    let signed_at = hl7_path(
        parent,
        "pertinentInformation1/pertinentPrescription/author/time",
    )
    .and_then(|t| t.attribute("value"))
    .and_then(parse_hl7_time);
    let pool = trust.pool();
    let chain = match signed_at {
        Some(time) => certificate::chain_to_anchor(signer, &pool, time),
        None => Err("the chain cannot be checked without a signing time".to_string()),
    };
    let (revocation, ca_revocation) =
        revocation_checks(signer, &chain, &pool, signed_at, trust, at, crl_urls);
    results.push(revocation);
    results.push(ca_revocation);
    results.push(CheckResult::from_outcome(Validity, validity));
    results.push(CheckResult::from_outcome(
        Trust,
        chain.map(|(detail, _)| detail),
    ));
    results
}

/// The `revocation` (signer) and `ca-revocation` (every CA of the chain) checks.
fn revocation_checks(
    signer: &X509Certificate<'_>,
    chain: &Result<(String, Vec<&X509Certificate<'_>>), String>,
    pool: &certificate::Pool<'_>,
    signed_at: Option<i64>,
    trust: &Trust,
    at: Instant,
    crl_urls: &mut Vec<Vec<String>>,
) -> (CheckResult, CheckResult) {
    use revocation::Status as S;
    use Check::{CaRevocation, Revocation};
    if trust.policy.revocation == RevocationPolicy::Off {
        let why = "revocation checking is off (revocation policy 'off'): no CRL or ARL is read";
        return (
            CheckResult::not_checked(Revocation, why),
            CheckResult::not_checked(CaRevocation, why),
        );
    }
    let (Ok((_, cas)), Some(signed_at)) = (chain, signed_at) else {
        let why = "no chain to a trust anchor, so no CRL issuer's key is known";
        return (
            CheckResult::not_checked(Revocation, why),
            CheckResult::not_checked(CaRevocation, why),
        );
    };
    let mut keys: Vec<&X509Certificate<'_>> = cas.clone();
    keys.extend(pool.anchors.iter().chain(pool.intermediates.iter()));
    let inputs = revocation::Inputs {
        crls: trust.crls(),
        keys: &keys,
        signed_at,
        at: at.0.unix_timestamp(),
        grace: trust.policy.crl_grace_seconds,
    };
    let to_result = |check, status: S| match status {
        S::Good(d) => CheckResult::passed(check, d),
        S::Revoked(d) => CheckResult::failed(check, d),
        S::Unknown(d) => CheckResult::unknown(check, d),
    };
    let mut wanted = |cert: &X509Certificate<'_>| {
        let urls = revocation::distribution_points(cert);
        if !urls.is_empty() && !crl_urls.contains(&urls) {
            crl_urls.push(urls);
        }
    };
    let signer_status = revocation::status(signer, &inputs);
    if matches!(signer_status, S::Unknown(_)) {
        wanted(signer);
    }
    let signer_result = to_result(Revocation, signer_status);
    let mut revoked = Vec::new();
    let mut unknown = Vec::new();
    let mut good = Vec::new();
    for ca in cas {
        let name = certificate::subject(ca);
        let own_crl = trust
            .crls()
            .iter()
            .any(|c| c.issuer_raw() == ca.issuer().as_raw());
        if revocation::is_self_signed(ca) && !own_crl {
            good.push(format!(
                "'{name}' is a self-signed trust anchor and no ARL under its name was given (an anchor is withdrawn by removing it from the anchors)"
            ));
            continue;
        }
        match revocation::status(ca, &inputs) {
            S::Good(d) => good.push(format!("'{name}': {d}")),
            S::Revoked(d) => revoked.push(format!("'{name}': {d}")),
            S::Unknown(d) => {
                wanted(ca);
                unknown.push(format!("'{name}': {d}"));
            }
        }
    }
    let ca_result = if !revoked.is_empty() {
        CheckResult::failed(CaRevocation, revoked.join("; "))
    } else if !unknown.is_empty() {
        CheckResult::unknown(CaRevocation, unknown.join("; "))
    } else {
        CheckResult::passed(CaRevocation, good.join("; "))
    };
    (signer_result, ca_result)
}
