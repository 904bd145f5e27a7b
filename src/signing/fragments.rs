//! The signature fragments of a ParentPrescription: what a prescriber actually signs.
//!
//! `FragmentsToBeHashed` holds, each in a `Fragment` and each fragment root declaring
//! `xmlns="urn:hl7-org:v3"`: the author's `time` and the prescription `id`, the author
//! `AgentPerson`, the `recordTarget`, and every `pertinentLineItem` without its
//! `repeatNumber/low` (and without a status, which prescriptions do not carry).

use crate::hl7v3::canonical::write_canonical;
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

/// The fragments, as an element tree (`FragmentsToBeHashed`).
pub fn fragments(parent: &Element) -> Result<Element, MissingPart> {
    let prescription = find(
        find(parent, "pertinentInformation1")?,
        "pertinentPrescription",
    )?;
    let author = find(prescription, "author")?;
    let time = find(author, "time")?;
    let id = find(prescription, "id")?;
    let agent = find(author, "AgentPerson")?;
    let record_target = find(parent, "recordTarget")?;
    let fragment = |children: Vec<Element>| Element::new("Fragment").children(children);
    let mut all = Element::new("FragmentsToBeHashed")
        .child(fragment(vec![with_namespace(time), with_namespace(id)]))
        .child(fragment(vec![with_namespace(agent)]))
        .child(fragment(vec![with_namespace(record_target)]));
    for info in prescription
        .child_elements()
        .iter()
        .filter(|c| c.name == "pertinentInformation2")
    {
        let Some(item) = info.find("pertinentLineItem") else {
            continue;
        };
        let mut item = with_namespace(item);
        strip_for_signing(&mut item);
        all.push(fragment(vec![item]));
    }
    Ok(all)
}

/// Removes `repeatNumber/low` and any status from a line item.
fn strip_for_signing(item: &mut Element) {
    if let Content::Children(children) = &mut item.content {
        children.retain(|c| c.name != "pertinentItemStatus" && c.name != "statusCode");
        for c in children.iter_mut().filter(|c| c.name == "repeatNumber") {
            if let Content::Children(parts) = &mut c.content {
                parts.retain(|p| p.name != "low");
            }
        }
    }
}

/// The exclusive-canonical bytes of the fragments.
pub fn canonical_fragments(parent: &Element) -> Result<Vec<u8>, MissingPart> {
    let tree = fragments(parent)?;
    let mut out = Vec::with_capacity(8 * 1024);
    write_canonical(&tree, "", &mut out);
    Ok(out)
}
