//! `$prepare`: translate a prescription-order Bundle, take its signature fragments, hash them,
//! and return the canonical `SignedInfo` (base64) the prescriber's smartcard signs, as the
//! reference's FHIR `Parameters {digest, timestamp, algorithm}`.
//!
//! The signing time is the Provenance signature's `when` when the Bundle has one for the
//! requester, otherwise the context's "now" (`--signing-time`).

use super::fragments::{canonical_fragments, parent_prescription};
use crate::context::Context;
use crate::error::{Issue, IssueCode, Rejection};
use crate::fhir::{Bundle, Resource};
use crate::translate::{self, report, Scope, PRESCRIPTION_ORDER};
use base64::Engine;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The digest (and so signature) algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DigestAlgorithm {
    #[default]
    Sha256,
    Sha1,
}

impl DigestAlgorithm {
    /// From the CLI's `sha256` / `sha1`.
    pub fn from_name(name: &str) -> Option<DigestAlgorithm> {
        match name.to_ascii_lowercase().as_str() {
            "sha256" | "sha-256" | "rs256" => Some(DigestAlgorithm::Sha256),
            "sha1" | "sha-1" | "rs1" => Some(DigestAlgorithm::Sha1),
            _ => None,
        }
    }

    /// The name the reference returns in `algorithm`.
    pub fn jws_name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "RS256",
            DigestAlgorithm::Sha1 => "RS1",
        }
    }

    /// The XML-DSig `SignatureMethod` URI.
    pub fn signature_method(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            DigestAlgorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        }
    }

    /// The XML-DSig `DigestMethod` URI.
    pub fn digest_method(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            DigestAlgorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
        }
    }

    /// Hashes bytes.
    pub fn hash(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sha256 => Sha256::digest(bytes).to_vec(),
            DigestAlgorithm::Sha1 => Sha1::digest(bytes).to_vec(),
        }
    }
}

/// Everything `$prepare` computes, including the intermediate forms for debugging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The FHIR Parameters the reference returns, pretty-printed JSON.
    pub parameters_json: String,
    /// Base64 of the canonical `SignedInfo`.
    pub digest: String,
    /// The signing time, `YYYY-MM-DDTHH:MM:SS+00:00`.
    pub timestamp: String,
    pub algorithm: DigestAlgorithm,
    /// The canonical `SignedInfo` XML.
    pub signed_info_xml: String,
    /// Base64 of the fragments' hash (the `DigestValue`).
    pub digest_value: String,
    /// The exclusive-canonical `FragmentsToBeHashed`.
    pub fragments_c14n: Vec<u8>,
    /// Warnings raised while translating.
    pub issues: Vec<Issue>,
}

/// The canonical `SignedInfo` for a digest value.
pub fn signed_info(algorithm: DigestAlgorithm, digest_value: &str) -> String {
    const EXC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
    format!(
        "<SignedInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><CanonicalizationMethod Algorithm=\"{EXC}\"></CanonicalizationMethod><SignatureMethod Algorithm=\"{}\"></SignatureMethod><Reference><Transforms><Transform Algorithm=\"{EXC}\"></Transform></Transforms><DigestMethod Algorithm=\"{}\"></DigestMethod><DigestValue>{digest_value}</DigestValue></Reference></SignedInfo>",
        algorithm.signature_method(),
        algorithm.digest_method()
    )
}

/// `YYYYMMDDHHMMSS` → `YYYY-MM-DDTHH:MM:SS+00:00`.
fn iso_from_hl7(t: &str) -> String {
    if t.len() != 14 {
        return t.to_string();
    }
    format!(
        "{}-{}-{}T{}:{}:{}+00:00",
        &t[0..4],
        &t[4..6],
        &t[6..8],
        &t[8..10],
        &t[10..12],
        &t[12..14]
    )
}

