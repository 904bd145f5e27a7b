//! The signature fragments of a ParentPrescription: what a prescriber actually signs.
//!
//! `FragmentsToBeHashed` holds, each in a `Fragment` and each fragment root declaring
//! `xmlns="urn:hl7-org:v3"`: the author's `time` and the prescription `id`, the author
//! `AgentPerson`, the `recordTarget`, and every `pertinentLineItem` without its
//! `repeatNumber/low` and without its status (which prescriptions as signed do not carry;
//! Spine's release form adds it as `pertinentInformation4/pertinentItemStatus`, so a
//! released prescription gives back the fragments its prescriber signed).

use crate::hl7v3::canonical::{write_canonical_part, Keep};
use crate::hl7v3::{Content, Element};

const HL7_NS: &str = "urn:hl7-org:v3";

/// Why fragments could not be taken from a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPart(pub &'static str);

impl std::fmt::Display for MissingPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the ParentPrescription has no {}", self.0)
    }
}

fn find<'e>(el: &'e Element, name: &'static str) -> Result<&'e Element, MissingPart> {
    el.find(name).ok_or(MissingPart(name))
}

fn with_namespace(el: &Element) -> Element {
    let mut copy = el.clone();
    copy.set_attr("xmlns", HL7_NS);
    copy
}

/// Finds the ParentPrescription in a send message (or takes the element itself if it is one).
pub fn parent_prescription(root: &Element) -> Result<&Element, MissingPart> {
    if root.name == "ParentPrescription" {
        return Ok(root);
    }
    find(
        find(find(root, "ControlActEvent")?, "subject")?,
        "ParentPrescription",
    )
}

/// The parts a prescriber signs, found in the ParentPrescription.
struct SignedParts<'e> {
    time: &'e Element,
    id: &'e Element,
    agent: &'e Element,
    record_target: &'e Element,
    line_items: Vec<&'e Element>,
}

fn signed_parts(parent: &Element) -> Result<SignedParts<'_>, MissingPart> {
    let prescription = find(
        find(parent, "pertinentInformation1")?,
        "pertinentPrescription",
    )?;
    let author = find(prescription, "author")?;
    Ok(SignedParts {
        time: find(author, "time")?,
        id: find(prescription, "id")?,
        agent: find(author, "AgentPerson")?,
        record_target: find(parent, "recordTarget")?,
        line_items: prescription
            .child_elements()
            .iter()
            .filter(|c| c.name == "pertinentInformation2")
            .filter_map(|info| info.find("pertinentLineItem"))
            .collect(),
    })
}

/// Whether a line item's signed form keeps this child: not its status (in the release
/// form, `pertinentInformation4`), and no `repeatNumber/low`.
fn kept_for_signing(depth: usize, parent: &str, child: &Element) -> bool {
    match depth {
        1 => !["pertinentItemStatus", "statusCode", "pertinentInformation4"]
            .iter()
            .any(|status| child.name == *status),
        2 => !(parent == "repeatNumber" && child.name == "low"),
        _ => true,
    }
}

/// The fragments, as an element tree (`FragmentsToBeHashed`).
pub fn fragments(parent: &Element) -> Result<Element, MissingPart> {
    let parts = signed_parts(parent)?;
    let fragment = |children: Vec<Element>| Element::new("Fragment").children(children);
    let mut all = Element::new("FragmentsToBeHashed")
        .child(fragment(vec![
            with_namespace(parts.time),
            with_namespace(parts.id),
        ]))
        .child(fragment(vec![with_namespace(parts.agent)]))
        .child(fragment(vec![with_namespace(parts.record_target)]));
    for item in parts.line_items {
        let mut item = with_namespace(item);
        strip_for_signing(&mut item, 0);
        all.push(fragment(vec![item]));
    }
    Ok(all)
}

/// Removes the children [`kept_for_signing`] refuses, at every depth below `el`.
fn strip_for_signing(el: &mut Element, depth: usize) {
    let name = el.name.clone();
    if let Content::Children(children) = &mut el.content {
        children.retain(|c| kept_for_signing(depth + 1, &name, c));
        for c in children.iter_mut() {
            strip_for_signing(c, depth + 1);
        }
    }
}

/// The exclusive-canonical bytes of the fragments, written straight from the message tree
/// (the same bytes as canonicalising [`fragments`], without copying each part to set its
/// namespace and strip it).
pub fn canonical_fragments(parent: &Element) -> Result<Vec<u8>, MissingPart> {
    let parts = signed_parts(parent)?;
    let mut out = Vec::with_capacity(8 * 1024);
    let keep_all: &Keep<'_> = &|_, _, _| true;
    let part = |el: &Element, keep: &Keep<'_>, out: &mut Vec<u8>| {
        write_canonical_part(el, "", Some(HL7_NS), keep, out)
    };
    out.extend_from_slice(b"<FragmentsToBeHashed><Fragment>");
    part(parts.time, keep_all, &mut out);
    part(parts.id, keep_all, &mut out);
    out.extend_from_slice(b"</Fragment><Fragment>");
    part(parts.agent, keep_all, &mut out);
    out.extend_from_slice(b"</Fragment><Fragment>");
    part(parts.record_target, keep_all, &mut out);
    out.extend_from_slice(b"</Fragment>");
    for item in parts.line_items {
        out.extend_from_slice(b"<Fragment>");
        part(item, &kept_for_signing, &mut out);
        out.extend_from_slice(b"</Fragment>");
    }
    out.extend_from_slice(b"</FragmentsToBeHashed>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hl7v3::canonical::write_canonical;

    /// Writing the fragments straight from the tree equals canonicalising the copied and
    /// stripped fragment tree, on a line item with a status, a repeat number and a nested
    /// `low` that must stay.
    #[test]
    fn direct_fragments_equal_the_copied_tree() {
        let item = Element::new("pertinentLineItem")
            .attr("classCode", "OBS")
            .child(Element::new("id").attr("root", "X"))
            .child(
                Element::new("repeatNumber")
                    .child(Element::new("low").attr("value", "1"))
                    .child(Element::new("high").attr("value", "3")),
            )
            .child(Element::new("effectiveTime").child(Element::new("low").attr("value", "2")))
            .child(Element::new("statusCode").attr("code", "x"))
            .child(Element::new("pertinentItemStatus").text("a & b"));
        let parent = Element::new("ParentPrescription")
            .attr("xmlns", HL7_NS)
            .child(Element::new("recordTarget").child(Element::new("Patient").text("p<")))
            .child(
                Element::new("pertinentInformation1").child(
                    Element::new("pertinentPrescription")
                        .child(Element::new("id").attr("root", "P"))
                        .child(
                            Element::new("author")
                                .child(Element::new("time").attr("value", "2024"))
                                .child(Element::new("AgentPerson").text("a\r\nb")),
                        )
                        .child(Element::new("pertinentInformation2").child(item)),
                ),
            );
        let mut copied = Vec::new();
        write_canonical(&fragments(&parent).unwrap(), "", &mut copied);
        let direct = canonical_fragments(&parent).unwrap();
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(copied).unwrap()
        );
    }
}
