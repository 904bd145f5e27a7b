//! XML canonicalisation: exclusive XML Canonicalization 1.0 and Canonical XML 1.0, with or
//! without comments, of a whole document or of one element's subtree, over
//! [roxmltree](https://docs.rs/roxmltree) documents.
//!
//! * Exclusive C14N (`http://www.w3.org/2001/10/xml-exc-c14n#`, `#WithComments`) with an
//!   InclusiveNamespaces PrefixList (`#default` names the default namespace).
//! * Inclusive C14N 1.0 (`http://www.w3.org/TR/2001/REC-xml-c14n-20010315`, `#WithComments`);
//!   for a subtree, the apex also gets the in-scope namespaces and the inherited `xml:*`
//!   attributes of its ancestors (section 2.4).
//! * Selections: the whole document, or the subtree of one apex element — either a node
//!   the caller already has ([`canonicalize_node`]) or the first match of a small
//!   XPath-like selector ([`select`]; `/a/b`, `/*/*[1]`, `//p:name`, `//*`,
//!   `//*[local-name(.)='x']`, `//*[@Id='v']`). General XPath node-sets and C14N 1.1 are
//!   not supported.
//!
//! Input rules (see `docs/c14n.md`): relative namespace URIs are refused as C14N 1.0
//! requires; internal DTD entities are expanded and `<!ATTLIST>` defaults applied (read by
//! hand in `dtd.rs`, because roxmltree does not apply them); external entities are refused,
//! never fetched; input size, node count, nesting depth, entity expansion and output size
//! are bounded ([`parse_document`] and the `MAX_*` constants).
//!
//! Why by hand: no maintained crate gives exact, tested exclusive C14N on roxmltree.
//! Evaluated (2026): `xml_c14n` 0.3 and `libxml` 0.3 (libxml2 bindings: a C library and
//! `unsafe` FFI on the request path), `xmlsec` 0.3 and `samael` 0.0.22 (xmlsec1/libxml2
//! bindings, SAML-oriented), `xml-canonicalization` 0.1 (quick-xml stream; no entities,
//! no DTD defaults, no subsets), `xml-sec` 0.4 (pure Rust but its own DOM, DTDs disabled,
//! a whole crypto stack of dependencies and a fast-moving 0.x API), `bergshamra-c14n` 0.11
//! (pure Rust and thorough, but on its own `uppsala` parser rather than roxmltree, so a
//! second XML parser with its own DTD behaviour; young, single maintainer). There is no
//! `c14n` crate. The conformance vectors in the shared corpus and a differential test
//! against libxml2 keep this implementation honest.
//!
//! Performance: one pass in document order without recursion, writing into one `Vec<u8>`;
//! scratch vectors are reused across elements; escaping copies runs between special bytes.

mod canon;
mod dtd;
mod error;
mod escape;
mod parse;
mod prescan;
mod select;
#[cfg(test)]
mod tests;

pub use error::{C14nError, Pos};
pub use parse::{parse_document, parse_document_without_dtd};
pub use select::select;

use std::borrow::Cow;

use canon::{Settings, Writer};
use dtd::{AttributeDefaults, Prolog};

/// Largest input accepted by [`parse_document`], in bytes.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Most nodes (elements, text, comments, PIs) a parsed document may have.
pub const MAX_NODES: u32 = 1_000_000;
/// Deepest element nesting accepted (the document element is at depth 1). roxmltree
/// parses recursively, about 1 KB of stack per level in release builds and 6 KB in debug
/// builds, so this keeps parsing well inside a 2 MiB thread stack.
pub const MAX_DEPTH: usize = 128;
/// Most attributes (namespace declarations included) on one element: a shape bound far above
/// what any EPS message or XML-DSig signature carries (eleven at most in the reference
/// corpus). The parser's duplicate-attribute check is linear (`vendor/roxmltree/PATCHED.md`).
pub const MAX_ATTRIBUTES: usize = 256;
/// Most namespace declarations in scope at any element: the parser copies them onto every
/// element and resolves each name by searching them.
pub const MAX_NAMESPACES_IN_SCOPE: usize = 128;
/// Most bytes that all internal-entity references of a document may expand to.
pub const MAX_ENTITY_EXPANSION: u64 = 1024 * 1024;
/// Largest canonical form produced, in bytes.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// A canonicalisation algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Exclusive XML Canonicalization 1.0, comments omitted.
    Exclusive,
    /// Exclusive XML Canonicalization 1.0, comments kept.
    ExclusiveWithComments,
    /// Canonical XML 1.0, comments omitted.
    Inclusive,
    /// Canonical XML 1.0, comments kept.
    InclusiveWithComments,
}

impl Mode {
    /// All modes.
    pub const ALL: [Mode; 4] = [
        Mode::Exclusive,
        Mode::ExclusiveWithComments,
        Mode::Inclusive,
        Mode::InclusiveWithComments,
    ];

