//! Parsing with the canonicaliser's input bounds.

use roxmltree::{Document, Node, ParsingOptions};

use super::dtd::{check_entity_references, Prolog};
use super::error::{C14nError, Pos};
use super::{MAX_DEPTH, MAX_INPUT_BYTES, MAX_NODES};

/// Parses `text` for canonicalisation, within the module's bounds.
///
/// * inputs over [`MAX_INPUT_BYTES`] are refused before anything is read;
/// * the internal DTD subset is allowed, so internal entities are expanded (by roxmltree),
///   but only after a pre-scan has checked that all references together expand to at most
///   [`MAX_ENTITY_EXPANSION`](super::MAX_ENTITY_EXPANSION) bytes, nest at most 10 deep,
///   and refer to no external or unparsed entity (those are refused, never fetched);
/// * at most [`MAX_NODES`] nodes, and elements nested at most [`MAX_DEPTH`] deep.
///
/// DTD default attributes are not part of the returned tree (roxmltree does not apply
/// them); the canonicaliser adds them when it writes each element.
pub fn parse_document(text: &str) -> Result<Document<'_>, C14nError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(C14nError::InputTooLarge {
            size: text.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    let prolog = Prolog::scan(text)?;
    check_entity_references(text, &prolog)?;
    let options = ParsingOptions {
        allow_dtd: true,
        nodes_limit: MAX_NODES,
    };
    let doc = Document::parse_with_options(text, options)?;
    check_depth(doc.root())?;
    Ok(doc)
}

/// Refuses trees whose elements nest deeper than [`MAX_DEPTH`]; iterative, so any depth
/// is safe to check.
fn check_depth(root: Node) -> Result<(), C14nError> {
    let mut depth = 0usize;
    let mut node = root;
    loop {
        if let Some(child) = node.first_child() {
            node = child;
            depth += 1;
        } else {
            loop {
                if let Some(next) = node.next_sibling() {
                    node = next;
                    break;
                }
                match node.parent() {
                    Some(parent) if depth > 1 => {
                        node = parent;
                        depth -= 1;
                    }
                    _ => return Ok(()),
                }
            }
        }
        if depth > MAX_DEPTH && node.is_element() {
            return Err(C14nError::TooDeep {
                limit: MAX_DEPTH,
                pos: Pos::at(node.document().input_text(), node.range().start),
            });
        }
    }
}
