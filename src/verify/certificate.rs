//! Certificates: reading them (DER or PEM), and the trust decision — a chain from the signer
//! to a configured anchor in which every certificate's signature is verified with its
//! issuer's key, every issuer is a CA allowed to sign certificates, every certificate was
//! valid when the prescription was signed, and the signer may sign documents.
//!
//! Names are matched on their DER bytes, and key identifiers, when both certificates carry
//! them, must agree; but neither is taken as proof: only the issuer's signature is.

use base64::Engine;
use ring::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

/// Longest issuer chain followed from the signer to an anchor.
const MAX_CHAIN: usize = 6;

/// Parses one DER certificate, refusing trailing bytes.
pub fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok((rest, _)) => Err(format!(
            "{} bytes follow the certificate's DER encoding",
            rest.len()
        )),
        Err(e) => Err(format!("not an X.509 certificate: {e}")),
    }
}

/// The DER certificates in a PEM text (every `CERTIFICATE` block) or a DER file.
pub fn read_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    read_pem_or_der(bytes, "CERTIFICATE", "certificate", |der| {
        parse(der).map(|_| ())
    })
}

/// The DER items of a PEM text (every `label` block, each checked by `check`), or `bytes`
/// itself when it holds no such block (a DER file, checked too). Errors name the item
/// (`what`) by its place in the file.
pub(crate) fn read_pem_or_der(
    bytes: &[u8],
    label: &str,
    what: &str,
    check: impl Fn(&[u8]) -> Result<(), String>,
) -> Result<Vec<Vec<u8>>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end_line = format!("-----END {label}-----");
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.contains(&begin));
    let Some(text) = text else {
        check(bytes)?;
        return Ok(vec![bytes.to_vec()]);
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let n = out.len() + 1;
        let body = &rest[start + begin.len()..];
        let end = body
            .find(&end_line)
            .ok_or_else(|| format!("{what} {n} has no '{end_line}' line"))?;
        let compact: String = body[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| format!("{what} {n} is not base64: {e}"))?;
        check(&der).map_err(|e| format!("{what} {n}: {e}"))?;
        out.push(der);
        rest = &body[end + end_line.len()..];
    }
    Ok(out)
}

/// The verification algorithm for a certificate signature algorithm OID (RSA PKCS#1 v1.5
/// with SHA-1/256/384/512, ECDSA P-256/SHA-256 and P-384/SHA-384); `None` for any other.
pub(crate) fn certificate_algorithm(oid: &str) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match oid {
        "1.2.840.113549.1.1.5" => &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        "1.2.840.113549.1.1.11" => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        "1.2.840.113549.1.1.12" => &sig::RSA_PKCS1_2048_8192_SHA384,
        "1.2.840.113549.1.1.13" => &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        "1.2.840.10045.4.3.2" => &sig::ECDSA_P256_SHA256_ASN1,
        "1.2.840.10045.4.3.3" => &sig::ECDSA_P384_SHA384_ASN1,
        _ => return None,
    })
}

/// Whether `issuer`'s key signed `cert`.
pub(crate) fn signed_by(
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> Result<(), String> {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    let algorithm = certificate_algorithm(&oid)
        .ok_or_else(|| format!("signature algorithm {oid} is not supported"))?;
    let key = &issuer.public_key().subject_public_key.data;
    UnparsedPublicKey::new(algorithm, key)
        .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
        .map_err(|_| "its signature does not verify with the issuer's key".to_string())
}

/// The RSA modulus size of a certificate's key, in bits; `None` for a key that is not RSA.
pub fn rsa_bits(cert: &X509Certificate<'_>) -> Option<usize> {
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => Some(rsa.key_size()),
        _ => None,
    }
}

/// A certificate's subject, for details.
pub fn subject(cert: &X509Certificate<'_>) -> String {
    cert.subject().to_string()
}

/// Whether the certificate was valid at `time` (seconds since the epoch).
pub fn valid_at(cert: &X509Certificate<'_>, time: i64) -> Result<String, String> {
    let v = cert.validity();
    let window = format!("valid {} to {}", v.not_before, v.not_after);
    if time < v.not_before.timestamp() {
        Err(format!("not yet valid: {window}"))
    } else if time > v.not_after.timestamp() {
        Err(format!("expired: {window}"))
    } else {
        Ok(window)
    }
}

/// Critical extensions this verifier understands; a certificate with any other critical
/// extension is not used (RFC 5280 section 4.2).
fn unknown_critical_extension(cert: &X509Certificate<'_>) -> Option<String> {
    cert.extensions().iter().find_map(|ext| {
        let known = matches!(
            ext.parsed_extension(),
            ParsedExtension::BasicConstraints(_)
                | ParsedExtension::KeyUsage(_)
                | ParsedExtension::ExtendedKeyUsage(_)
                | ParsedExtension::CertificatePolicies(_)
                | ParsedExtension::SubjectAlternativeName(_)
                | ParsedExtension::SubjectKeyIdentifier(_)
                | ParsedExtension::AuthorityKeyIdentifier(_)
                | ParsedExtension::CRLDistributionPoints(_)
        );
        (ext.critical && !known).then(|| ext.oid.to_id_string())
    })
}