    /// The mode for a command-line name: `exc`, `exc-with-comments`, `c14n10`,
    /// `c14n10-with-comments`.
    #[must_use]
    pub fn from_cli(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.cli_name() == name)
    }

    /// The command-line name of the mode (see [`Mode::from_cli`]).
    #[must_use]
    pub fn cli_name(&self) -> &'static str {
        match self {
            Mode::Exclusive => "exc",
            Mode::ExclusiveWithComments => "exc-with-comments",
            Mode::Inclusive => "c14n10",
            Mode::InclusiveWithComments => "c14n10-with-comments",
        }
    }

    /// The mode an XML-DSig `Algorithm` URI names.
    #[must_use]
    pub fn from_uri(uri: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.algorithm_uri() == uri)
    }

    /// The XML-DSig algorithm URI of the mode.
    #[must_use]
    pub fn algorithm_uri(&self) -> &'static str {
        match self {
            Mode::Exclusive => "http://www.w3.org/2001/10/xml-exc-c14n#",
            Mode::ExclusiveWithComments => "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
            Mode::Inclusive => "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
            Mode::InclusiveWithComments => {
                "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
            }
        }
    }

    /// Whether this is exclusive canonicalisation.
    #[must_use]
    pub fn is_exclusive(&self) -> bool {
        matches!(self, Mode::Exclusive | Mode::ExclusiveWithComments)
    }

    /// Whether comments are kept.
    #[must_use]
    pub fn with_comments(&self) -> bool {
        matches!(
            self,
            Mode::ExclusiveWithComments | Mode::InclusiveWithComments
        )
    }
}

/// What [`canonicalize`] does.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// The algorithm.
    pub mode: Mode,
    /// InclusiveNamespaces PrefixList for exclusive modes (`"#default"` for the default
    /// namespace); ignored by the inclusive modes.
    pub inclusive_prefixes: Vec<String>,
    /// Selector of the apex element (see [`select`]); `None` for the whole document.
    pub subtree: Option<&'a str>,
    /// Prefix bindings for the selector, as (prefix, namespace URI).
    pub namespaces: Vec<(String, String)>,
}

impl Options<'_> {
    /// Whole-document canonicalisation in `mode`, no PrefixList.
    #[must_use]
    pub fn new(mode: Mode) -> Self {
        Options {
            mode,
            inclusive_prefixes: Vec::new(),
            subtree: None,
            namespaces: Vec::new(),
        }
    }
}

/// Normalises line ends (XML 1.0 section 2.11): `\r\n` and lone `\r` become `\n`.
/// Borrows when there is no carriage return. Apply before [`parse_document`]: roxmltree
/// leaves a few carriage returns unnormalised (see [`C14nError::LoneCarriageReturn`]).
#[must_use]
pub fn normalize_line_ends(text: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = rest[i + 1..].strip_prefix('\n').unwrap_or(&rest[i + 1..]);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Normalises line ends, parses `xml` (with [`parse_document`]'s bounds), selects the apex
/// if `opts.subtree` is set, and returns the canonical form.
///
/// # Errors
///
/// Any [`C14nError`]: malformed or refused input, an unsupported or unmatched selector, a
/// relative namespace URI, or output over [`MAX_OUTPUT_BYTES`].
pub fn canonicalize(xml: &str, opts: &Options) -> Result<Vec<u8>, C14nError> {
    let xml = normalize_line_ends(xml);
    let doc = parse_document(&xml)?;
    let node = match opts.subtree {
        Some(expr) => select(&doc, expr, &opts.namespaces)?,
        None => doc.root(),
    };
    let prefixes: Vec<&str> = opts.inclusive_prefixes.iter().map(String::as_str).collect();
    let mut out = Vec::with_capacity(xml.len());
    canonicalize_node(node, opts.mode, &prefixes, &mut out)?;
    Ok(out)
}

/// Appends to `out` the canonical form of `node`: the whole document if `node` is the
/// document (root) node, else the subtree of which element `node` is the apex.
///
/// `prefixes` is the InclusiveNamespaces PrefixList, used only by exclusive modes. The
/// document's internal DTD subset (from [`roxmltree::Document::input_text`]) supplies
/// attribute defaults. For untrusted text, parse with [`parse_document`], which applies
/// the input bounds.
///
/// # Errors
///
/// [`C14nError::NotAnElement`] for other nodes; [`C14nError::RelativeNamespaceUri`],
/// [`C14nError::Dtd`] for an internal subset that cannot be applied, and
/// [`C14nError::OutputTooLarge`]. On error `out` may hold a partial result.
pub fn canonicalize_node(
    node: roxmltree::Node,
    mode: Mode,
    prefixes: &[&str],
    out: &mut Vec<u8>,
) -> Result<(), C14nError> {
    canonicalize_node_with_layout(node, mode, prefixes, Layout::AsParsed, out)
}

/// Which text nodes a canonicalisation keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Every text node, as C14N defines.
    AsParsed,
    /// Every text node except those that are whitespace only (space, tab, CR, LF) and sit
    /// in an element that has element children: the indentation a pretty-printer put
    /// between elements. Text inside a leaf element is kept even when it is whitespace.
    /// Not C14N on its own: the signature verifier uses it for a `SignedInfo` that was
    /// signed compact and is carried indented (see `crate::verify`).
    WithoutWhitespaceBetweenElements,
}

/// [`canonicalize_node`], choosing which text nodes are kept.
///
/// # Errors
///
/// As [`canonicalize_node`].
pub fn canonicalize_node_with_layout(
    node: roxmltree::Node,
    mode: Mode,
    prefixes: &[&str],
    layout: Layout,
    out: &mut Vec<u8>,
) -> Result<(), C14nError> {
    let text = node.document().input_text();
    let prolog = Prolog::scan(text)?;
    let defaults = AttributeDefaults::new(text, &prolog)?;
    let settings = Settings {
        exclusive: mode.is_exclusive(),
        comments: mode.with_comments(),
        prefixes: if mode.is_exclusive() { prefixes } else { &[] },
        drop_whitespace_between_elements: layout == Layout::WithoutWhitespaceBetweenElements,
    };
    let mut writer = Writer::new(settings, &defaults, prolog.doctype, text, out);
    if node.is_root() {
        writer.document(node)
    } else if node.is_element() {
        writer.element_tree(node)
    } else {
        Err(C14nError::NotAnElement)
    }
}
