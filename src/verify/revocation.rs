//! Revocation: whether a certificate of the signer's chain is on a certificate revocation
//! list (CRL; for a CA, the authority revocation list, ARL) issued under its issuer's name.
//!
//! Pure: the CRLs come in as DER, the signing time and the time of checking as numbers. A
//! CRL is used only when
//! - its signature verifies with the key of a certificate the verifier trusts for the CRL's
//!   issuer name (the next certificate of the verified chain, or a configured anchor or
//!   intermediate with that subject) whose keyUsage, when present, allows cRLSign;
//! - its issuer name is the checked certificate's issuer name (DER bytes equal), so an entry
//!   is matched by serial number and issuer;
//! - it is current at the time of checking: `thisUpdate - grace <= time <= nextUpdate + grace`
//!   (a CRL without `nextUpdate` is never current);
//! - it has no critical extension, and no entry has a critical extension other than the
//!   reason code and the invalidity date (delta CRLs, partitioned or indirect CRLs are not
//!   supported, and are not used rather than misread).
//!
//! Of the usable CRLs for an issuer the newest (`thisUpdate`) decides. An entry revokes:
//! keyCompromise, cACompromise and aACompromise whatever the signing time; removeFromCRL
//! never (it is the undoing of a hold); every other reason, or none, when the signing time
//! is at or after the revocation date.
//!
//! x509-parser reads the CRLs; the rules above are written here because no crate applies
//! them to a signing time (webpki's CRL support checks TLS chains at the current time only).

use super::certificate;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::num_bigint::BigUint;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

/// One revocation of a serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    revoked_at: i64,
    /// The CRLReason code, when the entry carries one.
    reason: Option<u8>,
}

/// A parsed CRL, owned, with what the check needs.
#[derive(Debug)]
pub struct Crl {
    /// Where it came from (a file name, `request CRL 2`, a URL), for details.
    pub source: String,
    issuer_raw: Vec<u8>,
    issuer: String,
    this_update: i64,
    next_update: Option<i64>,
    algorithm_oid: String,
    tbs: Vec<u8>,
    signature: Vec<u8>,
    entries: HashMap<BigUint, Vec<Entry>>,
    /// Why the CRL cannot be used whatever the keys and times, when it cannot.
    unsupported: Option<String>,
    /// Signature verifications already made: (issuer key, verified). CRLs can be large, and a
    /// release verifies many prescriptions under one issuer.
    verified: Mutex<Vec<(Vec<u8>, bool)>>,
}

/// CRL reason names (RFC 5280 section 5.3.1).
pub fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "an unknown reason",
    }
}

const KEY_COMPROMISE: u8 = 1;
const CA_COMPROMISE: u8 = 2;
const REMOVE_FROM_CRL: u8 = 8;
const AA_COMPROMISE: u8 = 10;

impl Crl {
    /// Parses one DER CRL, refusing trailing bytes.
    pub fn from_der(der: &[u8], source: impl Into<String>) -> Result<Crl, String> {
        let crl = match CertificateRevocationList::from_der(der) {
            Ok(([], crl)) => crl,
            Ok((rest, _)) => {
                return Err(format!(
                    "{} bytes follow the CRL's DER encoding",
                    rest.len()
                ))
            }
            Err(e) => return Err(format!("not an X.509 CRL: {e}")),
        };
        let mut unsupported = crl
            .extensions()
            .iter()
            .find(|e| e.critical)
            .map(|e| format!("it has a critical extension {}", e.oid.to_id_string()));
        let mut entries: HashMap<BigUint, Vec<Entry>> = HashMap::new();
        for revoked in crl.iter_revoked_certificates() {
            if unsupported.is_none() {
                unsupported = revoked
                    .extensions()
                    .iter()
                    .find(|e| {
                        e.critical
                            && !matches!(
                                e.parsed_extension(),
                                ParsedExtension::ReasonCode(_) | ParsedExtension::InvalidityDate(_)
                            )
                    })
                    .map(|e| {
                        format!(
                            "the entry for serial {} has a critical extension {}",
                            hex(revoked.serial()),
                            e.oid.to_id_string()
                        )
                    });
            }
            entries
                .entry(revoked.serial().clone())
                .or_default()
                .push(Entry {
                    revoked_at: revoked.revocation_date.timestamp(),
                    reason: revoked.reason_code().map(|(_, r)| r.0),
                });
        }
        Ok(Crl {
            source: source.into(),
            issuer_raw: crl.issuer().as_raw().to_vec(),
            issuer: crl.issuer().to_string(),
            this_update: crl.last_update().timestamp(),
            next_update: crl.next_update().map(|t| t.timestamp()),
            algorithm_oid: crl.signature_algorithm.algorithm.to_id_string(),
            tbs: crl.tbs_cert_list.as_ref().to_vec(),
            signature: crl.signature_value.data.to_vec(),
            entries,
            unsupported,
            verified: Mutex::new(Vec::new()),
        })
    }

