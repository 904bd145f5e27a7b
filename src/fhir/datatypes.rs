//! FHIR R4 data types used by the EPS profiles, borrowing strings from the input.
//!
//! Numbers are kept as their original JSON text ([`Num`]), so `1.50` stays `1.50` and `1e1`
//! stays `1e1` through translation.

use serde::Deserialize;
use std::borrow::Cow;

/// A string borrowed from the input where it holds no escapes.
///
/// serde borrows a `Cow<str>` only for a field whose type is `Cow` itself; inside an
/// `Option` or a `Vec` it always copies into a new `String`. Such fields therefore read
/// through [`borrowed`].
pub type Str<'a> = Cow<'a, str>;

/// A JSON array member that remembers whether the input had it: where the reference reads a
/// list to pick one item, it refuses an absent list as "Required field missing." and an empty
/// one as "Too few values submitted.". Read as the items (none when absent) through `Deref`;
/// [`Array::present`] tells the two apart. Declared `#[serde(borrow, default)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Array<T> {
    items: Vec<T>,
    present: bool,
}

impl<T> Array<T> {
    /// The items, or `None` when the member is absent.
    pub fn present(&self) -> Option<&[T]> {
        self.present.then_some(self.items.as_slice())
    }
}

/// An absent member.
impl<T> Default for Array<T> {
    fn default() -> Self {
        Array {
            items: Vec::new(),
            present: false,
        }
    }
}

/// A member present with these items.
impl<T> From<Vec<T>> for Array<T> {
    fn from(items: Vec<T>) -> Self {
        Array {
            items,
            present: true,
        }
    }
}

impl<T> std::ops::Deref for Array<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.items
    }
}

impl<'l, T> IntoIterator for &'l Array<T> {
    type Item = &'l T;
    type IntoIter = std::slice::Iter<'l, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Array<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::deserialize(deserializer).map(Array::from)
    }
}

/// Deserializers for `Option<Str>` and `Vec<Str>` fields that borrow from the input (with
/// `#[serde(borrow, default, deserialize_with = "borrowed::option")]`); a string that holds
/// escapes is unescaped into an owned copy.
pub mod borrowed {
    use super::Str;
    use serde::{Deserialize, Deserializer};
    use std::borrow::Cow;

    /// One string, borrowed where it can be. (serde recognises the type by its written name:
    /// it must say `Cow`, not the `Str` alias.)
    #[derive(Deserialize)]
    #[serde(transparent)]
    pub struct Borrowed<'a>(#[serde(borrow)] pub Cow<'a, str>);

    pub fn option<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Str<'a>>, D::Error> {
        Ok(Option::<Borrowed<'a>>::deserialize(d)?.map(|b| b.0))
    }

    pub fn vec<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Vec<Str<'a>>, D::Error> {
        let strings = Vec::<Borrowed<'a>>::deserialize(d)?;
        Ok(strings.into_iter().map(|b| b.0).collect())
    }
}

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
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub system: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub value: Option<Str<'a>>,
    #[serde(borrow, rename = "use", default, deserialize_with = "borrowed::option")]
    pub use_: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub reference: Option<Str<'a>>,
    #[serde(borrow)]
    pub identifier: Option<Identifier<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub display: Option<Str<'a>>,
    #[serde(
        borrow,
        rename = "type",
        default,
        deserialize_with = "borrowed::option"
    )]
    pub type_: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coding<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub system: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub code: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub display: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept<'a> {
    #[serde(borrow, default)]
    pub coding: Vec<Coding<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub text: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quantity<'a> {
    #[serde(borrow)]
    pub value: Option<Num<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub unit: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub system: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub code: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Period<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub start: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub end: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanName<'a> {
    #[serde(borrow, rename = "use", default, deserialize_with = "borrowed::option")]
    pub use_: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub text: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub family: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::vec")]
    pub given: Vec<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::vec")]
    pub prefix: Vec<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::vec")]
    pub suffix: Vec<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address<'a> {
    #[serde(borrow, rename = "use", default, deserialize_with = "borrowed::option")]
    pub use_: Option<Str<'a>>,
    #[serde(
        borrow,
        rename = "type",
        default,
        deserialize_with = "borrowed::option"
    )]
    pub type_: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub text: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::vec")]
    pub line: Vec<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub city: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub district: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub state: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub postal_code: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub country: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPoint<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub system: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub value: Option<Str<'a>>,
    #[serde(borrow, rename = "use", default, deserialize_with = "borrowed::option")]
    pub use_: Option<Str<'a>>,
}

