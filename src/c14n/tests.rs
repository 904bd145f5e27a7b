//! Unit tests: small behaviours, hostile input, idempotence.

use super::*;

fn c14n(xml: &str, mode: Mode) -> Result<String, C14nError> {
    canonicalize(xml, &Options::new(mode)).map(|b| String::from_utf8(b).unwrap())
}

fn c14n_sub(xml: &str, mode: Mode, expr: &str, prefixes: &[&str]) -> String {
    let opts = Options {
        mode,
        inclusive_prefixes: prefixes.iter().map(ToString::to_string).collect(),
        subtree: Some(expr),
        namespaces: vec![("ds".into(), "http://www.w3.org/2000/09/xmldsig#".into())],
    };
    String::from_utf8(canonicalize(xml, &opts).unwrap()).unwrap()
}

#[test]
fn sorts_attributes_and_namespaces() {
    let xml = r#"<e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm" xmlns:b="http://www.ietf.org" xmlns:a="http://www.w3.org" xmlns="http://example.org"/>"#;
    let want = r#"<e5 xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5>"#;
    assert_eq!(c14n(xml, Mode::Inclusive).unwrap(), want);
}

#[test]
fn escapes_text_and_attributes() {
    let xml = "<a b='&lt;&amp;\"&#9;&#10;&#13;>'>&lt;&amp;&gt;&#13;\"'</a>";
    let want = "<a b=\"&lt;&amp;&quot;&#x9;&#xA;&#xD;>\">&lt;&amp;&gt;&#xD;\"'</a>";
    assert_eq!(c14n(xml, Mode::Exclusive).unwrap(), want);
}

#[test]
fn document_level_comments_and_pis() {
    let xml = "<?xml version='1.0'?>\r\n<!--a\r\nb--><?p  x\ry ?><r><!--in--></r><!--z--><?q?>";
    assert_eq!(
        c14n(xml, Mode::InclusiveWithComments).unwrap(),
        "<!--a\nb-->\n<?p x\ny ?>\n<r><!--in--></r>\n<!--z-->\n<?q?>"
    );
    assert_eq!(
        c14n(xml, Mode::Inclusive).unwrap(),
        "<?p x\ny ?>\n<r></r>\n<?q?>"
    );
}

#[test]
fn internal_subset_comments_are_not_output() {
    let xml = "<!DOCTYPE r [<!-- dtd --><?dtd pi?>]><r/>";
    assert_eq!(c14n(xml, Mode::InclusiveWithComments).unwrap(), "<r></r>");
}

#[test]
fn exclusive_renders_only_visibly_used_namespaces() {
    let xml =
        r#"<r xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused"><a:x a:y="1"><z/></a:x></r>"#;
    assert_eq!(
        c14n(xml, Mode::Exclusive).unwrap(),
        r#"<r xmlns="urn:d"><a:x xmlns:a="urn:a" a:y="1"><z></z></a:x></r>"#
    );
    assert_eq!(
        c14n(xml, Mode::Inclusive).unwrap(),
        r#"<r xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused"><a:x a:y="1"><z></z></a:x></r>"#
    );
}

#[test]
fn empty_default_namespace_only_undoes_a_rendered_one() {
    let xml = r#"<a xmlns="urn:x"><b xmlns=""><c xmlns=""/></b></a>"#;
    let want = r#"<a xmlns="urn:x"><b xmlns=""><c></c></b></a>"#;
    assert_eq!(c14n(xml, Mode::Inclusive).unwrap(), want);
    assert_eq!(c14n(xml, Mode::Exclusive).unwrap(), want);
    assert_eq!(c14n("<a xmlns=''/>", Mode::Inclusive).unwrap(), "<a></a>");
}

#[test]
fn subtree_inclusive_brings_ancestor_namespaces_and_xml_attributes() {
    let xml = r#"<r xmlns:p="urn:p" xml:lang="en" xml:space="preserve"><p:s xml:lang="fr"><t/></p:s></r>"#;
    assert_eq!(
        c14n_sub(xml, Mode::Inclusive, "//*[local-name(.)='s']", &[]),
        r#"<p:s xmlns:p="urn:p" xml:lang="fr" xml:space="preserve"><t></t></p:s>"#
    );
    assert_eq!(
        c14n_sub(xml, Mode::Exclusive, "/*/*[1]", &[]),
        r#"<p:s xmlns:p="urn:p" xml:lang="fr"><t></t></p:s>"#
    );
}