    /// The issuer's name, for details.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The issuer's name, DER.
    pub fn issuer_raw(&self) -> &[u8] {
        &self.issuer_raw
    }

    /// `nextUpdate`, seconds since the epoch.
    pub fn next_update(&self) -> Option<i64> {
        self.next_update
    }

    /// `thisUpdate`, seconds since the epoch.
    pub fn this_update(&self) -> i64 {
        self.this_update
    }

    /// How many serial numbers the CRL lists.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the CRL lists no serial number.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn signed_by(&self, key_holder: &X509Certificate<'_>) -> bool {
        let key = key_holder.public_key().raw;
        let mut memo = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, ok)) = memo.iter().find(|(k, _)| k == key) {
            return *ok;
        }
        let ok = certificate::certificate_algorithm(&self.algorithm_oid).is_some_and(|alg| {
            ring::signature::UnparsedPublicKey::new(
                alg,
                &key_holder.public_key().subject_public_key.data,
            )
            .verify(&self.tbs, &self.signature)
            .is_ok()
        });
        memo.push((key.to_vec(), ok));
        ok
    }

    /// Why this CRL cannot be used for a certificate issued under `issuer_raw`, checked at
    /// `at` with `grace` seconds either side, with keys from `keys`; `None` when it can.
    fn unusable(&self, keys: &[&X509Certificate<'_>], at: i64, grace: i64) -> Option<String> {
        if let Some(why) = &self.unsupported {
            return Some(why.clone());
        }
        let signers: Vec<_> = keys
            .iter()
            .filter(|k| k.subject().as_raw() == self.issuer_raw.as_slice())
            .collect();
        if signers.is_empty() {
            return Some(format!(
                "no trusted certificate is named '{}', so its signature cannot be checked",
                self.issuer
            ));
        }
        let allowed: Vec<_> = signers.iter().filter(|k| may_sign_crls(k)).collect();
        if allowed.is_empty() {
            return Some(format!(
                "the keyUsage of every certificate named '{}' excludes cRLSign",
                self.issuer
            ));
        }
        if !allowed.iter().any(|k| self.signed_by(k)) {
            return Some(format!(
                "its signature does not verify with the key of any trusted certificate named '{}'",
                self.issuer
            ));
        }
        if at < self.this_update.saturating_sub(grace) {
            return Some(format!(
                "it is not yet valid: thisUpdate {} is after the time of checking {}",
                super::iso(self.this_update),
                super::iso(at)
            ));
        }
        match self.next_update {
            None => Some("it has no nextUpdate, so it is never current".into()),
            Some(next) if at > next.saturating_add(grace) => Some(format!(
                "it is stale: nextUpdate {} is before the time of checking {}",
                super::iso(next),
                super::iso(at)
            )),
            Some(_) => None,
        }
    }
}

fn may_sign_crls(cert: &X509Certificate<'_>) -> bool {
    match cert.key_usage() {
        Ok(Some(ku)) => ku.value.crl_sign(),
        Ok(None) => true,
        Err(_) => false,
    }
}

fn hex(serial: &BigUint) -> String {
    let mut s = serial.to_str_radix(16).to_uppercase();
    if s.len() % 2 == 1 {
        s.insert(0, '0');
    }
    s
}

/// The DER CRLs in a PEM text (every `X509 CRL` block) or a DER file.
pub fn read_crls(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    super::certificate::read_pem_or_der(bytes, "X509 CRL", "CRL", |der| {
        Crl::from_der(der, "").map(|_| ())
    })
}

/// A certificate's revocation status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Not revoked at the signing time, as a usable CRL shows (the detail names it).
    Good(String),
    /// Revoked: the detail names the CRL, the date and the reason.
    Revoked(String),
    /// Not established: no usable CRL (the detail says why each candidate was not used).
    Unknown(String),
}

