//! Reading HL7 v3: the bounded parse and a small navigator over the parsed tree whose
//! errors name the place (`line:column` and the element path, e.g.
//! `12:9 /PORX_IN020101SM31/ControlActEvent/subject/ParentPrescription/recordTarget`).
//!
//! The parse is the canonicaliser's ([`crate::c14n::parse_document_without_dtd`]): input
//! size, node count and nesting depth are bounded before roxmltree's recursive descent runs,
//! and a document type declaration is refused (HL7 v3 messages never carry one, and entity
//! expansion is not something a message reader should do). Elements are looked up by local
//! name in the HL7 v3 namespace, so `hl7:` prefixes and default namespaces read the same.

use crate::error::{Issue, IssueCode, Rejection};
use roxmltree::{Document, Node};
use std::borrow::Cow;

/// The HL7 v3 namespace.
pub const HL7_NS: &str = "urn:hl7-org:v3";

pub type Result<T> = std::result::Result<T, Rejection>;

/// Parses HL7 v3 text within the canonicaliser's bounds, refusing any DTD.
pub fn parse(text: &str) -> Result<Document<'_>> {
    crate::c14n::parse_document_without_dtd(text).map_err(|e| {
        if let crate::c14n::C14nError::Parse(roxmltree::Error::DtdDetected) = e {
            return Rejection::single(Issue::error(
                IssueCode::Structure,
                "a document type declaration (DTD) is not accepted in HL7 v3 input: entities are never expanded",
                e.position(text).map(|p| p.to_string()),
            ));
        }
        e.to_rejection(text)
    })
}

/// An HL7 v3 element of a parsed document.
#[derive(Clone, Copy)]
pub struct El<'a, 'i> {
    pub node: Node<'a, 'i>,
}

impl<'a, 'i: 'a> El<'a, 'i> {
    /// Wraps an element node.
    pub fn new(node: Node<'a, 'i>) -> Self {
        El { node }
    }

    /// The element's local name.
    pub fn name(&self) -> &'a str {
        self.node.tag_name().name()
    }

    /// Whether the element is in the HL7 v3 namespace.
    pub fn is_hl7(&self) -> bool {
        self.node.tag_name().namespace() == Some(HL7_NS)
    }

    /// Child elements named `name` in the HL7 v3 namespace, in document order.
    pub fn children(&self, name: &'static str) -> impl Iterator<Item = El<'a, 'i>> + 'a {
        self.node
            .children()
            .filter(move |c| {
                c.is_element()
                    && c.tag_name().name() == name
                    && c.tag_name().namespace() == Some(HL7_NS)
            })
            .map(El::new)
    }

    /// The first child element named `name`, if any.
    pub fn opt(&self, name: &'static str) -> Option<El<'a, 'i>> {
        self.children(name).next()
    }

    /// The first child element named `name`, or an error naming where it is missing.
    pub fn child(&self, name: &'static str) -> Result<El<'a, 'i>> {
        self.opt(name).ok_or_else(|| {
            self.error(
                IssueCode::Required,
                format!("required element '{name}' is missing"),
            )
        })
    }

    /// Follows a `/`-separated chain of child names, if every step exists.
    pub fn opt_path(&self, path: &'static str) -> Option<El<'a, 'i>> {
        let mut at = *self;
        for step in path.split('/') {
            at = at
                .node
                .children()
                .find(|c| {
                    c.is_element()
                        && c.tag_name().name() == step
                        && c.tag_name().namespace() == Some(HL7_NS)
                })
                .map(El::new)?;
        }
        Some(at)
    }

    /// Follows a `/`-separated chain of child names; the error names the first missing step.
    pub fn path(&self, path: &'static str) -> Result<El<'a, 'i>> {
        let mut at = *self;
        for step in path.split('/') {
            let next = at.node.children().find(|c| {
                c.is_element()
                    && c.tag_name().name() == step
                    && c.tag_name().namespace() == Some(HL7_NS)
            });
            at = match next {
                Some(n) => El::new(n),
                None => {
                    return Err(at.error(
                        IssueCode::Required,
                        format!("required element '{step}' is missing"),
                    ))
                }
            };
        }
        Ok(at)
    }

    /// An attribute (no namespace).
    pub fn attr(&self, name: &str) -> Option<&'a str> {
        self.node.attribute(name)
    }

    /// A required attribute.
    pub fn req_attr(&self, name: &str) -> Result<&'a str> {
        self.attr(name).ok_or_else(|| {
            self.error(
                IssueCode::Required,
                format!("required attribute '{name}' is missing"),
            )
        })
    }

    /// The element's text: its text (and CDATA) children joined; empty when it has none.
    pub fn text(&self) -> Cow<'a, str> {
        let mut texts = self.node.children().filter(|c| c.is_text());
        let Some(first) = texts.next() else {
            return Cow::Borrowed("");
        };
        let first = first.text().unwrap_or("");
        match texts.next() {
            None => Cow::Borrowed(first),
            Some(second) => {
                let mut all = String::from(first);
                all.push_str(second.text().unwrap_or(""));
                for t in texts {
                    all.push_str(t.text().unwrap_or(""));
                }
                Cow::Owned(all)
            }
        }
    }

    /// An error at this element: `line:column /element/path`.
    pub fn error(&self, code: IssueCode, message: impl Into<String>) -> Rejection {
        Rejection::single(Issue::error(code, message, Some(self.location())))
    }

    /// An `invalid value` error about an attribute of this element.
    pub fn bad_value(&self, attr: &str, message: impl Into<String>) -> Rejection {
        let message = message.into();
        Rejection::single(Issue::error(
            IssueCode::Value,
            message,
            Some(format!("{}/@{attr}", self.location())),
        ))
    }

    /// `line:column /element/path` of this element.
    pub fn location(&self) -> String {
        let pos = self.node.document().text_pos_at(self.node.range().start);
        format!("{}:{} {}", pos.row, pos.col, element_path(self.node))
    }
}

/// `/a/b[2]/c`: local names from the root, with a 1-based index where siblings share a name.
pub fn element_path(node: Node<'_, '_>) -> String {
    let mut steps = Vec::new();
    let mut at = Some(node);
    while let Some(n) = at {
        if n.is_element() {
            let name = n.tag_name().name();
            let same = |s: &Node| s.is_element() && s.tag_name().name() == name;
            let before = n.prev_siblings().skip(1).filter(same).count();
            let after = n.next_siblings().skip(1).filter(same).count();
            if before + after > 0 {
                steps.push(format!("{name}[{}]", before + 1));
            } else {
                steps.push(name.to_string());
            }
        }
        at = n.parent();
    }
    steps.reverse();
    format!("/{}", steps.join("/"))
}