#[test]
fn prefix_list_includes_named_and_default_namespaces() {
    let xml = r#"<r xmlns="urn:d" xmlns:k="urn:k" xmlns:u="urn:u"><ds:S xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></r>"#;
    assert_eq!(
        c14n_sub(xml, Mode::Exclusive, "//ds:S", &["#default", "k", "absent"]),
        r#"<ds:S xmlns="urn:d" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:k="urn:k"></ds:S>"#
    );
    assert_eq!(
        c14n_sub(xml, Mode::Exclusive, "//ds:S", &[]),
        r#"<ds:S xmlns:ds="http://www.w3.org/2000/09/xmldsig#"></ds:S>"#
    );
}

#[test]
fn dtd_defaults_and_entities_are_applied() {
    let xml = "<!DOCTYPE r [<!ENTITY e 'x&amp;y'><!ATTLIST r d CDATA 'dv' t NMTOKENS #IMPLIED f CDATA #FIXED ' a&#9;b '>]><r t='  p   q '>&e;</r>";
    assert_eq!(
        c14n(xml, Mode::Inclusive).unwrap(),
        "<r d=\"dv\" f=\" a&#x9;b \" t=\"p q\">x&amp;y</r>"
    );
}

#[test]
fn selector_errors_are_clear() {
    let doc = parse_document("<a><b/></a>").unwrap();
    let err = select(&doc, "//b/following-sibling::c", &[]).unwrap_err();
    assert!(matches!(err, C14nError::Selector { .. }), "{err}");
    let err = select(&doc, "//x:b", &[]).unwrap_err();
    assert!(err.to_string().contains("prefix 'x' is not bound"), "{err}");
    let err = select(&doc, "//c", &[]).unwrap_err();
    assert_eq!(err.to_string(), "subtree selector '//c' matched no element");
    assert_eq!(select(&doc, "/a/b[1]", &[]).unwrap().tag_name().name(), "b");
}

#[test]
fn billion_laughs_is_refused_by_its_total_expansion() {
    let mut dtd = String::from("<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..=9 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        dtd.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    let xml = format!("{dtd}]><lolz>&lol9;</lolz>");
    let err = c14n(&xml, Mode::Exclusive).unwrap_err();
    assert!(matches!(err, C14nError::EntityExpansion { .. }), "{err}");
}

#[test]
fn quadratic_blowup_is_refused_by_its_total_expansion() {
    let big = "x".repeat(100_000);
    let body = "&big;".repeat(100_000);
    let xml = format!("<!DOCTYPE r [<!ENTITY big \"{big}\">]><r>{body}</r>");
    let err = c14n(&xml, Mode::Inclusive).unwrap_err();
    assert!(matches!(err, C14nError::EntityExpansion { .. }), "{err}");
}

#[test]
fn self_referencing_entities_are_refused() {
    let xml = "<!DOCTYPE r [<!ENTITY a '&b;'><!ENTITY b '&a;'>]><r>&a;</r>";
    let err = c14n(xml, Mode::Inclusive).unwrap_err();
    assert!(matches!(err, C14nError::EntityExpansion { .. }), "{err}");
}

#[test]
fn deep_nesting_is_refused() {
    let xml = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    let err = c14n(&xml, Mode::Exclusive).unwrap_err();
    assert!(
        matches!(
            err,
            C14nError::TooDeep {
                limit: MAX_DEPTH,
                ..
            }
        ),
        "{err}"
    );
    let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
    assert!(c14n(&ok, Mode::Exclusive).is_ok());
}

#[test]
fn oversize_input_is_refused() {
    let xml = format!("<a>{}</a>", "x".repeat(MAX_INPUT_BYTES));
    let err = c14n(&xml, Mode::Exclusive).unwrap_err();
    assert!(matches!(err, C14nError::InputTooLarge { .. }), "{err}");
}

