//! A test PKI made at run time (root → sub-CA → signer, plus the certificates the attacks
//! need) and prescriptions signed with it the way a prescriber system signs: `prepare` the
//! Bundle, sign the `SignedInfo` it returns, put the `Signature` in the Provenance. No key
//! is committed: RSA keys come from a seeded ChaCha generator, so every run makes the same
//! ones.
#![allow(dead_code)]

use base64::Engine;
use eps_translator::datetime::Instant;
use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose,
};
use rsa::pkcs8::EncodePrivateKey;
use serde_json::Value;
use std::sync::OnceLock;
use time::macros::datetime;
use time::OffsetDateTime;

/// When the test prescriptions are signed.
pub const SIGNED_AT: &str = "2025-01-15T10:00:00+00:00";
/// When they are checked.
pub const CHECKED_AT: &str = "2025-06-01T00:00:00+00:00";
/// The key identifier the sub-CA and its forgery both carry.
const SUB_CA_KEY_ID: [u8; 20] = [7; 20];

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn checked_at() -> Instant {
    Instant::parse_rfc3339(CHECKED_AT).unwrap()
}

/// An RSA key: rcgen's view (to issue certificates) and its PKCS#8 DER (to sign with ring).
pub struct Key {
    pub pair: KeyPair,
    pub pkcs8: Vec<u8>,
}

fn rsa_key(seed: u64) -> Key {
    use rand_chacha::rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
    let pem = private.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let pkcs8 = private.to_pkcs8_der().unwrap().as_bytes().to_vec();
    let pair = KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    Key { pair, pkcs8 }
}

/// A certificate: DER and the parameters it was made from (to issue under it).
pub struct Cert {
    pub der: Vec<u8>,
    pub params: CertificateParams,
}

impl Cert {
    pub fn pem(&self) -> Vec<u8> {
        let body = b64(&self.der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
        .into_bytes()
    }
}

/// What a certificate is.
#[derive(Clone, Copy)]
pub enum Role {
    Ca,
    /// An end-entity certificate whose keyUsage allows nonRepudiation (smartcards' usage).
    Signer,
    /// An end-entity certificate whose keyUsage allows only key encipherment.
    EnciphermentOnly,
}

pub fn params(
    name: &str,
    role: Role,
    valid: (OffsetDateTime, OffsetDateTime),
) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "eps-translator test PKI");
    dn.push(DnType::CommonName, name);
    p.distinguished_name = dn;
    (p.not_before, p.not_after) = valid;
    p.use_authority_key_identifier_extension = true;
    match role {
        Role::Ca => {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        }
        Role::Signer => {
            p.is_ca = IsCa::ExplicitNoCa;
            p.key_usages = vec![KeyUsagePurpose::ContentCommitment];
        }
        Role::EnciphermentOnly => {
            p.is_ca = IsCa::ExplicitNoCa;
            p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
        }
    }
    p
}

pub const VALID: (OffsetDateTime, OffsetDateTime) = (
    datetime!(2024-01-01 0:00 UTC),
    datetime!(2030-01-01 0:00 UTC),
);

/// Issues `params` for `key` under `issuer` (self-signed when `None`).
pub fn issue(params: CertificateParams, key: &Key, issuer: Option<(&Cert, &Key)>) -> Cert {
    let cert = match issuer {
        Some((ca, ca_key)) => params
            .signed_by(&key.pair, &Issuer::from_params(&ca.params, &ca_key.pair))
            .unwrap(),
        None => params.self_signed(&key.pair).unwrap(),
    };
    Cert {
        der: cert.der().to_vec(),
        params,
    }
}

/// The test PKI: root → sub-CA → signer, and a second key for forgeries.
pub struct Pki {
    pub root_key: Key,
    pub root: Cert,
    pub sub_key: Key,
    pub sub_ca: Cert,
    pub signer_key: Key,
    pub signer: Cert,
    /// Another key, for the forged and misissued certificates.
    pub other_key: Key,
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root_key = rsa_key(1);
        let root = issue(params("Test Root", Role::Ca, VALID), &root_key, None);
        let sub_key = rsa_key(2);
        let mut sub_params = params("Test Sub-CA", Role::Ca, VALID);
        sub_params.key_identifier_method = KeyIdMethod::PreSpecified(SUB_CA_KEY_ID.to_vec());
        let sub_ca = issue(sub_params, &sub_key, Some((&root, &root_key)));
        let signer_key = rsa_key(3);
        let signer = issue(
            params("Test Prescriber", Role::Signer, VALID),
            &signer_key,
            Some((&sub_ca, &sub_key)),
        );
        Pki {
            root_key,
            root,
            sub_key,
            sub_ca,
            signer_key,
            signer,
            other_key: rsa_key(4),
        }
    })
}

impl Pki {
    /// A CA with the sub-CA's subject name and key identifier, and another key.
    pub fn forged_sub_ca(&self) -> Cert {
        let mut p = params("Test Sub-CA", Role::Ca, VALID);
        p.key_identifier_method = KeyIdMethod::PreSpecified(SUB_CA_KEY_ID.to_vec());
        issue(p, &self.other_key, None)
    }

