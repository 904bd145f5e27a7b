//! The XML-DSig `Signature` a prescription carries in `author/signatureText`: its shape
//! (the format checks), the pinned profile, and the RSA signature over the `SignedInfo` as
//! received.
//!
//! Elements are matched by namespace and local name, so `ds:`-prefixed and unprefixed
//! signatures read the same.

use super::certificate;
use super::Policy;
use crate::c14n::{self, Layout, Mode};
use crate::signing::DigestAlgorithm;
use base64::Engine;
use ring::signature::{self as sig, UnparsedPublicKey};
use roxmltree::Node;
use x509_parser::certificate::X509Certificate;

/// The XML-DSig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// The parts of a well-formed signature.
pub struct Signature<'a, 'i> {
    pub signed_info: Node<'a, 'i>,
    /// `SignatureValue`'s text, as received (base64, possibly with line breaks).
    pub signature_value: String,
    /// `X509Certificate`'s text, as received.
    pub certificate: String,
}

/// Why the format checks failed: the shape, or more than one certificate.
pub enum FormatError {
    Shape(String),
    MultipleCertificates(usize),
}

/// What the pinned profile allows, read from `SignedInfo`.
pub struct Profile {
    pub canonicalization: Mode,
    pub algorithm: DigestAlgorithm,
    /// `DigestValue`'s text.
    pub digest_value: String,
}

fn is_ds(node: &Node<'_, '_>, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(DSIG_NS)
}

fn is_xml_whitespace(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// The concatenated text of an element's text children.
fn text_of(node: Node<'_, '_>) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// Base64 with XML whitespace (line breaks, `&#13;`) removed.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("not base64: {e}"))
}

/// The format checks: one `Signature` in `signatureText`, with one `SignedInfo`, one
/// non-empty `SignatureValue` and one `KeyInfo` holding exactly one non-empty
/// `X509Data/X509Certificate`.
pub fn read<'a, 'i>(
    signature_text: Option<Node<'a, 'i>>,
) -> Result<Signature<'a, 'i>, FormatError> {
    let shape = |m: String| FormatError::Shape(m);
    let holder = signature_text
        .ok_or_else(|| shape("the prescription's author has no signatureText".into()))?;
    let elements: Vec<_> = holder.children().filter(|c| c.is_element()).collect();
    let signatures = elements.iter().filter(|e| is_ds(e, "Signature")).count();
    if signatures != 1 || elements.len() != 1 {
        return Err(shape(format!(
            "signatureText holds {signatures} XML-DSig Signature element(s) among {} element(s); exactly one Signature is accepted",
            elements.len()
        )));
    }
    let signature = elements[0];
    let one = |name: &str| {
        let found: Vec<_> = signature.children().filter(|c| is_ds(c, name)).collect();
        match found.as_slice() {
            [only] => Ok(*only),
            _ => Err(shape(format!(
                "Signature holds {} {name} element(s), expected one",
                found.len()
            ))),
        }
    };
    if let Some(other) = signature.children().find(|c| {
        c.is_element()
            && !["SignedInfo", "SignatureValue", "KeyInfo"]
                .iter()
                .any(|n| is_ds(c, n))
    }) {
        return Err(shape(format!(
            "Signature holds an unexpected element '{}'",
            other.tag_name().name()
        )));
    }
    let signed_info = one("SignedInfo")?;
    let signature_value = text_of(one("SignatureValue")?);
    if is_xml_whitespace(&signature_value) {
        return Err(shape("SignatureValue is empty".into()));
    }
    let certificates: Vec<_> = one("KeyInfo")?
        .children()
        .filter(|c| is_ds(c, "X509Data"))
        .flat_map(|d| d.children().filter(|c| is_ds(c, "X509Certificate")))
        .collect();
    match certificates.as_slice() {
        [] => Err(shape("KeyInfo holds no X509Data/X509Certificate".into())),
        [only] => {
            let certificate = text_of(*only);
            if is_xml_whitespace(&certificate) {
                return Err(shape("X509Certificate is empty".into()));
            }
            Ok(Signature {
                signed_info,
                signature_value,
                certificate,
            })
        }
        many => Err(FormatError::MultipleCertificates(many.len())),
    }
}

