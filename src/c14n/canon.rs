//! The canonical serialiser: one pass over the tree in document order, no recursion.
//!
//! Namespace declarations are decided with one rule for both algorithms. Each element has
//! *candidate* namespace nodes — inclusive C14N: every in-scope namespace; exclusive C14N:
//! those the element visibly utilises (its own prefix, or the default namespace when it is
//! unprefixed, and its attributes' prefixes) plus those named by the InclusiveNamespaces
//! PrefixList. A candidate is written when the nearest output ancestor has not already
//! *rendered* the same prefix with the same URI; an empty default namespace counts as
//! rendered when nothing (or `xmlns=""`) was rendered, so `xmlns=""` appears only to undo
//! a rendered non-empty default. For a whole document or an apex subtree every element is
//! output, so this is exactly C14N 1.0 section 2.3 and exc-C14N section 3.

use std::borrow::Cow;
use std::ops::Range;

use roxmltree::{Node, NodeType};

use super::dtd::{collapse_spaces, AttributeDefaults};
use super::error::{C14nError, Pos};
use super::escape;
use super::MAX_OUTPUT_BYTES;
use rustc_hash::{FxHashMap, FxHashSet};

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Which algorithm and parameters to apply.
pub(crate) struct Settings<'p> {
    pub exclusive: bool,
    pub comments: bool,
    /// InclusiveNamespaces PrefixList (exclusive only); `#default` names the default namespace.
    pub prefixes: &'p [&'p str],
    /// Leave out whitespace-only text nodes that sit between elements (see
    /// [`super::Layout::WithoutWhitespaceBetweenElements`]).
    pub drop_whitespace_between_elements: bool,
}

/// An attribute as it will be written.
struct Attr<'a> {
    uri: &'a str,
    local: &'a str,
    prefix: &'a str,
    qname: Cow<'a, str>,
    value: Cow<'a, str>,
}

/// An open element on the traversal stack.
struct Frame<'a, 'input> {
    node: Node<'a, 'input>,
    qname: Cow<'a, str>,
    rendered_len: usize,
}

/// Writes canonical bytes for nodes of one document.
pub(crate) struct Writer<'a, 'o> {
    settings: Settings<'a>,
    defaults: &'a AttributeDefaults<'a>,
    doctype: Option<Range<usize>>,
    text: &'a str,
    out: &'o mut Vec<u8>,
    out_start: usize,
    /// Namespace declarations rendered by the open output ancestors: (prefix, uri).
    rendered: Vec<(&'a str, &'a str)>,
    namespaces: Vec<(&'a str, &'a str)>,
    attrs: Vec<Attr<'a>>,
    /// The PrefixList's prefixes (`#default` aside), looked up once per in-scope namespace.
    listed: FxHashSet<&'a str>,
    /// Whether the PrefixList names `#default`.
    default_listed: bool,
    /// The most bytes written: see [`output_limit`].
    output_limit: usize,
}

/// The canonical form may be larger than its document (attribute defaults, namespace
/// declarations repeated on each element that uses them, entity replacement text), but only
/// in proportion: at most 8 times the document plus 2 MiB (room for the entity expansion
/// limit), and never over [`MAX_OUTPUT_BYTES`]. So the work a document can cause is bounded
/// by its own size.
pub(crate) fn output_limit(document_len: usize) -> usize {
    document_len
        .saturating_mul(8)
        .saturating_add(2 * 1024 * 1024)
        .min(MAX_OUTPUT_BYTES)
}

impl<'a, 'o> Writer<'a, 'o> {
    pub(crate) fn new(
        settings: Settings<'a>,
        defaults: &'a AttributeDefaults<'a>,
        doctype: Option<Range<usize>>,
        text: &'a str,
        out: &'o mut Vec<u8>,
    ) -> Self {
        let out_start = out.len();
        let listed = settings
            .prefixes
            .iter()
            .copied()
            .filter(|p| *p != "#default")
            .collect();
        let default_listed = settings.prefixes.contains(&"#default");
        Writer {
            output_limit: output_limit(text.len()),
            listed,
            default_listed,
            settings,
            defaults,
            doctype,
            text,
            out,
            out_start,
            rendered: Vec::new(),
            namespaces: Vec::new(),
            attrs: Vec::new(),
        }
    }

