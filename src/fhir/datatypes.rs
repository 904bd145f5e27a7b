//! FHIR R4 data types used by the EPS profiles, borrowing strings from the input.
//!
//! Numbers are kept as their original JSON text ([`Num`]), so `1.50` stays `1.50` and `1e1`
//! stays `1e1` through translation.

use serde::Deserialize;
use std::borrow::Cow;

/// A string borrowed from the input where it holds no escapes.
pub type Str<'a> = Cow<'a, str>;

/// A JSON number exactly as written in the input (a JSON string is accepted too, and used as
/// its text, as the reference uses it).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(transparent)]
pub struct Num<'a>(#[serde(borrow)] pub &'a serde_json::value::RawValue);

impl PartialEq for Num<'_> {
    /// Numbers are equal when written the same way, as the reference's lossless JSON compares them.
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Num<'_> {
    /// The number's text as written (a string's content, unescaped).
    pub fn text(&self) -> Cow<'_, str> {
        let raw = self.0.get();
        if raw.starts_with('"') {
            Cow::Owned(serde_json::from_str::<String>(raw).unwrap_or_default())
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// The numeric value, when the text is a number.
    pub fn as_f64(&self) -> Option<f64> {
        self.text().trim().parse().ok()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifier<'a> {
    #[serde(borrow)]
    pub system: Option<Str<'a>>,
    #[serde(borrow)]
    pub value: Option<Str<'a>>,
    #[serde(borrow, rename = "use")]
    pub use_: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference<'a> {
    #[serde(borrow)]
    pub reference: Option<Str<'a>>,
    #[serde(borrow)]
    pub identifier: Option<Identifier<'a>>,
    #[serde(borrow)]
    pub display: Option<Str<'a>>,
    #[serde(borrow, rename = "type")]
    pub type_: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coding<'a> {
    #[serde(borrow)]
    pub system: Option<Str<'a>>,
    #[serde(borrow)]
    pub code: Option<Str<'a>>,
    #[serde(borrow)]
    pub display: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept<'a> {
    #[serde(borrow, default)]
    pub coding: Vec<Coding<'a>>,
    #[serde(borrow)]
    pub text: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quantity<'a> {
    #[serde(borrow)]
    pub value: Option<Num<'a>>,
    #[serde(borrow)]
    pub unit: Option<Str<'a>>,
    #[serde(borrow)]
    pub system: Option<Str<'a>>,
    #[serde(borrow)]
    pub code: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Period<'a> {
    #[serde(borrow)]
    pub start: Option<Str<'a>>,
    #[serde(borrow)]
    pub end: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanName<'a> {
    #[serde(borrow, rename = "use")]
    pub use_: Option<Str<'a>>,
    #[serde(borrow)]
    pub text: Option<Str<'a>>,
    #[serde(borrow)]
    pub family: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub given: Vec<Str<'a>>,
    #[serde(borrow, default)]
    pub prefix: Vec<Str<'a>>,
    #[serde(borrow, default)]
    pub suffix: Vec<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address<'a> {
    #[serde(borrow, rename = "use")]
    pub use_: Option<Str<'a>>,
    #[serde(borrow, rename = "type")]
    pub type_: Option<Str<'a>>,
    #[serde(borrow)]
    pub text: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub line: Vec<Str<'a>>,
    #[serde(borrow)]
    pub city: Option<Str<'a>>,
    #[serde(borrow)]
    pub district: Option<Str<'a>>,
    #[serde(borrow)]
    pub state: Option<Str<'a>>,
    #[serde(borrow)]
    pub postal_code: Option<Str<'a>>,
    #[serde(borrow)]
    pub country: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPoint<'a> {
    #[serde(borrow)]
    pub system: Option<Str<'a>>,
    #[serde(borrow)]
    pub value: Option<Str<'a>>,
    #[serde(borrow, rename = "use")]
    pub use_: Option<Str<'a>>,
}

/// An extension with the `value[x]` types the EPS profiles use.
///
/// The compound values are boxed: an extension holds one value at most, and unboxed they
/// made every extension 768 bytes, built and moved for each of the ~100 a Bundle carries.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension<'a> {
    #[serde(borrow)]
    pub url: Str<'a>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow)]
    pub value_coding: Option<Box<Coding<'a>>>,
    #[serde(borrow)]
    pub value_codeable_concept: Option<Box<CodeableConcept<'a>>>,
    #[serde(borrow)]
    pub value_identifier: Option<Box<Identifier<'a>>>,
    #[serde(borrow)]
    pub value_reference: Option<Box<Reference<'a>>>,
    #[serde(borrow)]
    pub value_string: Option<Str<'a>>,
    #[serde(borrow)]
    pub value_integer: Option<Num<'a>>,
    #[serde(borrow)]
    pub value_unsigned_int: Option<Num<'a>>,
    #[serde(borrow)]
    pub value_positive_int: Option<Num<'a>>,
    pub value_boolean: Option<bool>,
    #[serde(borrow)]
    pub value_date_time: Option<Str<'a>>,
    #[serde(borrow)]
    pub value_date: Option<Str<'a>>,
    #[serde(borrow)]
    pub value_period: Option<Box<Period<'a>>>,
    #[serde(borrow)]
    pub value_quantity: Option<Box<Quantity<'a>>>,
}

/// Finds the first extension with `url` in a list.
pub fn find_extension<'e, 'a>(
    list: &'e [Extension<'a>],
    url: &str,
) -> Option<(usize, &'e Extension<'a>)> {
    list.iter().enumerate().find(|(_, e)| e.url == url)
}

/// Finds the first identifier with `system` in a list.
pub fn find_identifier<'e, 'a>(
    list: &'e [Identifier<'a>],
    system: &str,
) -> Option<(usize, &'e Identifier<'a>)> {
    list.iter()
        .enumerate()
        .find(|(_, i)| i.system.as_deref() == Some(system))
}
