//! The dispensing side's resources that are not Bundles: the release request `Parameters`
//! (`Task/$release`), read into the same borrowing model as a Bundle's entries.

use super::datatypes::borrowed;
use super::{deserialize_with_path, input_text, parse_resource, ResourceKind};
use super::{Identifier, Resource, Str};
use crate::error::{Issue, IssueCode, Rejection};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The top-level `resourceType` of a FHIR JSON document, when it reads as JSON and has one.
pub fn top_level_kind(input: &[u8]) -> Option<String> {
    let text = input_text(input).ok()?;
    let kind: ResourceKind = serde_json::from_str(text).ok()?;
    kind.resource_type.map(|k| k.into_owned())
}

/// A `Parameters` resource: its parameters in input order.
#[derive(Debug, Clone)]
pub struct Parameters<'a> {
    pub parameter: Vec<Parameter<'a>>,
}

/// One parameter. A parameter with a `resource` has it typed as a Bundle entry would be
/// (PractitionerRole and Organization are the types a release request carries).
#[derive(Debug, Clone)]
pub struct Parameter<'a> {
    pub name: Option<Str<'a>>,
    pub value_identifier: Option<Identifier<'a>>,
    pub resource: Option<Resource<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawParameters<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    parameter: Option<Vec<RawParameter<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawParameter<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed::option")]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    value_identifier: Option<Identifier<'a>>,
    #[serde(borrow)]
    resource: Option<&'a RawValue>,
}

impl<'a> Parameters<'a> {
    /// Parses Parameters JSON; errors name the FHIRPath of the offending element.
    pub fn parse(text: &'a str) -> Result<Parameters<'a>, Rejection> {
        let raw: RawParameters<'a> = deserialize_with_path(text, "Parameters")?;
        if raw.resource_type.as_deref() != Some("Parameters") {
            return Err(Rejection::single(Issue::error(
                IssueCode::Invalid,
                "resourceType must be 'Parameters'",
                Some("Parameters.resourceType".to_string()),
            )));
        }
        let Some(list) = raw.parameter else {
            return Err(Rejection::at(
                IssueCode::Invalid,
                "Parameters.parameter",
                "Required field missing.",
            ));
        };
        let mut parameter = Vec::with_capacity(list.len());
        for (i, p) in list.into_iter().enumerate() {
            let resource = match p.resource {
                Some(raw) => Some(parse_resource(
                    raw,
                    &format!("Parameters.parameter[{i}].resource"),
                )?),
                None => None,
            };
            parameter.push(Parameter {
                name: p.name,
                value_identifier: p.value_identifier,
                resource,
            });
        }
        Ok(Parameters { parameter })
    }
}