    /// The whole document: the document element plus the comments (when kept) and
    /// processing instructions around it, each separated from it by a line feed.
    pub(crate) fn document(&mut self, root: Node<'a, 'a>) -> Result<(), C14nError> {
        let mut after_element = false;
        for child in root.children() {
            if self.in_doctype(child) {
                continue; // roxmltree keeps internal-subset comments and PIs as nodes
            }
            match child.node_type() {
                NodeType::Element => {
                    self.element_tree(child)?;
                    after_element = true;
                }
                NodeType::Comment | NodeType::PI if self.keeps(child) => {
                    if after_element {
                        self.out.push(b'\n');
                    }
                    self.leaf(child)?;
                    if !after_element {
                        self.out.push(b'\n');
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn in_doctype(&self, node: Node) -> bool {
        self.doctype
            .as_ref()
            .is_some_and(|d| d.contains(&node.range().start))
    }

    /// Whether a text node is layout the settings leave out: whitespace only, in an element
    /// that also has element children.
    fn is_dropped_layout(&self, node: Node) -> bool {
        self.settings.drop_whitespace_between_elements
            && node
                .text()
                .unwrap_or_default()
                .bytes()
                .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            && node
                .parent()
                .is_some_and(|p| p.children().any(|c| c.is_element()))
    }

    fn keeps(&self, node: Node) -> bool {
        !node.is_comment() || self.settings.comments
    }

    /// An element and all its descendants (the apex of a subtree, or the document element).
    pub(crate) fn element_tree(&mut self, apex: Node<'a, 'a>) -> Result<(), C14nError> {
        let mut stack: Vec<Frame<'a, 'a>> = Vec::new();
        let frame = self.open(apex, true)?;
        let mut next = apex.first_child();
        stack.push(frame);
        loop {
            let Some(node) = next else {
                let Some(frame) = stack.pop() else {
                    return Ok(());
                };
                self.close(&frame);
                if stack.is_empty() {
                    return Ok(());
                }
                next = frame.node.next_sibling();
                continue;
            };
            match node.node_type() {
                NodeType::Element => {
                    let frame = self.open(node, false)?;
                    if node.has_children() {
                        stack.push(frame);
                        next = node.first_child();
                        continue;
                    }
                    self.close(&frame);
                }
                NodeType::Text if self.is_dropped_layout(node) => {}
                NodeType::Text => escape::text(self.out, node.text().unwrap_or_default()),
                NodeType::Comment | NodeType::PI if self.keeps(node) => self.leaf(node)?,
                _ => {}
            }
            next = node.next_sibling();
        }
    }

    /// A comment or processing instruction.
    fn leaf(&mut self, node: Node) -> Result<(), C14nError> {
        if let Some(pi) = node.pi() {
            if pi.target.eq_ignore_ascii_case("xml") {
                // roxmltree accepts `<?xml?>` or `<?xml<…?>` as a PI; XML reserves the target.
                return Err(C14nError::Malformed {
                    message: "processing instruction target 'xml' is reserved",
                    pos: Pos::at(self.text, node.range().start),
                });
            }
            self.out.extend_from_slice(b"<?");
            self.out.extend_from_slice(pi.target.as_bytes());
            if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                self.out.push(b' ');
                escape::raw_with_newlines(self.out, value);
            }
            self.out.extend_from_slice(b"?>");
        } else {
            self.out.extend_from_slice(b"<!--");
            escape::raw_with_newlines(self.out, node.text().unwrap_or_default());
            self.out.extend_from_slice(b"-->");
        }
        Ok(())
    }

    /// Writes a start tag with its namespace declarations and attributes.
    fn open(&mut self, node: Node<'a, 'a>, apex: bool) -> Result<Frame<'a, 'a>, C14nError> {
        if self.out.len() - self.out_start > self.output_limit {
            return Err(C14nError::OutputTooLarge {
                limit: self.output_limit,
            });
        }
        check_namespace_uris(node)?;
        let (qname, prefix) = element_qname(self.text, node);
        let mut attrs = std::mem::take(&mut self.attrs);
        attrs.clear();
        self.effective_attributes(node, &qname, &mut attrs)?;
        if apex && !self.settings.exclusive {
            self.inherit_xml_attributes(node, &mut attrs)?;
        }
        let rendered_len = self.rendered.len();
        self.out.push(b'<');
        self.out.extend_from_slice(qname.as_bytes());
        self.write_namespaces(node, prefix, &attrs);
        attrs.sort_unstable_by(|a, b| cmp(a.uri, b.uri).then_with(|| cmp(a.local, b.local)));
        for attr in &attrs {
            self.out.push(b' ');
            self.out.extend_from_slice(attr.qname.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape::attribute(self.out, &attr.value);
            self.out.push(b'"');
        }
        self.out.push(b'>');
        self.attrs = attrs;
        Ok(Frame {
            node,
            qname,
            rendered_len,
        })
    }

    fn close(&mut self, frame: &Frame) {
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(frame.qname.as_bytes());
        self.out.push(b'>');
        self.rendered.truncate(frame.rendered_len);
    }

    /// Decides, writes (sorted by prefix, default first) and records the element's
    /// namespace declarations.
    fn write_namespaces(&mut self, node: Node<'a, 'a>, prefix: &'a str, attrs: &[Attr<'a>]) {
        let mut candidates = std::mem::take(&mut self.namespaces);
        candidates.clear();
        if self.settings.exclusive {
            self.exclusive_candidates(node, prefix, attrs, &mut candidates);
        } else {
            inclusive_candidates(node, &mut candidates);
        }
        candidates.sort_unstable_by(|a, b| cmp(a.0, b.0));
        candidates.dedup_by(|a, b| same(a.0, b.0));
        let base = self.rendered.len();
        for &(prefix, uri) in &candidates {
            let current = self.rendered[..base]
                .iter()
                .rev()
                .find(|(p, _)| same(p, prefix))
                .map(|&(_, u)| u);
            let needed = if prefix.is_empty() {
                !same(current.unwrap_or(""), uri)
            } else {
                !current.is_some_and(|c| same(c, uri))
            };
            if needed {
                self.out.extend_from_slice(b" xmlns");
                if !prefix.is_empty() {
                    self.out.push(b':');
                    self.out.extend_from_slice(prefix.as_bytes());
                }
                self.out.extend_from_slice(b"=\"");
                escape::attribute(self.out, uri);
                self.out.push(b'"');
                self.rendered.push((prefix, uri));
            }
        }
        self.namespaces = candidates;
    }

    /// Namespaces visibly utilised by the element and its attributes, plus the PrefixList.
    fn exclusive_candidates(
        &self,
        node: Node<'a, 'a>,
        prefix: &'a str,
        attrs: &[Attr<'a>],
        out: &mut Vec<(&'a str, &'a str)>,
    ) {
        if prefix != "xml" {
            out.push((prefix, node.tag_name().namespace().unwrap_or("")));
        }
        for attr in attrs {
            if !attr.prefix.is_empty() && attr.prefix != "xml" {
                out.push((attr.prefix, attr.uri));
            }
        }
        if self.default_listed {
            out.push(("", node.default_namespace().unwrap_or("")));
        }
        if !self.listed.is_empty() {
            out.extend(node.namespaces().filter_map(|ns| {
                let name = ns.name()?;
                self.listed.contains(name).then_some((name, ns.uri()))
            }));
        }
    }

    /// The element's attributes with the internal subset applied: defaults added for
    /// absent attributes, and non-CDATA values whitespace-normalised.
    fn effective_attributes(
        &self,
        node: Node<'a, 'a>,
        element_qname: &str,
        out: &mut Vec<Attr<'a>>,
    ) -> Result<(), C14nError> {
        let own = out.len();
        for attr in node.attributes() {
            let (qname, prefix) = attribute_qname(self.text, node, &attr);
            out.push(Attr {
                uri: attr.namespace().unwrap_or(""),
                local: attr.name(),
                prefix,
                qname,
                value: Cow::Borrowed(attr.value()),
            });
        }
        let defs = self.defaults.for_element(element_qname);
        if defs.is_empty() {
            return Ok(());
        }
        // The element's attributes by qualified name and by expanded name, so that each
        // default is looked up once rather than searched for among all of them.
        let mut by_qname: FxHashMap<String, usize> = FxHashMap::default();
        let mut expanded: FxHashSet<(&'a str, &'a str)> = FxHashSet::default();
        for (i, a) in out[own..].iter().enumerate() {
            by_qname.insert(a.qname.to_string(), own + i);
            expanded.insert((a.uri, a.local));
        }
        for def in defs {
            if let Some(&i) = by_qname.get(def.qname) {
                let existing = &mut out[i];
                if !def.cdata {
                    existing.value = Cow::Owned(collapse_spaces(&existing.value));
                }
                continue;
            }
            let Some(value) = &def.default else { continue };
            let dtd_error = |message: String| C14nError::Dtd {
                message,
                pos: Pos::at(self.text, def.offset),
            };
            if def.qname == "xmlns" || def.prefix == "xmlns" {
                let declared = (def.prefix == "xmlns").then_some(def.local);
                if node.lookup_namespace_uri(declared).unwrap_or("") != value {
                    return Err(dtd_error(format!(
                        "default value of namespace declaration '{}' is not applied",
                        def.qname
                    )));
                }
                continue;
            }
            let uri = match def.prefix {
                "" => "",
                "xml" => XML_NS,
                p => node.lookup_namespace_uri(Some(p)).ok_or_else(|| {
                    dtd_error(format!(
                        "prefix of default attribute '{}' is not bound",
                        def.qname
                    ))
                })?,
            };
            if !expanded.insert((uri, def.local)) {
                continue;
            }
            by_qname.insert(def.qname.to_string(), out.len());
            out.push(Attr {
                uri,
                local: def.local,
                prefix: def.prefix,
                qname: Cow::Borrowed(def.qname),
                value: Cow::Borrowed(value.as_str()),
            });
        }
        Ok(())
    }

    /// C14N 1.0 section 2.4: an apex whose ancestors are not output gets the nearest
    /// ancestor's value of every `xml:*` attribute it does not carry itself.
    fn inherit_xml_attributes(
        &self,
        apex: Node<'a, 'a>,
        attrs: &mut Vec<Attr<'a>>,
    ) -> Result<(), C14nError> {
        let mut scratch = Vec::new();
        for ancestor in apex.ancestors().skip(1).filter(Node::is_element) {
            scratch.clear();
            let (qname, _) = element_qname(self.text, ancestor);
            self.effective_attributes(ancestor, &qname, &mut scratch)?;
            for attr in scratch.drain(..) {
                if attr.uri == XML_NS
                    && !attrs
                        .iter()
                        .any(|a| a.uri == XML_NS && a.local == attr.local)
                {
                    attrs.push(attr);
                }
            }
        }
        Ok(())
    }
}

/// String equality with a pointer fast path: roxmltree shares one copy of each namespace
/// URI, and names usually point into the same input.
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
}

/// Code-point order of two (short) strings without a `memcmp` call, which dominates the
/// profile for the few-byte names compared here.
#[inline]
fn cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// Every in-scope namespace, with an empty default namespace when none is in scope.
fn inclusive_candidates<'a>(node: Node<'a, 'a>, out: &mut Vec<(&'a str, &'a str)>) {
    let mut has_default = false;
    for ns in node.namespaces() {
        has_default |= ns.name().is_none();
        out.push((ns.name().unwrap_or(""), ns.uri()));
    }
    if !has_default {
        out.push(("", ""));
    }
}

/// Refuses relative namespace URIs in scope at `node` (C14N 1.0 section 2, "data model").
fn check_namespace_uris(node: Node) -> Result<(), C14nError> {
    for ns in node.namespaces() {
        if is_relative_uri(ns.uri()) {
            return Err(C14nError::RelativeNamespaceUri {
                prefix: ns.name().map(str::to_string),
                uri: ns.uri().to_string(),
                pos: Pos::at(node.document().input_text(), node.range().start),
            });
        }
    }
    Ok(())
}

/// A non-empty URI reference without a scheme (`scheme ":"`, RFC 3986 section 3.1).
fn is_relative_uri(uri: &str) -> bool {
    let mut bytes = uri.bytes();
    match bytes.next() {
        None => false,
        Some(b) if b.is_ascii_alphabetic() => {
            for b in bytes {
                match b {
                    b':' => return false,
                    b if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.') => {}
                    _ => return true,
                }
            }
            true
        }
        Some(_) => true,
    }
}

/// The element's qualified name and prefix as written in the input. roxmltree keeps only
/// the expanded name, but exclusive C14N needs the prefix actually used; the start tag is
/// read back from the input (elements from entity expansion point into the DTD, which
/// works the same way). Falls back to a prefix bound to the element's namespace if the
/// text does not match.
fn element_qname<'a>(text: &'a str, node: Node<'a, 'a>) -> (Cow<'a, str>, &'a str) {
    let local = node.tag_name().name();
    let uri = node.tag_name().namespace().unwrap_or("");
    let written = text
        .get(node.range().start + 1..)
        .map(|tail| {
            let end = tail
                .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
                .unwrap_or(tail.len());
            &tail[..end]
        })
        .unwrap_or_default();
    let (prefix, written_local) = written.split_once(':').unwrap_or(("", written));
    let bound = node
        .lookup_namespace_uri((!prefix.is_empty()).then_some(prefix))
        .unwrap_or("");
    if same(written_local, local) && same(bound, uri) {
        return (Cow::Borrowed(written), prefix);
    }
    match bound_prefix(node, uri) {
        Some(p) if !p.is_empty() => (Cow::Owned(format!("{p}:{local}")), p),
        _ => (Cow::Borrowed(local), ""),
    }
}

/// The attribute's qualified name and prefix as written (see [`element_qname`]).
fn attribute_qname<'a>(
    text: &'a str,
    node: Node<'a, 'a>,
    attr: &roxmltree::Attribute<'a, 'a>,
) -> (Cow<'a, str>, &'a str) {
    let local = attr.name();
    let written = text.get(attr.range_qname()).unwrap_or_default();
    let (prefix, written_local) = written.split_once(':').unwrap_or(("", written));
    if same(written_local, local) && prefix.is_empty() == attr.namespace().is_none() {
        return (Cow::Borrowed(written), prefix);
    }
    match attr.namespace() {
        None => (Cow::Borrowed(local), ""),
        Some(XML_NS) => (Cow::Owned(format!("xml:{local}")), "xml"),
        Some(uri) => {
            let p = node
                .namespaces()
                .filter(|ns| ns.uri() == uri)
                .find_map(roxmltree::Namespace::name)
                .unwrap_or_default();
            (Cow::Owned(format!("{p}:{local}")), p)
        }
    }
}

fn bound_prefix<'a>(node: Node<'a, 'a>, uri: &str) -> Option<&'a str> {
    node.namespaces()
        .find(|ns| ns.uri() == uri)
        .map(|ns| ns.name().unwrap_or(""))
}
