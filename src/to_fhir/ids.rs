//! Deterministic resource ids: name-based UUIDs (RFC 4122 version 5, SHA-1) of a scope
//! (the prescription, or the release response and the prescription's place in it) and the
//! resource's role in the Bundle. The same input always gives the same ids, and so the same
//! bytes; nothing reads a clock or a random source.
//!
//! Written by hand rather than with the `uuid` crate: it is ten lines over the `sha1` crate
//! the project already depends on.

use sha1::{Digest, Sha1};

/// The RFC 4122 URL namespace (`6ba7b811-9dad-11d1-80b4-00c04fd430c8`).
const URL_NAMESPACE: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// The version 5 UUID of `name` in `namespace`, lower-case hyphenated.
pub fn uuid_v5(namespace: &[u8; 16], name: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(namespace);
    hasher.update(name.as_bytes());
    let hash = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x50; // version 5
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// The version 5 UUID of `name` in the RFC 4122 URL namespace.
pub fn uuid_v5_url(name: &str) -> String {
    uuid_v5(&URL_NAMESPACE, name)
}

/// Gives the resources of one translated message their ids.
#[derive(Debug, Clone)]
pub struct Ids {
    scope: String,
}

impl Ids {
    /// Ids scoped to `scope` (e.g. the prescription id).
    pub fn new(scope: impl Into<String>) -> Ids {
        Ids {
            scope: scope.into(),
        }
    }

    /// A narrower scope (e.g. one prescription of a release response).
    pub fn nested(&self, part: &str) -> Ids {
        Ids::new(format!("{}/{part}", self.scope))
    }

    /// The id of the resource with `role` (e.g. `patient`, `medication-request/2`).
    pub fn id(&self, role: &str) -> String {
        uuid_v5(
            &URL_NAMESPACE,
            &format!("urn:eps-translator:to-fhir:{}#{role}", self.scope),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_rfc_4122_example_of_a_v5_uuid() {
        // Python: uuid.uuid5(uuid.NAMESPACE_URL, "http://python.org/")
        assert_eq!(
            uuid_v5(&URL_NAMESPACE, "http://python.org/"),
            "4c565f0d-3f5a-5890-b41b-20cf47701c5e"
        );
    }

    #[test]
    fn ids_depend_on_scope_and_role_only() {
        let a = Ids::new("p1");
        assert_eq!(a.id("patient"), Ids::new("p1").id("patient"));
        assert_ne!(a.id("patient"), a.id("provenance"));
        assert_ne!(a.id("patient"), Ids::new("p2").id("patient"));
    }
}