/// Whether `ca` may issue certificates: basicConstraints cA, and keyCertSign when keyUsage
/// is present.
fn is_issuing_ca(ca: &X509Certificate<'_>) -> Result<(), String> {
    match ca.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => {}
        Ok(_) => return Err("it is not a CA (basicConstraints cA is absent or false)".into()),
        Err(e) => return Err(format!("its basicConstraints do not parse: {e}")),
    }
    match ca.key_usage() {
        Ok(Some(ku)) if !ku.value.key_cert_sign() => {
            Err("its keyUsage does not allow keyCertSign".into())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(format!("its keyUsage does not parse: {e}")),
    }
}

/// Whether the signer's keyUsage, when present, allows signing documents.
fn may_sign(signer: &X509Certificate<'_>) -> Result<(), String> {
    match signer.key_usage() {
        Ok(Some(ku)) if !(ku.value.digital_signature() || ku.value.non_repudiation()) => {
            Err("the signer's keyUsage allows neither digitalSignature nor nonRepudiation".into())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(format!("the signer's keyUsage does not parse: {e}")),
    }
}

fn key_identifier<'a>(cert: &'a X509Certificate<'_>, authority: bool) -> Option<&'a [u8]> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) if authority => {
                aki.key_identifier.as_ref().map(|k| k.0)
            }
            ParsedExtension::SubjectKeyIdentifier(ski) if !authority => Some(ski.0),
            _ => None,
        })
}

/// Whether `candidate` could be `cert`'s issuer by name and key identifier (a hint only:
/// the signature decides).
fn names_issuer(cert: &X509Certificate<'_>, candidate: &X509Certificate<'_>) -> bool {
    if cert.issuer().as_raw() != candidate.subject().as_raw() {
        return false;
    }
    match (key_identifier(cert, true), key_identifier(candidate, false)) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

/// The configured certificates a chain may use.
pub struct Pool<'a> {
    /// Trusted: a chain that reaches one of these ends there.
    pub anchors: Vec<X509Certificate<'a>>,
    /// Not trusted themselves, usable to link the signer to an anchor.
    pub intermediates: Vec<X509Certificate<'a>>,
}

/// The trust decision for `signer` at signing time `signed_at` (seconds since the epoch):
/// `Ok` names the chain and gives its certificates after the signer (issuer first, the
/// anchor last), `Err` says why none was found.
pub fn chain_to_anchor<'p, 'a>(
    signer: &X509Certificate<'_>,
    pool: &'p Pool<'a>,
    signed_at: i64,
) -> Result<(String, Vec<&'p X509Certificate<'a>>), String> {
    if pool.anchors.is_empty() {
        return Err("no trust anchor is configured".into());
    }
    may_sign(signer)?;
    if let Some(oid) = unknown_critical_extension(signer) {
        return Err(format!(
            "the signer's certificate has an unsupported critical extension {oid}"
        ));
    }
    let mut path = vec![subject(signer)];
    let mut certs = Vec::new();
    let mut refusals = Vec::new();
    if search(
        signer,
        pool,
        signed_at,
        &mut path,
        &mut certs,
        &mut refusals,
    ) {
        return Ok((format!("chain: {}", path.join(" <- issued by ")), certs));
    }
    if refusals.is_empty() {
        Err(format!(
            "no configured certificate is named as the issuer '{}'",
            signer.issuer()
        ))
    } else {
        Err(refusals.join("; "))
    }
}

/// Depth-first search for an issuer path from `cert` to an anchor.
fn search<'p, 'a>(
    cert: &X509Certificate<'_>,
    pool: &'p Pool<'a>,
    signed_at: i64,
    path: &mut Vec<String>,
    certs: &mut Vec<&'p X509Certificate<'a>>,
    refusals: &mut Vec<String>,
) -> bool {
    if path.len() > MAX_CHAIN {
        refusals.push(format!("no anchor within {MAX_CHAIN} certificates"));
        return false;
    }
    let candidates = pool
        .anchors
        .iter()
        .map(|c| (c, true))
        .chain(pool.intermediates.iter().map(|c| (c, false)));
    for (candidate, is_anchor) in candidates {
        if !names_issuer(cert, candidate) || candidate.as_raw() == cert.as_raw() {
            continue;
        }
        let name = subject(candidate);
        let usable = signed_by(cert, candidate)
            .and_then(|()| is_issuing_ca(candidate))
            .and_then(|()| valid_at(candidate, signed_at).map(drop))
            .and_then(|()| match unknown_critical_extension(candidate) {
                Some(oid) => Err(format!("it has an unsupported critical extension {oid}")),
                None => Ok(()),
            });
        if let Err(why) = usable {
            refusals.push(format!(
                "'{name}' is not a valid issuer of '{}': {why}",
                subject(cert)
            ));
            continue;
        }
        path.push(name);
        certs.push(candidate);
        if is_anchor || search(candidate, pool, signed_at, path, certs, refusals) {
            return true;
        }
        path.pop();
        certs.pop();
    }
    false
}
