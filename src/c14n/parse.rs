//! Parsing with the canonicaliser's input bounds.

use roxmltree::{Document, ParsingOptions};

use super::dtd::Prolog;
use super::error::C14nError;
use super::prescan::check_body;
use super::{MAX_INPUT_BYTES, MAX_NODES};

/// Parses `text` for canonicalisation, within the module's bounds.
///
/// * inputs over [`MAX_INPUT_BYTES`] are refused before anything is read;
/// * the internal DTD subset is allowed, so internal entities are expanded (by roxmltree),
///   but only after a pre-scan has checked that all references together expand to at most
///   [`MAX_ENTITY_EXPANSION`](super::MAX_ENTITY_EXPANSION) bytes, nest at most 10 deep,
///   and refer to no external or unparsed entity (those are refused, never fetched);
/// * elements nested at most [`MAX_DEPTH`](super::MAX_DEPTH) deep, checked by a pre-scan *before* roxmltree
///   parses (its recursive descent would otherwise overflow the stack on deep input);
/// * at most [`MAX_NODES`] nodes;
/// * no lone carriage return right after a reference, which roxmltree would keep; apply
///   [`normalize_line_ends`](super::normalize_line_ends) first, as
///   [`canonicalize`](super::canonicalize) does.
///
/// DTD default attributes are not part of the returned tree (roxmltree does not apply
/// them); the canonicaliser adds them when it writes each element.
///
/// # Errors
///
/// [`C14nError::Parse`] for malformed XML (with its position), and the error naming the
/// bound exceeded or the unsupported construct otherwise.
pub fn parse_document(text: &str) -> Result<Document<'_>, C14nError> {
    parse_bounded(text, true)
}

/// [`parse_document`]'s bounds, with any document type declaration refused (at its
/// position) rather than read: for message formats such as HL7 v3 that never carry one.
///
/// # Errors
///
/// As [`parse_document`]; a DTD is a [`C14nError::Parse`] error.
pub fn parse_document_without_dtd(text: &str) -> Result<Document<'_>, C14nError> {
    parse_bounded(text, false)
}

fn parse_bounded(text: &str, allow_dtd: bool) -> Result<Document<'_>, C14nError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(C14nError::InputTooLarge {
            size: text.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    let prolog = Prolog::scan(text)?;
    check_body(text, &prolog)?;
    let options = ParsingOptions {
        allow_dtd,
        nodes_limit: MAX_NODES,
        // External entities are never fetched: without a resolver they are discarded, and a
        // reference to one is an error.
        entity_resolver: None,
    };
    Ok(Document::parse_with_options(text, options)?)
}