    /// The trust configuration: the root as anchor, the sub-CA as intermediate, and the
    /// current revocation lists of both, revoking nothing ([`Pki::good_crls`]).
    pub fn trust(&self) -> eps_translator::verify::Trust {
        let mut trust = self.trust_without_crls();
        for (name, crl) in self.good_crls() {
            trust.add_crls(&crl, name).unwrap();
        }
        trust
    }

    /// The root as anchor, the sub-CA as intermediate, no CRL.
    pub fn trust_without_crls(&self) -> eps_translator::verify::Trust {
        let mut trust = eps_translator::verify::Trust::new();
        trust.add_anchors(&self.root.pem()).unwrap();
        trust.add_intermediates(&self.sub_ca.pem()).unwrap();
        trust
    }

    /// The root's ARL and the sub-CA's CRL, current over [`CRL_WINDOW`], revoking nothing.
    pub fn good_crls(&self) -> [(&'static str, Vec<u8>); 2] {
        [
            (
                "root ARL",
                crl(&self.root, &self.root_key, vec![], CRL_WINDOW),
            ),
            (
                "sub-CA CRL",
                crl(&self.sub_ca, &self.sub_key, vec![], CRL_WINDOW),
            ),
        ]
    }
}

/// When the test CRLs are current: around [`SIGNED_AT`] and [`CHECKED_AT`], and the clock of
/// a test that reads it.
pub const CRL_WINDOW: (OffsetDateTime, OffsetDateTime) = (
    datetime!(2025-01-01 0:00 UTC),
    datetime!(2030-01-01 0:00 UTC),
);

/// A certificate's serial number.
pub fn serial(cert: &Cert) -> rcgen::SerialNumber {
    use x509_parser::prelude::FromDer;
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(&cert.der).unwrap();
    parsed.tbs_certificate.serial.to_bytes_be().into()
}

/// A revocation of `cert` at `when` for `reason`.
pub fn revoked(
    cert: &Cert,
    when: OffsetDateTime,
    reason: Option<rcgen::RevocationReason>,
) -> rcgen::RevokedCertParams {
    rcgen::RevokedCertParams {
        serial_number: serial(cert),
        revocation_time: when,
        reason_code: reason,
        invalidity_date: None,
    }
}

/// A DER CRL issued by `issuer` (signed with `key`) listing `revoked`, current over `window`.
pub fn crl(
    issuer: &Cert,
    key: &Key,
    revoked: Vec<rcgen::RevokedCertParams>,
    window: (OffsetDateTime, OffsetDateTime),
) -> Vec<u8> {
    let params = rcgen::CertificateRevocationListParams {
        this_update: window.0,
        next_update: window.1,
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params
        .signed_by(&Issuer::from_params(&issuer.params, &key.pair))
        .unwrap()
        .der()
        .to_vec()
}

/// The corpus Bundle the tests sign.
pub fn corpus_bundle(shared: &std::path::Path) -> Vec<u8> {
    std::fs::read(shared.join(
        "eps-examples/primary-care/acute/nominated-pharmacy/medical-prescriber/1-Process-Request-Send-200_OK.json",
    ))
    .unwrap()
}

fn provenance_signature(bundle: &mut Value) -> &mut Value {
    bundle["entry"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .map(|e| &mut e["resource"])
        .find(|r| r["resourceType"] == "Provenance")
        .expect("the Bundle has a Provenance")
        .pointer_mut("/signature/0")
        .expect("the Provenance has a signature")
}

/// The `Signature` XML for a `SignedInfo`, signed with `key`, carrying `cert`.
pub fn signature_xml(signed_info: &str, key: &Key, cert: &Cert) -> String {
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&key.pkcs8).unwrap();
    let mut value = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signed_info.as_bytes(),
        &mut value,
    )
    .unwrap();
    format!(
        "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">{signed_info}<SignatureValue>{}</SignatureValue><KeyInfo><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></Signature>",
        b64(&value),
        b64(&cert.der)
    )
}

/// Signs a prescription-order Bundle as a prescriber system does, with `key` and `cert`,
/// at [`SIGNED_AT`]: the Provenance signature's `when` set, `prepare` run, its `SignedInfo`
/// signed, the `Signature` put in the Provenance's `data`.
pub fn sign_bundle(bundle: &[u8], key: &Key, cert: &Cert) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(bundle).unwrap();
    provenance_signature(&mut value)["when"] = SIGNED_AT.into();
    let ctx = Context::new(checked_at());
    let prepared = prepare(
        &serde_json::to_vec(&value).unwrap(),
        DigestAlgorithm::Sha256,
        &ctx,
    )
    .expect("prepare");
    let signature = signature_xml(&prepared.signed_info_xml, key, cert);
    provenance_signature(&mut value)["data"] = b64(signature.as_bytes()).into();
    serde_json::to_vec(&value).unwrap()
}

/// The HL7 v3 send message `convert` makes of a signed Bundle.
pub fn convert(bundle: &[u8]) -> String {
    eps_translator::translate::convert(bundle, &Context::new(checked_at()))
        .expect("convert")
        .xml
}
