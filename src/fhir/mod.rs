//! The FHIR R4 model: the profiled subset of resources EPS uses, parsed straight from JSON
//! into typed structs that borrow from the input.
//!
//! A [`Bundle`] keeps its entries in input order together with their `fullUrl`s, so
//! references resolve only to an entry's `fullUrl`, exactly as the reference resolves them (a
//! `Type/id` or identifier-only reference does not resolve).

pub mod datatypes;
pub mod dispensing;
pub mod resources;

pub use datatypes::*;
pub use dispensing::{
    top_level_kind, Claim, ClaimDetail, ClaimItem, ClaimSubDetail, MedicationDispense, Parameter,
    Parameters, Task,
};
pub use resources::*;

use crate::error::{Issue, IssueCode, Rejection};
use crate::json_skim::{word_at, zero_bytes};
use datatypes::borrowed::Borrowed;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Upper bound on a Bundle's size in bytes; larger input is refused before parsing.
pub const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;

/// A parsed FHIR Bundle.
#[derive(Debug, Clone)]
pub struct Bundle<'a> {
    pub id: Option<Str<'a>>,
    pub identifier: Option<Identifier<'a>>,
    pub type_: Option<Str<'a>>,
    pub entries: Vec<Entry<'a>>,
}

/// One Bundle entry.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub full_url: Option<Str<'a>>,
    pub resource: Resource<'a>,
}

/// The Bundle's own members; `R` is how an entry's resource is read: typed in one pass
/// ([`FirstTyped`]) or as raw text to type afterwards (the path that names errors).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "R: Deserialize<'de>"))]
struct RawBundle<'a, R> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    resource_type: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    identifier: Option<Identifier<'a>>,
    #[serde(
        borrow,
        rename = "type",
        default,
        deserialize_with = "borrowed::option"
    )]
    type_: Option<Str<'a>>,
    entry: Option<Vec<RawEntry<'a, R>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "R: Deserialize<'de>"))]
struct RawEntry<'a, R> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    full_url: Option<Str<'a>>,
    resource: Option<R>,
}

/// The one list of resource types the model reads: `$typed!(Type)` for a known type name,
/// else the given fallback arm (which binds the name).
macro_rules! by_resource_type {
    ($kind:expr, $typed:ident, { $other:ident => $fallback:expr $(,)? }) => {
        match $kind {
            "MessageHeader" => $typed!(MessageHeader),
            "MedicationRequest" => $typed!(MedicationRequest),
            "Patient" => $typed!(Patient),
            "Practitioner" => $typed!(Practitioner),
            "PractitionerRole" => $typed!(PractitionerRole),
            "Organization" => $typed!(Organization),
            "HealthcareService" => $typed!(HealthcareService),
            "Location" => $typed!(Location),
            "Medication" => $typed!(Medication),
            "Provenance" => $typed!(Provenance),
            "CommunicationRequest" => $typed!(CommunicationRequest),
            "List" => $typed!(List),
            "MedicationDispense" => $typed!(MedicationDispense),
            $other => $fallback,
        }
    };
}

/// A resource typed in the same pass that reads it, which works when `resourceType` is its
/// first member (as FHIR's JSON format recommends and every known sender writes). Anything
/// else fails here and the Bundle is read again the two-pass way, which accepts any member
/// order and names the place of a real error.
struct FirstTyped<'a>(Resource<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for FirstTyped<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FirstTypedVisitor(std::marker::PhantomData))
    }
}

struct FirstTypedVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for FirstTypedVisitor<'a> {
    type Value = FirstTyped<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a resource whose first member is resourceType")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        use serde::de::{value::MapAccessDeserializer, Error, IgnoredAny};
        if map.next_key::<Borrowed<'de>>()?.map(|k| k.0).as_deref() != Some("resourceType") {
            return Err(M::Error::custom("resourceType is not the first member"));
        }
        let Borrowed(kind) = map.next_value()?;
        let rest = MapAccessDeserializer::new(map);
        macro_rules! typed {
            ($variant:ident) => {
                Resource::$variant($variant::deserialize(rest)?.into())
            };
        }
        Ok(FirstTyped(by_resource_type!(kind.as_ref(), typed, {
            other => {
                IgnoredAny::deserialize(rest)?;
                Resource::Other(other.to_string(), None)
            }
        })))
    }
}