#[test]
fn too_many_nodes_are_refused() {
    let xml = format!("<a>{}</a>", "<b/>".repeat(MAX_NODES as usize));
    let err = c14n(&xml, Mode::Exclusive).unwrap_err();
    assert!(matches!(err, C14nError::TooManyNodes { .. }), "{err}");
}

#[test]
fn output_amplification_is_bounded() {
    // Exclusive C14N repeats a namespace declaration on every sibling that uses it.
    let uri = format!("urn:{}", "u".repeat(200_000));
    let xml = format!("<r xmlns:p='{uri}'>{}</r>", "<a><p:x/></a>".repeat(400));
    let err = c14n(&xml, Mode::Exclusive).unwrap_err();
    assert!(matches!(err, C14nError::OutputTooLarge { .. }), "{err}");
}

#[test]
fn external_entities_are_refused_not_fetched() {
    let xml = "<!DOCTYPE r [<!ENTITY ext SYSTEM \"file:///etc/passwd\">]>\n<r>&ext;</r>";
    let err = c14n(xml, Mode::Inclusive).unwrap_err();
    assert_eq!(
        err.to_string(),
        "external entity 'ext' referred to at 2:4 is never fetched"
    );
    // Declared but unused external entities and an external DTD are harmless.
    let ok = "<!DOCTYPE r SYSTEM \"http://example.org/r.dtd\" [<!ENTITY ext SYSTEM \"x\">]><r/>";
    assert_eq!(c14n(ok, Mode::Inclusive).unwrap(), "<r></r>");
}

#[test]
fn relative_namespace_uris_are_refused() {
    let xml = "<r>\n  <p:a xmlns:p=\"rel/ns\"/></r>";
    let err = c14n(xml, Mode::Exclusive).unwrap_err();
    assert_eq!(
        err.to_string(),
        "relative namespace uri 'rel/ns' for prefix 'p' in scope at 2:3: c14n 1.0 refuses relative namespace uris"
    );
    assert!(c14n("<r xmlns='urn:x' xmlns:h='http://x/y'/>", Mode::Inclusive).is_ok());
}

#[test]
fn parse_errors_keep_positions() {
    let err = c14n("<a>\n<b></a>", Mode::Exclusive).unwrap_err();
    assert!(matches!(err, C14nError::Parse(_)));
    assert!(err.to_string().contains("2:"), "{err}");
}

#[test]
fn canonical_form_is_a_fixed_point() {
    let docs = [
        "<?xml version='1.0'?><!--c--><r xmlns='urn:d' xmlns:a='urn:a' b='1' a:c='&#13;'><a:x xmlns=''>t&#13;<![CDATA[<&>]]></a:x></r><?p d?>",
        "<!DOCTYPE r [<!ATTLIST r d CDATA 'v'>]><r><s xml:lang='en'>\u{e9}\u{1F600}</s></r>",
        "<r xmlns:p='urn:p'><p:s p:a='x'><t xmlns:p='urn:q' p:b='y'/></p:s></r>",
    ];
    for doc in docs {
        for mode in Mode::ALL {
            let once = c14n(doc, mode).unwrap();
            assert_eq!(c14n(&once, mode).unwrap(), once, "{mode:?} {doc}");
        }
    }
}

#[test]
fn modes_round_trip_names() {
    for mode in Mode::ALL {
        assert_eq!(Mode::from_cli(mode.cli_name()), Some(mode));
        assert_eq!(Mode::from_uri(mode.algorithm_uri()), Some(mode));
    }
    assert_eq!(Mode::from_cli("c14n11"), None);
}

#[test]
fn nesting_added_by_entities_counts() {
    let inner = format!("{}{}", "<b>".repeat(100), "</b>".repeat(100));
    let xml = format!(
        "<!DOCTYPE a [<!ENTITY e \"{inner}\">]>{}&e;{}",
        "<a>".repeat(50),
        "</a>".repeat(50)
    );
    let err = c14n(&xml, Mode::Inclusive).unwrap_err();
    assert!(matches!(err, C14nError::TooDeep { .. }), "{err}");
}