/// Runs `$prepare` on Bundle bytes. `ctx.now` is the signing time used when the Bundle has no
/// Provenance signature.
pub fn prepare(
    input: &[u8],
    algorithm: DigestAlgorithm,
    ctx: &Context,
) -> Result<Prepared, Rejection> {
    let mut buffer = String::new();
    let (bundle, text) = Bundle::read(input, &mut buffer)?;
    let code = bundle.entries.iter().find_map(|e| match &e.resource {
        Resource::MessageHeader(m) => Some(
            m.event_coding
                .as_ref()
                .and_then(|c| c.code.as_deref())
                .unwrap_or(""),
        ),
        _ => None,
    });
    if !matches!(
        code,
        Some(
            PRESCRIPTION_ORDER
                | translate::PRESCRIPTION_ORDER_UPDATE
                | translate::DISPENSE_NOTIFICATION
        )
    ) {
        return Err(translate::unknown_event_code());
    }
    if code != Some(PRESCRIPTION_ORDER) {
        // A cancellation is validated as one first, so its own errors come before this one.
        if code == Some(translate::PRESCRIPTION_ORDER_UPDATE) {
            translate::validate(&bundle, text, ctx)?;
        }
        return Err(Rejection::at(
            IssueCode::Invalid,
            "Bundle.entry.resource.ofType(MessageHeader).eventCoding.code",
            "MessageHeader.eventCoding.code must be 'prescription-order'.",
        ));
    }
    let translated = translate::translate_scoped(&bundle, text, ctx, Scope::SignedParts)?;
    report::refuse_non_xml(&translated.root, text)?;
    let parent = parent_prescription(&translated.root)
        .map_err(|e| Rejection::single(Issue::error(IssueCode::Processing, e.to_string(), None)))?;
    let author_time = parent
        .find("pertinentInformation1")
        .and_then(|p| p.find("pertinentPrescription"))
        .and_then(|p| p.find("author"))
        .and_then(|a| a.find("time"))
        .and_then(|t| t.get_attr("value"))
        .unwrap_or_default()
        .to_string();
    let fragments_c14n = canonical_fragments(parent)
        .map_err(|e| Rejection::single(Issue::error(IssueCode::Processing, e.to_string(), None)))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let digest_value = b64.encode(algorithm.hash(&fragments_c14n));
    let signed_info_xml = signed_info(algorithm, &digest_value);
    let digest = b64.encode(signed_info_xml.as_bytes());
    let timestamp = iso_from_hl7(&author_time);
    let parameters_json = parameters_json(&digest, &timestamp, algorithm.jws_name());
    Ok(Prepared {
        parameters_json,
        digest,
        timestamp,
        algorithm,
        signed_info_xml,
        digest_value,
        fragments_c14n,
        issues: translated.issues,
    })
}

/// The `Parameters` resource `$prepare` returns, laid out as serde_json's pretty printer lays
/// it out (two-space indent, members in this order), written straight into a string rather
/// than through a `serde_json::Value` built for three strings (~9 K instructions a call on
/// the largest corpus Send). Each value is quoted and escaped by serde_json.
fn parameters_json(digest: &str, timestamp: &str, algorithm: &str) -> String {
    let quoted = |value: &str| serde_json::to_string(value).unwrap_or_default();
    let mut out = String::with_capacity(256 + digest.len());
    out.push_str("{\n  \"resourceType\": \"Parameters\",\n  \"parameter\": [");
    for (i, (name, value)) in [
        ("digest", digest),
        ("timestamp", timestamp),
        ("algorithm", algorithm),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        out.push_str("\n    {\n      \"name\": ");
        out.push_str(&quoted(name));
        out.push_str(",\n      \"valueString\": ");
        out.push_str(&quoted(value));
        out.push_str("\n    }");
    }
    out.push_str("\n  ]\n}");
    out
}

#[cfg(test)]
mod tests {
    use super::parameters_json;
    use serde_json::json;

    /// The same bytes as building the resource as a `Value` and printing it pretty.
    #[test]
    fn parameters_are_laid_out_as_serde_json_pretty_prints_them() {
        for (digest, timestamp, algorithm) in [
            ("PFNpZ25lZEluZm8+", "2024-12-09T11:50:04+00:00", "RS256"),
            ("", "", "RS1"),
            ("a\"b\\c\u{1}\n", "é\u{2028}", "x"),
        ] {
            let expected = serde_json::to_string_pretty(&json!({
                "resourceType": "Parameters",
                "parameter": [
                    {"name": "digest", "valueString": digest},
                    {"name": "timestamp", "valueString": timestamp},
                    {"name": "algorithm", "valueString": algorithm},
                ]
            }))
            .unwrap();
            assert_eq!(parameters_json(digest, timestamp, algorithm), expected);
        }
    }
}