/// The refusal of input that is not UTF-8, saying where the first bad byte is.
pub fn not_utf8(input: &[u8], e: std::str::Utf8Error) -> Rejection {
    let offset = e.valid_up_to();
    // The bytes before the first invalid one are valid UTF-8.
    let before = std::str::from_utf8(&input[..offset]).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Rejection::single(Issue::error(
        IssueCode::Structure,
        format!("input is not valid UTF-8: invalid byte at line {line}, column {col} (byte offset {offset})"),
        Some(format!("{line}:{col}")),
    ))
}

/// Checks that the input is UTF-8 and within the size bound.
pub fn input_text(bytes: &[u8]) -> Result<&str, Rejection> {
    check_size(bytes)?;
    std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e))
}

/// Refuses input over [`MAX_BUNDLE_BYTES`].
fn check_size(bytes: &[u8]) -> Result<(), Rejection> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(Rejection::single(Issue::error(
            IssueCode::TooCostly,
            format!(
                "bundle is {} bytes, more than the {} byte limit",
                bytes.len(),
                MAX_BUNDLE_BYTES
            ),
            None,
        )));
    }
    Ok(())
}

fn json_error(prefix: &str, err: serde_path_to_error::Error<serde_json::Error>) -> Rejection {
    let path = fhir_path(prefix, &err.path().to_string());
    let inner = err.inner();
    let message = inner.to_string();
    // serde_json appends " at line L column C"; keep it, it says where.
    let code = if inner.is_syntax() || inner.is_eof() {
        IssueCode::Structure
    } else {
        IssueCode::Value
    };
    Rejection::single(Issue::error(
        code,
        format!("invalid JSON: {message}"),
        Some(path),
    ))
}

/// Only a resource's type, every other member skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceKind<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    resource_type: Option<Str<'a>>,
}

/// The refusal of a resource that is not a Bundle. The dispensing messages (a release request
/// `Parameters`, a return or withdrawal `Task`, a `Claim`) are named as such: they are EPS
/// messages, only not ones this translator takes.
fn not_a_bundle(found: Option<&str>) -> Issue {
    let expression = Some("Bundle.resourceType".to_string());
    match found {
        Some(kind @ ("Parameters" | "Task" | "Claim")) => Issue::error(
            IssueCode::NotSupported,
            format!(
                "resourceType '{kind}' is an EPS dispensing message, which this operation does \
                 not take: expected a Bundle"
            ),
            expression,
        ),
        Some(kind) => Issue::error(
            IssueCode::Invalid,
            format!("resourceType must be 'Bundle', found '{kind}'"),
            expression,
        ),
        None => Issue::error(
            IssueCode::Invalid,
            "resourceType must be 'Bundle', found none",
            expression,
        ),
    }
}

/// Whether a refusal of [`Bundle::read`] is for its `resourceType`: a JSON object of another
/// resource type, or of none.
pub fn refused_as_not_a_bundle(refusal: &Rejection) -> bool {
    refusal.issues.first().and_then(|i| i.expression.as_deref()) == Some("Bundle.resourceType")
}

/// Deserializes `text`; on failure, deserializes again tracking the path, so the error
/// names where it is (the fast path pays nothing for the path tracking).
fn deserialize_with_path<'a, T: Deserialize<'a>>(
    text: &'a str,
    prefix: &str,
) -> Result<T, Rejection> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(_) => {
            let mut de = serde_json::Deserializer::from_str(text);
            let err = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) => json_error(prefix, e),
                Ok(_) => match de.end() {
                    Err(e) => Rejection::single(Issue::error(
                        IssueCode::Structure,
                        format!("invalid JSON: {e}"),
                        Some(prefix.to_string()),
                    )),
                    Ok(()) => Rejection::single(Issue::error(
                        IssueCode::Structure,
                        "invalid JSON",
                        Some(prefix.to_string()),
                    )),
                },
            };
            Err(err)
        }
    }
}