/// An element's XML-DSig element children, refusing any other element and any text that is
/// not whitespace.
fn ds_children<'a, 'i>(node: Node<'a, 'i>) -> Result<Vec<Node<'a, 'i>>, String> {
    let mut out = Vec::new();
    for c in node.children() {
        if c.is_element() {
            if c.tag_name().namespace() != Some(DSIG_NS) {
                return Err(format!(
                    "{} holds '{}', which is not an XML-DSig element",
                    node.tag_name().name(),
                    c.tag_name().name()
                ));
            }
            out.push(c);
        } else if c.is_text() && !is_xml_whitespace(c.text().unwrap_or_default()) {
            return Err(format!(
                "{} holds text between its elements",
                node.tag_name().name()
            ));
        }
    }
    Ok(out)
}

/// Checks that an element's children are exactly `expected`, in order.
fn expect_children<'a, 'i>(
    node: Node<'a, 'i>,
    expected: &[&str],
) -> Result<Vec<Node<'a, 'i>>, String> {
    let children = ds_children(node)?;
    let names: Vec<&str> = children.iter().map(|c| c.tag_name().name()).collect();
    if names != expected {
        return Err(format!(
            "{} holds [{}]; the profile requires [{}]",
            node.tag_name().name(),
            names.join(", "),
            expected.join(", ")
        ));
    }
    Ok(children)
}

fn algorithm<'a>(node: Node<'a, '_>) -> Result<&'a str, String> {
    node.attribute("Algorithm")
        .ok_or_else(|| format!("{} has no Algorithm", node.tag_name().name()))
}

/// The pinned profile, read from the received `SignedInfo`; `Err` names the first departure.
/// With `signer`, the key size is checked as well.
pub fn profile(
    signed_info: Node<'_, '_>,
    signer: Option<&X509Certificate<'_>>,
    policy: &Policy,
) -> Result<Profile, String> {
    if let Some(n) = signed_info
        .descendants()
        .find(|n| n.is_comment() || n.is_pi())
    {
        let what = if n.is_comment() {
            "a comment"
        } else {
            "a processing instruction"
        };
        let pos = signed_info.document().text_pos_at(n.range().start);
        return Err(format!(
            "SignedInfo holds {what} at {pos}; none is accepted"
        ));
    }
    let children = ds_children(signed_info)?;
    let references = children
        .iter()
        .filter(|c| c.tag_name().name() == "Reference")
        .count();
    if references != 1 {
        return Err(format!(
            "SignedInfo holds {references} Reference elements; exactly one is accepted"
        ));
    }
    let [c14n_method, signature_method, reference] = expect_children(
        signed_info,
        &["CanonicalizationMethod", "SignatureMethod", "Reference"],
    )?[..] else {
        unreachable!("expect_children returned three elements")
    };
    expect_children(c14n_method, &[])?;
    let uri = algorithm(c14n_method)?;
    let canonicalization = Mode::from_uri(uri).ok_or_else(|| {
        format!(
            "CanonicalizationMethod '{uri}' is not supported (C14N 1.0 or exclusive C14N 1.0 only)"
        )
    })?;
    expect_children(signature_method, &[])?;
    let method = algorithm(signature_method)?;
    let algorithm_pair = [DigestAlgorithm::Sha1, DigestAlgorithm::Sha256]
        .into_iter()
        .find(|a| a.signature_method() == method)
        .ok_or_else(|| {
            format!("SignatureMethod '{method}' is not supported (rsa-sha1 or rsa-sha256 only)")
        })?;
    if let Some(uri) = reference.attribute("URI") {
        return Err(format!(
            "Reference has URI '{uri}'; the signed data is the prescription's fragments, so no URI is accepted"
        ));
    }
    let [transforms, digest_method, digest_value] =
        expect_children(reference, &["Transforms", "DigestMethod", "DigestValue"])?[..]
    else {
        unreachable!("expect_children returned three elements")
    };
    let [transform] = expect_children(transforms, &["Transform"])?[..] else {
        unreachable!("expect_children returned one element")
    };
    expect_children(transform, &[])?;
    let transform_uri = algorithm(transform)?;
    if transform_uri != EXC_C14N {
        return Err(format!(
            "Transform '{transform_uri}' is not accepted (exclusive C14N only)"
        ));
    }
    expect_children(digest_method, &[])?;
    let digest_uri = algorithm(digest_method)?;
    if digest_uri != algorithm_pair.digest_method() {
        return Err(format!(
            "DigestMethod '{digest_uri}' does not match SignatureMethod '{method}' (expected '{}')",
            algorithm_pair.digest_method()
        ));
    }
    if digest_value.children().any(|c| c.is_element()) {
        return Err("DigestValue holds an element; it holds base64 text only".into());
    }
    if let Some(signer) = signer {
        match certificate::rsa_bits(signer) {
            Some(bits) if bits < policy.min_rsa_bits => {
                return Err(format!(
                    "the signer's RSA key has {bits} bits, below the policy's {}",
                    policy.min_rsa_bits
                ))
            }
            Some(bits) if bits > 8192 => {
                return Err(format!("the signer's RSA key has {bits} bits, above 8192"))
            }
            Some(_) => {}
            None => return Err("the signer's key is not an RSA key".into()),
        }
    }
    Ok(Profile {
        canonicalization,
        algorithm: algorithm_pair,
        digest_value: text_of(digest_value),
    })
}

