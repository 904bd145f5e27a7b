//! Reading a parsed XML subtree into the [`Element`] model: the way back from XML text to
//! the tree the writers render (for an XML-DSig `Signature` carried in a Bundle, and for
//! comparing HL7 v3 messages element by element).
//!
//! Whitespace-only text between elements is dropped (the model has no mixed content);
//! names keep their prefixes; namespace declarations made on an element become its `xmlns`
//! / `xmlns:p` attributes, as the reference re-serialises them.

use super::element::{Content, Element};

/// The [`Element`] for a parsed element and its subtree.
pub fn read_element(node: roxmltree::Node<'_, '_>) -> Element {
    let mut el = Element::new(qualified_name(node));
    for ns in node.namespaces() {
        // Only the declarations written on this element, not inherited ones.
        let declared_here = node
            .parent_element()
            .is_none_or(|p| !p.namespaces().any(|pn| pn == ns));
        if declared_here {
            match ns.name() {
                Some(prefix) => el.set_attr(format!("xmlns:{prefix}"), ns.uri().to_string()),
                None => el.set_attr("xmlns", ns.uri().to_string()),
            }
        }
    }
    for a in node.attributes() {
        let name = match a.namespace().and_then(|uri| node.lookup_prefix(uri)) {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}:{}", a.name()),
            _ => a.name().to_string(),
        };
        el.set_attr(name, a.value().to_string());
    }
    let mut text = String::new();
    let mut children = Vec::new();
    for child in node.children() {
        if child.is_element() {
            children.push(read_element(child));
        } else if child.is_text() {
            text.push_str(child.text().unwrap_or(""));
        }
    }
    el.content = if !children.is_empty() {
        Content::Children(children)
    } else if text.trim().is_empty() {
        Content::Empty
    } else {
        Content::Text(text)
    };
    el
}

fn qualified_name(node: roxmltree::Node<'_, '_>) -> String {
    let tag = node.tag_name();
    match tag.namespace().and_then(|uri| node.lookup_prefix(uri)) {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}:{}", tag.name()),
        _ => tag.name().to_string(),
    }
}