/// Turns serde's `a.b[0].c` path into a FHIRPath below `prefix`.
fn fhir_path(prefix: &str, serde_path: &str) -> String {
    if serde_path == "." || serde_path.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}.{serde_path}")
    }
}

/// A resource kept by its type name and `id` only, its other members not read.
fn other_resource<'a>(kind: &str, text: &str) -> Resource<'a> {
    let id = crate::json_skim::Skim::new(text).member_string("id");
    Resource::Other(kind.to_string(), id.map(|id| id.into_owned()))
}

/// The `resourceType` of a resource's JSON text, read without parsing the resource; none when
/// the text is not an object or has no `resourceType` string.
fn skimmed_type(text: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !text.starts_with('{') {
        return None;
    }
    crate::json_skim::Skim::new(text).member_string("resourceType")
}

/// A resource typed by its `resourceType`; one without is refused, or with `untyped` kept as
/// a resource of no type (where the reference refuses the reference to it instead).
fn parse_resource<'a>(
    raw: &'a RawValue,
    path: &str,
    untyped: bool,
) -> Result<Resource<'a>, Rejection> {
    let text = raw.get();
    if !text.starts_with('{') {
        return Err(Rejection::single(Issue::error(
            IssueCode::Structure,
            "resource is not a JSON object",
            Some(path.to_string()),
        )));
    }
    // The type, read without parsing the whole resource twice.
    let Some(kind) = skimmed_type(text) else {
        if untyped {
            return Ok(other_resource("", text));
        }
        return Err(Rejection::single(Issue::error(
            IssueCode::Required,
            "resource has no resourceType".to_string(),
            Some(format!("{path}.resourceType")),
        )));
    };
    macro_rules! typed {
        ($variant:ident) => {{
            let value: $variant<'a> = deserialize_with_path(text, path)?;
            Resource::$variant(value.into())
        }};
    }
    Ok(by_resource_type!(kind.as_ref(), typed, {
        other => other_resource(other, text),
    }))
}