/// An extension with the `value[x]` types the EPS profiles use.
///
/// The compound values are boxed: an extension holds one value at most, and unboxed they
/// made every extension 768 bytes, built and moved for each of the ~100 a Bundle carries.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension<'a> {
    /// Written `Cow`, not `Str`: serde borrows only a field whose type it sees as `Cow`.
    /// Empty when absent: an extension without a url is one no url lookup finds.
    #[serde(borrow, default)]
    pub url: Cow<'a, str>,
    #[serde(borrow, default)]
    pub extension: Array<Extension<'a>>,
    #[serde(borrow)]
    pub value_coding: Option<Box<Coding<'a>>>,
    #[serde(borrow)]
    pub value_codeable_concept: Option<Box<CodeableConcept<'a>>>,
    #[serde(borrow)]
    pub value_identifier: Option<Box<Identifier<'a>>>,
    #[serde(borrow)]
    pub value_reference: Option<Box<Reference<'a>>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub value_string: Option<Str<'a>>,
    #[serde(borrow)]
    pub value_integer: Option<Num<'a>>,
    #[serde(borrow)]
    pub value_unsigned_int: Option<Num<'a>>,
    #[serde(borrow)]
    pub value_positive_int: Option<Num<'a>>,
    pub value_boolean: Option<bool>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    pub value_date_time: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// Every `Option<Str>` and `Vec<Str>` field of a deserialized struct reads through
    /// [`borrowed`]: with `#[serde(borrow)]` alone it would compile, work, and copy.
    #[test]
    fn every_string_field_reads_through_the_borrowing_deserializer() {
        let sources = [
            include_str!("datatypes.rs"),
            include_str!("resources.rs"),
            include_str!("mod.rs"),
        ];
        let mut checked = 0;
        for source in sources {
            // Inside the braces of a struct that derives Deserialize; the field attributes so far.
            let (mut derives, mut inside, mut attributes) = (false, false, String::new());
            for line in source.lines() {
                let code = line.trim();
                if code.starts_with("#[derive(") {
                    derives = code.contains("Deserialize");
                } else if code.contains("struct ") && code.ends_with('{') {
                    inside = derives;
                } else if line == "}" {
                    (derives, inside) = (false, false);
                } else if inside
                    && code.ends_with(',')
                    && code.contains(": ")
                    && !code.starts_with('#')
                {
                    if code.contains("Option<Str<'a>>") || code.contains("Vec<Str<'a>>") {
                        checked += 1;
                        assert!(attributes.contains("borrowed::"), "{code}: {attributes}");
                    }
                    attributes.clear();
                } else if inside {
                    attributes.push_str(code);
                }
            }
        }
        assert!(checked > 60, "only {checked} fields found");
    }

    #[test]
    fn strings_borrow_from_the_input_unless_escaped() {
        let text = r#"{"family":"Smith","given":["Ann","J\u00e9"],"text":"a\"b"}"#;
        let name: HumanName = serde_json::from_str(text).unwrap();
        assert!(matches!(name.family, Some(Cow::Borrowed("Smith"))));
        assert!(matches!(name.given[0], Cow::Borrowed("Ann")));
        assert!(matches!(&name.given[1], Cow::Owned(s) if s == "Jé"));
        assert!(matches!(&name.text, Some(Cow::Owned(s)) if s == "a\"b"));
        assert_eq!(name.prefix, Vec::<Str>::new());
        let missing: HumanName = serde_json::from_str(r#"{"use":null}"#).unwrap();
        assert_eq!(missing.use_, None);
        assert_eq!(missing.family, None);
        let extension: Extension = serde_json::from_str(r#"{"url":"https://x"}"#).unwrap();
        assert!(matches!(extension.url, Cow::Borrowed("https://x")));
        let wrong = serde_json::from_str::<HumanName>(r#"{"family":1}"#).unwrap_err();
        assert!(wrong.to_string().contains("expected a string"), "{wrong}");
    }
}