#[test]
fn parameter_entities_are_not_expanded_in_content() {
    let xml = "<!DOCTYPE a [<!ENTITY % p 'zz'>]><a>&p;</a>";
    let err = c14n(xml, Mode::Inclusive).unwrap_err();
    assert!(matches!(err, C14nError::Dtd { .. }), "{err}");
}

#[test]
fn carriage_returns_after_references_are_normalised() {
    let xml = "<a>&amp;\r<b/>&#13;\r</a>";
    assert_eq!(
        c14n(xml, Mode::Inclusive).unwrap(),
        "<a>&amp;\n<b></b>&#xD;\n</a>"
    );
    let err = parse_document(xml).unwrap_err();
    assert!(matches!(err, C14nError::LoneCarriageReturn { .. }), "{err}");
    assert_eq!(normalize_line_ends("a\r\nb\rc\n"), "a\nb\nc\n");
}

#[test]
fn namespace_uris_are_escaped_like_attribute_values() {
    // C14N 1.0 section 2.3 (libxml2 writes them unescaped).
    let xml = "<a xmlns:p='http://e.example/?q=1&amp;r=&quot;2&quot;' p:b=''/>";
    assert_eq!(
        c14n(xml, Mode::Exclusive).unwrap(),
        "<a xmlns:p=\"http://e.example/?q=1&amp;r=&quot;2&quot;\" p:b=\"\"></a>"
    );
}

#[test]
fn entity_values_roxmltree_misreads_are_refused() {
    for value in ["x&#38;#13;y", "&#x3C;b/>", "%pe;"] {
        let xml = format!("<!DOCTYPE a [<!ENTITY e '{value}'>]><a>&e;</a>");
        let err = c14n(&xml, Mode::Inclusive).unwrap_err();
        assert!(matches!(err, C14nError::Dtd { .. }), "{value}: {err}");
    }
}

#[test]
fn malformed_names_roxmltree_skips_are_refused() {
    let xml = "<!DOCTYPE d [<!ATTLIST d xml:<s CDATA 'x'>]><d/>";
    let err = c14n(xml, Mode::Inclusive).unwrap_err();
    assert!(matches!(err, C14nError::Dtd { .. }), "{err}");
    let err = c14n("<d><?xml<x?></d>", Mode::Inclusive).unwrap_err();
    assert!(matches!(err, C14nError::Malformed { .. }), "{err}");
}

#[test]
fn too_many_attributes_on_one_element_is_refused_as_too_costly() {
    let attrs: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}='v'")).collect();
    let err = c14n(&format!("<r{attrs}/>"), Mode::Exclusive).unwrap_err();
    assert!(matches!(err, C14nError::TooManyAttributes { .. }), "{err}");
    assert!(err.is_too_costly());
    let attrs: String = (0..MAX_ATTRIBUTES).map(|i| format!(" a{i}='v'")).collect();
    assert!(c14n(&format!("<r{attrs}/>"), Mode::Exclusive).is_ok());
}

#[test]
fn an_attribute_named_twice_is_refused_however_many_come_before_it() {
    // The parser checks the first attributes of an element pair by pair and the rest against
    // a set: a duplicate is found on either side of that switch, by local name and namespace
    // URI whatever the prefix.
    for earlier in [1, 15, 16, 17, 40, 200] {
        let attrs: String = (0..earlier).map(|i| format!(" a{i}='v'")).collect();
        let twice = format!("<r xmlns:p='urn:x' xmlns:q='urn:x'{attrs} a0='w'/>");
        let err = c14n(&twice, Mode::Exclusive).unwrap_err();
        assert!(
            matches!(
                err,
                C14nError::Parse(roxmltree::Error::DuplicatedAttribute(..))
            ),
            "{earlier}: {err}"
        );
        assert!(err.to_string().contains("a0"), "{earlier}: {err}");
        let prefixed = format!("<r xmlns:p='urn:x' xmlns:q='urn:x'{attrs} p:b='1' q:b='2'/>");
        let err = c14n(&prefixed, Mode::Exclusive).unwrap_err();
        assert!(
            matches!(
                err,
                C14nError::Parse(roxmltree::Error::DuplicatedAttribute(..))
            ),
            "{earlier}: {err}"
        );
        let distinct = format!("<r xmlns:p='urn:x' xmlns:q='urn:y'{attrs} p:b='1' q:b='2' b='3'/>");
        assert!(c14n(&distinct, Mode::Exclusive).is_ok(), "{earlier}");
    }
}