/// What the check needs besides the certificate.
pub struct Inputs<'a, 'b> {
    /// Every CRL given.
    pub crls: &'a [Arc<Crl>],
    /// Certificates trusted for their names' keys: the verified chain and the configured
    /// anchors and intermediates.
    pub keys: &'a [&'a X509Certificate<'b>],
    /// The signing time and the time of checking, seconds since the epoch.
    pub signed_at: i64,
    pub at: i64,
    /// Seconds a CRL is still taken before `thisUpdate` and after `nextUpdate`.
    pub grace: i64,
}

/// The revocation status of `cert` under the CRLs issued by its issuer's name.
pub fn status(cert: &X509Certificate<'_>, inputs: &Inputs<'_, '_>) -> Status {
    let issuer_raw = cert.issuer().as_raw();
    let serial = hex(&cert.tbs_certificate.serial);
    let candidates: Vec<&Arc<Crl>> = inputs
        .crls
        .iter()
        .filter(|c| c.issuer_raw.as_slice() == issuer_raw)
        .collect();
    if candidates.is_empty() {
        let points = distribution_points(cert);
        return Status::Unknown(if points.is_empty() {
            format!(
                "no CRL issued by '{}' was given, and the certificate names no CRL distribution point",
                cert.issuer()
            )
        } else {
            format!(
                "no CRL issued by '{}' was given (the certificate's distribution point: {})",
                cert.issuer(),
                points.join(", ")
            )
        });
    }
    let mut refused = Vec::new();
    let mut newest: Option<&Arc<Crl>> = None;
    for crl in candidates {
        match crl.unusable(inputs.keys, inputs.at, inputs.grace) {
            Some(why) => refused.push(format!("{}: {why}", crl.source)),
            None => {
                if newest.is_none_or(|n| crl.this_update > n.this_update) {
                    newest = Some(crl);
                }
            }
        }
    }
    let Some(crl) = newest else {
        return Status::Unknown(format!(
            "no usable CRL issued by '{}': {}",
            cert.issuer(),
            refused.join("; ")
        ));
    };
    let which = format!(
        "the CRL of '{}' from {} (thisUpdate {}, nextUpdate {})",
        crl.issuer,
        crl.source,
        super::iso(crl.this_update),
        crl.next_update.map_or_else(String::new, super::iso)
    );
    let Some(entries) = crl.entries.get(&cert.tbs_certificate.serial) else {
        return Status::Good(format!("serial {serial} is not on {which}"));
    };
    let mut notes = Vec::new();
    for entry in entries {
        let reason = entry.reason.map_or("no reason given", reason_name);
        let when = super::iso(entry.revoked_at);
        match entry.reason {
            Some(KEY_COMPROMISE | CA_COMPROMISE | AA_COMPROMISE) => {
                return Status::Revoked(format!(
                    "serial {serial} is on {which}: revoked {when} for {reason}, which revokes whatever the signing time"
                ))
            }
            Some(REMOVE_FROM_CRL) => notes.push(format!(
                "listed {when} with removeFromCRL, which is not a revocation"
            )),
            _ if inputs.signed_at >= entry.revoked_at => {
                return Status::Revoked(format!(
                    "serial {serial} is on {which}: revoked {when} ({reason}), at or before the signing time {}",
                    super::iso(inputs.signed_at)
                ))
            }
            _ => notes.push(format!(
                "listed as revoked {when} ({reason}), after the signing time {}",
                super::iso(inputs.signed_at)
            )),
        }
    }
    Status::Good(format!(
        "serial {serial} is on {which} but not revoked when signed: {}",
        notes.join("; ")
    ))
}

/// The http(s) URLs of a certificate's CRL distribution points, in order.
pub fn distribution_points(cert: &X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::{DistributionPointName, GeneralName};
    let mut out = Vec::new();
    for ext in cert.extensions() {
        let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() else {
            continue;
        };
        for point in points.iter() {
            if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                for name in names {
                    if let GeneralName::URI(uri) = name {
                        if uri.starts_with("http://") || uri.starts_with("https://") {
                            out.push((*uri).to_string());
                        }
                    }
                }
            }
        }
    }
    out
}

/// Whether `cert` is self-issued and verifies with its own key (a root).
pub fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    cert.issuer().as_raw() == cert.subject().as_raw() && certificate::signed_by(cert, cert).is_ok()
}
