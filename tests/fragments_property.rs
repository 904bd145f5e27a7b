//! The signing path writes canonical fragments straight from the model; a verifier takes
//! them from the XML. Property: for every Bundle, the fragments `prepare` hashes equal the
//! fragments a standard verifier extracts from our own `convert` output and
//! exclusive-canonicalises with the general canonicaliser.

mod common;

use eps_translator::c14n::{canonicalize_node, normalize_line_ends, parse_document, Mode};
use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::translate::convert;
use std::path::{Path, PathBuf};

const NOW: &str = "2024-12-09T11:50:04+00:00";

/// Exclusive C14N of a subtree, with the pretty-printing indentation (a newline and spaces
/// between tags) dropped, as HL7 v3 verifiers read element-only content.
fn exc(node: roxmltree::Node) -> String {
    let mut out = Vec::new();
    canonicalize_node(node, Mode::Exclusive, &[], &mut out).expect("canonicalises");
    let text = String::from_utf8(out).unwrap();
    let mut result = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(">\n") {
        result.push_str(&rest[..=i]);
        let after = rest[i + 2..].trim_start_matches(' ');
        rest = if after.starts_with('<') {
            after
        } else {
            &rest[i + 1..]
        };
    }
    result.push_str(rest);
    result
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> roxmltree::Node<'a, 'i> {
    node.children()
        .find(|c| c.has_tag_name(name))
        .unwrap_or_else(|| panic!("no {name}"))
}

/// The verifier's view: fragments taken from the parsed HL7 v3 message.
fn fragments_from_xml(xml: &str) -> String {
    let text = normalize_line_ends(xml);
    let doc = parse_document(&text).expect("our convert output parses");
    let parent = doc
        .descendants()
        .find(|n| n.has_tag_name("ParentPrescription"))
        .unwrap();
    let prescription = child(
        child(parent, "pertinentInformation1"),
        "pertinentPrescription",
    );
    let author = child(prescription, "author");
    let mut out = String::from("<FragmentsToBeHashed><Fragment>");
    out += &exc(child(author, "time"));
    out += &exc(child(prescription, "id"));
    out += "</Fragment><Fragment>";
    out += &exc(child(author, "AgentPerson"));
    out += "</Fragment><Fragment>";
    out += &exc(child(parent, "recordTarget"));
    out += "</Fragment>";
    for info in prescription
        .children()
        .filter(|c| c.has_tag_name("pertinentInformation2"))
    {
        let item = exc(child(info, "pertinentLineItem"));
        // Signed line items leave out repeatNumber/low.
        out += "<Fragment>";
        out += &item.replace("<repeatNumber><low value=\"1\"></low>", "<repeatNumber>");
        out += "</Fragment>";
    }
    out + "</FragmentsToBeHashed>"
}

fn check(bundles: &[PathBuf]) -> usize {
    let ctx = common::corpus_context(NOW);
    let mut checked = 0;
    for path in bundles {
        let bytes = std::fs::read(path).unwrap();
        // Prepare builds only the signed parts of the tree; it must refuse exactly the
        // prescription-order Bundles convert refuses (it refuses every other kind).
        let (converted, prepared) = match (
            convert(&bytes, &ctx),
            prepare(&bytes, DigestAlgorithm::Sha256, &ctx),
        ) {
            (Ok(converted), Ok(prepared)) => (converted, prepared),
            (Err(_), Err(_)) => continue,
            (Ok(_), Err(refused))
                if refused.to_string().contains("must be 'prescription-order'") =>
            {
                continue
            }
            (converted, prepared) => panic!(
                "{}: convert and prepare disagree: convert {:?}, prepare {:?}",
                path.display(),
                converted.err(),
                prepared.err()
            ),
        };
        let from_model = String::from_utf8(prepared.fragments_c14n).unwrap();
        assert_eq!(
            from_model,
            fragments_from_xml(&converted.xml),
            "{}",
            path.display()
        );
        checked += 1;
    }
    checked
}

/// The tree prepare builds is the whole message's ParentPrescription less its author's
/// `signatureText`, for every Bundle both accept.
fn check_signed_parts_tree(bundles: &[PathBuf]) -> usize {
    use eps_translator::fhir::Bundle;
    use eps_translator::hl7v3::Content;
    use eps_translator::signing::fragments::parent_prescription;
    use eps_translator::translate::{translate_bundle, translate_scoped, Scope};
    let ctx = common::corpus_context(NOW);
    let mut signed = 0;
    for path in bundles {
        let text = std::fs::read_to_string(path).unwrap();
        let Ok(bundle) = Bundle::parse(&text) else {
            continue;
        };
        let (Ok(whole), Ok(parts)) = (
            translate_bundle(&bundle, &text, &ctx),
            translate_scoped(&bundle, &text, &ctx, Scope::SignedParts),
        ) else {
            continue;
        };
        let Ok(whole_parent) = parent_prescription(&whole.root) else {
            continue;
        };
        assert_eq!(parts.root.name, "ParentPrescription", "{}", path.display());
        let mut expected = whole_parent.clone();
        let author = find_mut(&mut expected, "author").unwrap();
        let Content::Children(children) = &mut author.content else {
            panic!("{}: author has no children", path.display());
        };
        let at = children.iter().position(|c| c.name == "signatureText");
        let signature = children.remove(at.expect("convert's author has a signatureText"));
        assert!(
            children.iter().all(|c| c.name != "signatureText"),
            "{}",
            path.display()
        );
        if signature.get_attr("nullFlavor").is_none() {
            signed += 1;
        }
        assert_eq!(parts.root, expected, "{}", path.display());
        assert_eq!(parts.issues, whole.issues, "{}", path.display());
    }
    signed
}

fn golden_bundles_canonical_fragments_equal_c14n_of_convert_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/convert");
    let bundles = common::find_files(&dir, &|n| {
        n.ends_with(".json") && !n.starts_with("err_") && !n.ends_with(".err.json")
    });
    let checked = check(&bundles);
    println!("golden fragments property: {checked} bundles");
    assert!(checked >= 6);
    let signed = check_signed_parts_tree(&bundles);
    assert!(signed >= 1, "no golden Bundle carries a signature");
}