#[test]
fn too_many_namespaces_in_scope_is_refused_as_too_costly() {
    // A few declarations on each of many nested elements: each is within the attribute
    // limit, but together more are in scope than the limit.
    let open: String = (0..40)
        .map(|i| format!("<e{i} xmlns:a{i}='u:a{i}' xmlns:b{i}='u:b{i}' xmlns:c{i}='u:c{i}' xmlns:d{i}='u:d{i}'>"))
        .collect();
    let close: String = (0..40).rev().map(|i| format!("</e{i}>")).collect();
    let err = c14n(&format!("{open}{close}"), Mode::Exclusive).unwrap_err();
    assert!(matches!(err, C14nError::TooManyNamespaces { .. }), "{err}");
    // Declarations that go out of scope free their place: siblings may each declare many.
    let siblings: String = (0..40)
        .map(|i| format!("<e xmlns:a='u:{i}' xmlns:b='u:{i}' xmlns:c='u:{i}' xmlns:d='u:{i}'/>"))
        .collect();
    assert!(c14n(&format!("<r>{siblings}</r>"), Mode::Exclusive).is_ok());
}

#[test]
fn canonical_output_is_bounded_by_the_document_size() {
    // Attribute defaults multiply a small document: the output may grow in proportion, no more.
    let defs: String = (0..200)
        .map(|i| format!(" d{i} CDATA 'value{i}'"))
        .collect();
    let body = "<a/>".repeat(5_000);
    let xml = format!("<!DOCTYPE r [<!ATTLIST a{defs}>]><r>{body}</r>");
    let err = c14n(&xml, Mode::Inclusive).unwrap_err();
    assert!(matches!(err, C14nError::OutputTooLarge { .. }), "{err}");
    assert!(err.is_too_costly());
    // The same defaults on a few elements are applied.
    let xml = format!("<!DOCTYPE r [<!ATTLIST a{defs}>]><r><a/><a d0='x'/></r>");
    let out = c14n(&xml, Mode::Inclusive).unwrap();
    assert!(out.contains("<a d0=\"x\" d1=\"value1\""), "{out}");
    assert_eq!(out.matches("d199=\"value199\"").count(), 2);
}

#[test]
fn descendant_steps_visit_each_node_once_and_keep_document_order() {
    // Nested matches of the first step: their subtrees overlap, the selection must not.
    let chain = format!("{}<b id='x'/>{}", "<a>".repeat(50), "</a>".repeat(50));
    let xml = format!("<r>{chain}<a><b id='y'/></a></r>");
    let doc = parse_document(&xml).unwrap();
    let found = select(&doc, "//a//b", &[]).unwrap();
    assert_eq!(found.attribute("id"), Some("x"));
    assert_eq!(
        c14n_sub(&xml, Mode::Exclusive, "//a//b[@id='y']", &[]),
        "<b id=\"y\"></b>"
    );
}

#[test]
fn a_long_prefix_list_gives_what_its_relevant_prefixes_give() {
    let xml = "<r xmlns:p='u:p' xmlns:q='u:q'><x/></r>";
    let mut many: Vec<String> = (0..20_000).map(|i| format!("z{i}")).collect();
    many.push("q".into());
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        c14n_sub(xml, Mode::Exclusive, "/r/x", &many),
        c14n_sub(xml, Mode::Exclusive, "/r/x", &["q"])
    );
    assert_eq!(
        c14n_sub(xml, Mode::Exclusive, "/r/x", &["q"]),
        "<x xmlns:q=\"u:q\"></x>"
    );
}