/// The RSA signature over `SignedInfo` as received, canonicalised per its
/// `CanonicalizationMethod`.
///
/// One thing is removed before canonicalising: whitespace-only text between `SignedInfo`'s
/// elements. Prescribers sign the compact `SignedInfo` that `$prepare` returns; HL7 v3
/// messages carry it pretty-printed, which adds indentation text nodes that were not there
/// when it was signed (checked on the corpus: over the canonical bytes as received the
/// signatures of `release_success.xml` and `ValidSignature.xml` fail; with that indentation
/// removed they verify). Nothing else is changed: every element, attribute and non-blank
/// text is the received one, never a `SignedInfo` rebuilt from a template.
pub fn verify_value(
    signature: &Signature<'_, '_>,
    profile: &Profile,
    signer: &X509Certificate<'_>,
    policy: &Policy,
) -> Result<String, String> {
    let chars = signature.signature_value.len();
    if chars > policy.max_signature_value_chars {
        return Err(format!(
            "SignatureValue is {chars} characters, more than an RSA signature of at most 8192 bits takes ({})",
            policy.max_signature_value_chars
        ));
    }
    let value =
        decode_base64(&signature.signature_value).map_err(|e| format!("SignatureValue is {e}"))?;
    let mut canonical = Vec::with_capacity(1024);
    c14n::canonicalize_node_with_layout(
        signature.signed_info,
        profile.canonicalization,
        &[],
        Layout::WithoutWhitespaceBetweenElements,
        &mut canonical,
    )
    .map_err(|e| format!("SignedInfo cannot be canonicalised: {e}"))?;
    let (algorithm, name): (&dyn sig::VerificationAlgorithm, _) = match profile.algorithm {
        DigestAlgorithm::Sha1 => (
            &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
            "rsa-sha1",
        ),
        DigestAlgorithm::Sha256 => (
            &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            "rsa-sha256",
        ),
    };
    let key = &signer.public_key().subject_public_key.data;
    let outcome = UnparsedPublicKey::new(algorithm, key).verify(&canonical, &value);
    let what = format!(
        "{name} signature ({} bytes) over the {}-byte canonical SignedInfo ({}, indentation between elements removed) with the key of '{}'",
        value.len(),
        canonical.len(),
        profile.canonicalization.cli_name(),
        certificate::subject(signer)
    );
    match outcome {
        Ok(()) => Ok(format!("{what}: verifies")),
        Err(_) => Err(format!("{what}: does not verify")),
    }
}