fn corpus_and_variant_canonical_fragments_equal_c14n_of_convert_output() {
    let Some(shared) = common::shared_dir("fragments property") else {
        return;
    };
    let mut bundles = common::find_files(&shared.join("eps-examples"), &|n| {
        n.ends_with("-Prepare-Request-200_OK.json")
            || n.ends_with("-Process-Request-Send-200_OK.json")
    });
    bundles.extend(common::find_files(
        &shared.join("eps-oracle/variants"),
        &|n| {
            n.ends_with(".json")
                && !n.contains(".prepare-")
                && !n.contains(".error")
                && !n.contains(".validate")
                && !n.starts_with("index")
                && !n.starts_with("manifest")
        },
    ));
    let checked = check(&bundles);
    println!("corpus fragments property: {checked} bundles");
    assert!(checked >= 150, "only {checked} bundles checked");
    let signed = check_signed_parts_tree(&bundles);
    println!("corpus signed-parts tree: {signed} Bundles carried a signature");
    assert!(signed >= 1, "no corpus Bundle carries a signature");
}

/// Finds the first element named `name` below `el`, mutably.
fn find_mut<'e>(
    el: &'e mut eps_translator::hl7v3::Element,
    name: &str,
) -> Option<&'e mut eps_translator::hl7v3::Element> {
    if el.name == name {
        return Some(el);
    }
    match &mut el.content {
        eps_translator::hl7v3::Content::Children(children) => {
            children.iter_mut().find_map(|c| find_mut(c, name))
        }
        _ => None,
    }
}