impl<'a> Bundle<'a> {
    /// Parses Bundle JSON. Errors name the FHIRPath of the offending element.
    ///
    /// One pass when every resource starts with its `resourceType`; otherwise (or on any
    /// error) a second, two-pass read gives the result or the error with its place.
    pub fn parse(text: &'a str) -> Result<Bundle<'a>, Rejection> {
        if let Some(bundle) = Self::parse_one_pass(text) {
            return Ok(bundle);
        }
        Self::parse_two_pass(text)
    }

    /// Reads Bundle bytes: the size bound, UTF-8, then the parse of [`Bundle::parse`] over a
    /// copy of the text in `buffer` without the indentation that follows each line break
    /// (see [`without_indentation`]): serde_json crosses whitespace a byte at a time, and
    /// more than half of a pretty-printed Bundle is indentation. Returns the Bundle and the
    /// text it borrows from.
    ///
    /// UTF-8 is checked once, on the copy: the bytes dropped are ASCII and each follows a
    /// line feed, so the copy is valid UTF-8 exactly when the input is. On any failure the
    /// input as given is read again, so errors name the offset, line and column as written.
    pub fn read(
        input: &'a [u8],
        buffer: &'a mut String,
    ) -> Result<(Bundle<'a>, &'a str), Rejection> {
        check_size(input)?;
        if let Some(compact) = unindented_text(input, buffer) {
            if let Some(bundle) = Self::parse_one_pass(compact) {
                return Ok((bundle, compact));
            }
        }
        let text = std::str::from_utf8(input).map_err(|e| not_utf8(input, e))?;
        Self::parse_two_pass(text).map(|bundle| (bundle, text))
    }

    /// The one-pass read; `None` sends the Bundle to the two-pass read (for its result or
    /// for an error that names the place).
    fn parse_one_pass(text: &'a str) -> Option<Bundle<'a>> {
        let raw = serde_json::from_str::<RawBundle<FirstTyped>>(text).ok()?;
        if raw.resource_type.as_deref() != Some("Bundle") {
            return None;
        }
        let entries = raw
            .entry?
            .into_iter()
            .map(|e| {
                Some(Entry {
                    full_url: e.full_url,
                    resource: e.resource?.0,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Bundle {
            id: raw.id,
            identifier: raw.identifier,
            type_: raw.type_,
            entries,
        })
    }

    /// Reads each entry's resource as raw text, then types it by its `resourceType`.
    fn parse_two_pass(text: &'a str) -> Result<Bundle<'a>, Rejection> {
        // The resource type first, before any other member is read into the Bundle model:
        // another resource's members (a Task's `identifier` array, say) would otherwise be
        // reported as a malformed Bundle.
        // (JSON that does not read leaves the error to the Bundle read below, which names
        // the place.)
        if let Ok(kind) = serde_json::from_str::<ResourceKind>(text) {
            if kind.resource_type.as_deref() != Some("Bundle") {
                return Err(Rejection::single(not_a_bundle(
                    kind.resource_type.as_deref(),
                )));
            }
        }
        let raw: RawBundle<&RawValue> = deserialize_with_path(text, "Bundle")?;
        if raw.resource_type.as_deref() != Some("Bundle") {
            return Err(Rejection::single(not_a_bundle(
                raw.resource_type.as_deref(),
            )));
        }
        let Some(raw_entries) = raw.entry else {
            return Err(Rejection::single(Issue::error(
                IssueCode::Required,
                "ResourceType Bundle must contain 'entry' field".to_string(),
                Some("Bundle.entry".into()),
            )));
        };
        let mut entries = Vec::with_capacity(raw_entries.len());
        for (i, e) in raw_entries.into_iter().enumerate() {
            let path = format!("Bundle.entry[{i}].resource");
            let Some(raw) = e.resource else {
                return Err(Rejection::single(Issue::error(
                    IssueCode::Required,
                    "bundle entry has no resource".to_string(),
                    Some(path),
                )));
            };
            entries.push(Entry {
                full_url: e.full_url,
                resource: parse_resource(raw, &path, false)?,
            });
        }
        Ok(Bundle {
            id: raw.id,
            identifier: raw.identifier,
            type_: raw.type_,
            entries,
        })
    }

    /// Resolves a literal reference: the entry whose `fullUrl` is exactly `reference`. Only
    /// `fullUrl`s count, as in the reference implementation, whose refusal of a `Type/id`
    /// or an identifier-only reference this keeps: a reference that resolves here resolves
    /// there.
    pub fn resolve_literal(&self, reference: &str) -> Option<(usize, &Resource<'a>)> {
        self.entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.full_url.as_deref() == Some(reference))
            .map(|(i, e)| (i, &e.resource))
    }

    /// Resolves a reference by its `reference` (see [`Bundle::resolve_literal`]); a reference
    /// given only by `identifier` does not resolve to an entry.
    pub fn resolve(&self, reference: &Reference<'_>) -> Option<(usize, &Resource<'a>)> {
        self.resolve_literal(reference.reference.as_deref()?)
    }
}

/// `text` without the spaces, tabs and carriage returns that follow each line feed; line feeds
/// are kept, so line numbers still hold. Copied into `buffer` only when there is something to
/// drop. (Written by hand: a JSON minifier would cross every string; this only looks for
/// line feeds.)
///
/// The result means the same JSON, and is invalid exactly when `text` is: a line feed in
/// valid JSON is whitespace between tokens (a string cannot hold a raw one), so what follows
/// it is whitespace too; in a string that holds a raw line feed, which JSON refuses, the line
/// feed itself stays and is refused as it would be in `text`. The bytes dropped are ASCII,
/// so every cut is on a character boundary.
pub fn without_indentation<'t>(text: &'t str, buffer: &'t mut String) -> &'t str {
    // Always UTF-8 (only whole ASCII characters were dropped); were it not, the text as
    // given still reads the same, only slower.
    unindented_text(text.as_bytes(), buffer).unwrap_or(text)
}

/// `input` without indentation (as [`without_indentation`]) as text, or `None` when it is
/// not UTF-8: checked on the copy when there is one, on `input` itself otherwise.
fn unindented_text<'t>(input: &'t [u8], buffer: &'t mut String) -> Option<&'t str> {
    let mut out = std::mem::take(buffer).into_bytes();
    if !drop_indentation(input, &mut out) {
        return std::str::from_utf8(input).ok();
    }
    *buffer = String::from_utf8(out).ok()?;
    Some(buffer)
}

/// Copies `bytes` into `out` without the indentation after each line feed; `false` (and
/// `out` untouched) when there is none to drop.
///
/// The copy goes a word at a time: each eight-byte word is appended whole, then cut back to
/// just past its first line feed when it has one, and reading resumes after the indentation
/// that follows. (Copying line by line cost a `memcpy` call per line of ~40 bytes.)
fn drop_indentation(bytes: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(first_cut) = first_indented_line(bytes) else {
        return false;
    };
    out.clear();
    out.reserve(bytes.len());
    out.extend_from_slice(&bytes[..first_cut]);
    let mut i = indentation_end(bytes, first_cut);
    while let Some(word) = word_at(bytes, i) {
        out.extend_from_slice(&word.to_le_bytes());
        let hits = zero_bytes(word ^ LINE_FEEDS);
        if hits == 0 {
            i += 8;
            continue;
        }
        let kept = hits.trailing_zeros() as usize / 8 + 1;
        out.truncate(out.len() - 8 + kept);
        i = indentation_end(bytes, i + kept);
    }
    while let Some(&byte) = bytes.get(i) {
        out.push(byte);
        i = if byte == b'\n' {
            indentation_end(bytes, i + 1)
        } else {
            i + 1
        };
    }
    true
}

const LINE_FEEDS: u64 = u64::from_ne_bytes([b'\n'; 8]);

/// Where the first line that starts with indentation starts, if one does.
fn first_indented_line(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(line_feed) = next_line_feed(bytes, i) {
        i = line_feed + 1;
        if indentation_end(bytes, i) > i {
            return Some(i);
        }
    }
    None
}

/// The position of the first line feed at or after `i`.
fn next_line_feed(bytes: &[u8], mut i: usize) -> Option<usize> {
    while let Some(word) = word_at(bytes, i) {
        let hits = zero_bytes(word ^ LINE_FEEDS);
        if hits != 0 {
            return Some(i + hits.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    memchr::memchr(b'\n', &bytes[i..]).map(|k| i + k)
}

/// The end of the spaces, tabs and carriage returns starting at `i`: spaces a word at a
/// time, the last partial word by its count of leading spaces. (The loop is written out
/// rather than calling `json_skim::spaces_end`: that call measured ~10% slower here.)
fn indentation_end(bytes: &[u8], mut i: usize) -> usize {
    const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
    while let Some(word) = word_at(bytes, i) {
        let differs = word ^ SPACES;
        if differs != 0 {
            i += differs.trailing_zeros() as usize / 8;
            break;
        }
        i += 8;
    }
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\r') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::Bundle;

    /// UTF-8 is checked on the copy without indentation; the error still names the offset in
    /// the input as given, and dropping indentation never changes whether bytes are UTF-8.
    #[test]
    fn read_checks_utf8_once_and_names_the_offset_as_written() {
        let bad = b"{\n    \"resourceType\": \"Bundle\",\n    \"id\": \"a\xff\"\n}";
        let offset = bad.iter().position(|&b| b == 0xff).unwrap();
        let mut buffer = String::new();
        let refused = Bundle::read(bad, &mut buffer).unwrap_err();
        let message = &refused.issues[0].diagnostics;
        assert!(
            message.contains(&format!("(byte offset {offset})")),
            "{message}"
        );
        // A lead byte before a line feed, a continuation byte after indentation, and valid
        // multi-byte characters on both sides of a cut.
        let cases: [&[u8]; 4] = [
            b"\"\xc3\n   \xa9\"",
            b"\"a\n \t\r\xa9\"",
            "\"\u{e9}\n  \u{1F600}\"".as_bytes(),
            b"\xe2\x82\n  \xac",
        ];
        for bytes in cases {
            let mut out = Vec::new();
            assert!(super::drop_indentation(bytes, &mut out));
            assert_eq!(
                std::str::from_utf8(bytes).is_ok(),
                std::str::from_utf8(&out).is_ok(),
                "{bytes:?}"
            );
        }
    }

    /// Dropping indentation keeps line feeds and string contents, and leaves a raw line feed
    /// inside a string (invalid JSON) in place to be refused.
    #[test]
    fn without_indentation_keeps_meaning_and_invalidity() {
        let mut buffer = String::new();
        let text = "{\n    \"a\": \"x  y\",\r\n\t \"b\": [1,\n          2]\n}";
        let compact = super::without_indentation(text, &mut buffer);
        assert_eq!(compact, "{\n\"a\": \"x  y\",\r\n\"b\": [1,\n2]\n}");
        let parsed: serde_json::Value = serde_json::from_str(compact).unwrap();
        assert_eq!(
            parsed,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
        let mut buffer = String::new();
        let bad = "{\"a\": \"x\n   y\"}";
        let compact = super::without_indentation(bad, &mut buffer);
        assert_eq!(compact, "{\"a\": \"x\ny\"}");
        assert!(serde_json::from_str::<serde_json::Value>(compact).is_err());
        let mut buffer = String::new();
        let flat = r#"{"a":1}"#;
        assert!(std::ptr::eq(
            super::without_indentation(flat, &mut buffer),
            flat
        ));
        assert!(buffer.is_empty());
    }

    /// The word-at-a-time copy drops exactly what a byte-by-byte reading of the rule drops,
    /// whatever the line lengths, indentation widths, multi-byte characters and tail lengths.
    #[test]
    fn without_indentation_matches_the_byte_rule() {
        fn by_bytes(text: &str) -> String {
            let mut out = String::new();
            let mut after_line_feed = false;
            for c in text.chars() {
                if after_line_feed && matches!(c, ' ' | '\t' | '\r') {
                    continue;
                }
                after_line_feed = c == '\n';
                out.push(c);
            }
            out
        }
        let pieces = [
            "\n",
            "\r\n",
            " ",
            "  ",
            "\t",
            "        ",
            "a",
            "\"é\"",
            "£",
            "𝄞",
            "{",
            "\"k\":",
            "1.50",
            "\n \r\t ",
            "abcdefgh",
            "\n                  ",
        ];
        // A small linear congruential generator: deterministic, no dependency.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut checked = 0;
        for _ in 0..3000 {
            let mut text = String::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let count = (seed >> 59) as usize + 1;
            for _ in 0..count {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let mut buffer = String::new();
            assert_eq!(
                super::without_indentation(&text, &mut buffer),
                by_bytes(&text),
                "{text:?}"
            );
            checked += 1;
        }
        assert_eq!(checked, 3000);
    }

    /// The one-pass read and the two-pass read agree on every golden Bundle, and a resource
    /// whose `resourceType` is not its first member still parses (through the second path).
    #[test]
    fn one_pass_and_two_pass_reads_agree() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/convert");
        let mut compared = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let name = path.to_string_lossy();
            if name.ends_with(".json") && !name.ends_with(".err.json") {
                let one = Bundle::parse(&text).map(|b| format!("{b:?}"));
                let two = Bundle::parse_two_pass(&text).map(|b| format!("{b:?}"));
                assert_eq!(one, two, "{}", path.display());
                compared += 1;
            }
        }
        assert!(compared >= 20, "compared {compared}");

        let first = r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"p"}}]}"#;
        let last = r#"{"resourceType":"Bundle","entry":[{"resource":{"id":"p","resourceType":"Patient"}}]}"#;
        assert_eq!(
            format!("{:?}", Bundle::parse(first).unwrap()),
            format!("{:?}", Bundle::parse(last).unwrap())
        );
    }
}