fn digest_follows_signed_fields_only() {
    use eps_translator::fhir::Bundle;
    use eps_translator::signing::fragments::{canonical_fragments, parent_prescription};
    use eps_translator::translate::translate_bundle;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/convert/repeat_dispensing.json");
    let text = std::fs::read_to_string(path).unwrap();
    let bundle = Bundle::parse(&text).unwrap();
    let ctx = common::corpus_context(NOW);
    let tree = translate_bundle(&bundle, &text, &ctx).unwrap().root;
    let digest = |root: &eps_translator::hl7v3::Element| {
        DigestAlgorithm::Sha256
            .hash(&canonical_fragments(parent_prescription(root).unwrap()).unwrap())
    };
    let original = digest(&tree);

    // repeatNumber/low of a line item is not signed.
    let mut changed = tree.clone();
    let item = find_mut(&mut changed, "pertinentLineItem").unwrap();
    find_mut(item, "low")
        .expect("repeat dispensing line items carry repeatNumber/low")
        .set_attr("value", "2");
    assert_eq!(digest(&changed), original);

    // A line item status is not signed either.
    let mut changed = tree.clone();
    let item = find_mut(&mut changed, "pertinentLineItem").unwrap();
    item.push(eps_translator::hl7v3::Element::new("pertinentItemStatus"));
    assert_eq!(digest(&changed), original);

    // Every signed field is: dosage text, patient name, author time, prescription id, repeatNumber/high.
    for (element, attr_or_text) in [
        ("value", None),
        ("family", None),
        ("time", Some("value")),
        ("id", Some("root")),
        ("high", Some("value")),
    ] {
        let mut changed = tree.clone();
        let target = if element == "value" || element == "high" {
            find_mut(
                find_mut(&mut changed, "pertinentLineItem").unwrap(),
                element,
            )
        } else {
            find_mut(
                find_mut(&mut changed, "ParentPrescription").unwrap(),
                if element == "id" {
                    "pertinentPrescription"
                } else {
                    element
                },
            )
            .map(|e| {
                if element == "id" {
                    find_mut(e, "id").unwrap()
                } else {
                    e
                }
            })
        }
        .unwrap_or_else(|| panic!("no {element}"));
        match attr_or_text {
            Some(attr) => target.set_attr(attr, "CHANGED"),
            None => target.content = eps_translator::hl7v3::Content::Text("CHANGED".into()),
        }
        assert_ne!(
            digest(&changed),
            original,
            "changing {element} must change the digest"
        );
    }
}

/// Prepare leaves the carried signature out of its tree but still reads it: a signature that
/// is not base64, or not well-formed XML, is refused by prepare with convert's error.
fn prepare_refuses_an_unreadable_signature_as_convert_does() {
    use base64::Engine;
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/convert/signed_with_offset_time.json");
    let text = std::fs::read_to_string(path).unwrap();
    let mut bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ctx = common::corpus_context(NOW);
    let not_xml = base64::engine::general_purpose::STANDARD.encode("<Signature><open></Signature>");
    for bad in ["not base64!", not_xml.as_str()] {
        let provenance = bundle["entry"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|e| e["resource"]["resourceType"] == "Provenance")
            .unwrap();
        provenance["resource"]["signature"][0]["data"] = bad.into();
        let bytes = serde_json::to_vec(&bundle).unwrap();
        let converted = convert(&bytes, &ctx).unwrap_err();
        let prepared = prepare(&bytes, DigestAlgorithm::Sha256, &ctx).unwrap_err();
        assert!(
            converted.to_string().contains("Invalid signature format"),
            "{converted}"
        );
        assert_eq!(prepared.to_string(), converted.to_string());
    }
}

fn main() -> std::process::ExitCode {
    use common::Needs;
    common::run_suite(
        "fragments_property",
        &[
            (
                "golden_bundles_canonical_fragments_equal_c14n_of_convert_output",
                Needs::Nothing,
                golden_bundles_canonical_fragments_equal_c14n_of_convert_output,
            ),
            (
                "corpus_and_variant_canonical_fragments_equal_c14n_of_convert_output",
                Needs::Corpus,
                corpus_and_variant_canonical_fragments_equal_c14n_of_convert_output,
            ),
            (
                "digest_follows_signed_fields_only",
                Needs::Nothing,
                digest_follows_signed_fields_only,
            ),
            (
                "prepare_refuses_an_unreadable_signature_as_convert_does",
                Needs::Nothing,
                prepare_refuses_an_unreadable_signature_as_convert_does,
            ),
        ],
    )
}
