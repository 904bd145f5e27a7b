//! The error type of the canonicaliser.

use std::fmt;

/// A line and column in the input text, both counted from 1 (columns in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub col: u32,
}

impl Pos {
    /// The position of byte offset `offset` of `text`.
    pub(crate) fn at(text: &str, offset: usize) -> Pos {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let col = before[line_start..].chars().count() + 1;
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(col).unwrap_or(u32::MAX),
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Why a document could not be canonicalised.
///
/// Messages are lower-case without a trailing full stop; those about the input carry its
/// `line:column`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum C14nError {
    /// The input is not well-formed (or not namespace-well-formed) XML; from roxmltree,
    /// whose message carries the position.
    Parse(roxmltree::Error),
    /// The input is not well-formed in a way roxmltree lets through.
    Malformed {
        /// What is wrong.
        message: &'static str,
        /// Where.
        pos: Pos,
    },
    /// The input is larger than [`super::MAX_INPUT_BYTES`].
    InputTooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The document has more nodes than [`super::MAX_NODES`] (after entity expansion).
    TooManyNodes {
        /// The limit.
        limit: u32,
    },
    /// Elements are nested deeper than [`super::MAX_DEPTH`].
    TooDeep {
        /// The limit.
        limit: usize,
        /// Where the first element beyond the limit starts.
        pos: Pos,
    },
    /// An element has more than [`super::MAX_ATTRIBUTES`] attributes.
    TooManyAttributes {
        /// The limit.
        limit: usize,
        /// Where the element starts.
        pos: Pos,
    },
    /// More than [`super::MAX_NAMESPACES_IN_SCOPE`] namespace declarations are in scope.
    TooManyNamespaces {
        /// The limit.
        limit: usize,
        /// Where the element that declares one too many starts.
        pos: Pos,
    },
    /// Expanding the document's internal entities would produce more than
    /// [`super::MAX_ENTITY_EXPANSION`] bytes, or entities nest too deeply.
    EntityExpansion {
        /// Description of the limit that was hit.
        reason: &'static str,
        /// The entity reference that crossed the limit.
        pos: Pos,
    },
    /// The document refers to an external (or unparsed) entity, which is never fetched.
    ExternalEntity {
        /// The entity's name.
        name: String,
        /// Where it is referred to.
        pos: Pos,
    },
    /// A document type declaration the canonicaliser cannot apply faithfully.
    Dtd {
        /// What is wrong.
        message: String,
        /// Where.
        pos: Pos,
    },
    /// A lone carriage return right after a reference, which roxmltree does not normalise;
    /// [`super::canonicalize`] avoids this by normalising line ends first (see
    /// [`super::normalize_line_ends`]).
    LoneCarriageReturn {
        /// Where.
        pos: Pos,
    },
    /// A namespace declaration in the canonicalised node-set has a relative URI, which
    /// C14N 1.0 requires to be reported as a failure.
    RelativeNamespaceUri {
        /// The prefix (`None` for the default namespace).
        prefix: Option<String>,
        /// The URI.
        uri: String,
        /// The element where it is in scope.
        pos: Pos,
    },
    /// The subtree selector is not one of the supported forms, or binds no prefix.
    Selector {
        /// The expression.
        expr: String,
        /// What is wrong.
        message: String,
    },
    /// The subtree selector matched no element.
    NoMatch {
        /// The expression.
        expr: String,
    },
    /// The canonical form would exceed [`super::MAX_OUTPUT_BYTES`] (exclusive C14N can
    /// repeat one namespace declaration on every element that uses it).
    OutputTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// `canonicalize_node` was given a node that is neither an element nor the document.
    NotAnElement,
}

impl C14nError {
    /// Whether the input was refused for what it would cost (size, nodes, depth, attributes,
    /// namespaces, entity expansion, output size) rather than for being malformed: every
    /// entry point reports these with the issue code `too-costly`.
    pub fn is_too_costly(&self) -> bool {
        matches!(
            self,
            C14nError::InputTooLarge { .. }
                | C14nError::TooManyNodes { .. }
                | C14nError::TooDeep { .. }
                | C14nError::TooManyAttributes { .. }
                | C14nError::TooManyNamespaces { .. }
                | C14nError::EntityExpansion { .. }
                | C14nError::OutputTooLarge { .. }
        )
    }
}

impl C14nError {
    /// Where in `text` (the document that was parsed) the problem is, when it has a place.
    /// roxmltree reports the end-of-input errors (an unclosed root, a truncated document) at
    /// `1:1`; they are placed at the end of the text instead.
    pub fn position(&self, text: &str) -> Option<Pos> {
        use roxmltree::Error as X;
        match self {
            C14nError::Parse(e) => match e {
                X::NoRootNode | X::UnclosedRootNode | X::UnexpectedEndOfStream => {
                    Some(Pos::at(text, text.len()))
                }
                X::DtdDetected => Some(Pos::at(text, text.find("<!DOCTYPE").unwrap_or(0))),
                X::NodesLimitReached | X::AttributesLimitReached | X::NamespacesLimitReached => {
                    None
                }
                other => {
                    let p = other.pos();
                    Some(Pos {
                        line: p.row,
                        col: p.col,
                    })
                }
            },
            C14nError::Malformed { pos, .. }
            | C14nError::TooDeep { pos, .. }
            | C14nError::TooManyAttributes { pos, .. }
            | C14nError::TooManyNamespaces { pos, .. }
            | C14nError::EntityExpansion { pos, .. }
            | C14nError::ExternalEntity { pos, .. }
            | C14nError::Dtd { pos, .. }
            | C14nError::LoneCarriageReturn { pos }
            | C14nError::RelativeNamespaceUri { pos, .. } => Some(*pos),
            _ => None,
        }
    }

    /// The refusal of `text`: `too-costly` for the cost limits, `structure` otherwise, with
    /// the `line:column` as the issue's expression where the problem has a place.
    pub fn to_rejection(&self, text: &str) -> crate::error::Rejection {
        crate::error::Rejection::single(crate::error::Issue::error(
            self.issue_code(),
            self.to_string(),
            self.position(text).map(|p| p.to_string()),
        ))
    }

    fn issue_code(&self) -> crate::error::IssueCode {
        if self.is_too_costly() {
            crate::error::IssueCode::TooCostly
        } else {
            crate::error::IssueCode::Structure
        }
    }
}

impl From<&C14nError> for crate::error::Rejection {
    /// The refusal of a document, without its position (see [`C14nError::to_rejection`]).
    fn from(e: &C14nError) -> Self {
        crate::error::Rejection::single(crate::error::Issue::error(
            e.issue_code(),
            e.to_string(),
            None,
        ))
    }
}

impl fmt::Display for C14nError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            C14nError::Parse(e) => write!(f, "malformed xml: {e}"),
            C14nError::Malformed { message, pos } => write!(f, "malformed xml at {pos}: {message}"),
            C14nError::InputTooLarge { size, limit } => {
                write!(f, "input is {size} bytes, over the limit of {limit} bytes")
            }
            C14nError::TooManyNodes { limit } => {
                write!(f, "document has more than {limit} nodes")
            }
            C14nError::TooDeep { limit, pos } => {
                write!(f, "elements nested deeper than {limit} levels at {pos}")
            }
            C14nError::TooManyAttributes { limit, pos } => {
                write!(f, "element at {pos} has more than {limit} attributes")
            }
            C14nError::TooManyNamespaces { limit, pos } => write!(
                f,
                "more than {limit} namespace declarations in scope at the element at {pos}"
            ),
            C14nError::EntityExpansion { reason, pos } => {
                write!(f, "entity expansion refused at {pos}: {reason}")
            }
            C14nError::ExternalEntity { name, pos } => write!(
                f,
                "external entity '{name}' referred to at {pos} is never fetched"
            ),
            C14nError::Dtd { message, pos } => {
                write!(f, "unsupported document type declaration at {pos}: {message}")
            }
            C14nError::LoneCarriageReturn { pos } => write!(
                f,
                "lone carriage return after a reference at {pos}: normalise line ends before parsing"
            ),
            C14nError::RelativeNamespaceUri { prefix, uri, pos } => {
                let name = prefix.as_deref().map_or_else(
                    || "the default namespace".to_string(),
                    |p| format!("prefix '{p}'"),
                );
                write!(
                    f,
                    "relative namespace uri '{uri}' for {name} in scope at {pos}: c14n 1.0 refuses relative namespace uris"
                )
            }
            C14nError::Selector { expr, message } => {
                write!(f, "unsupported subtree selector '{expr}': {message}")
            }
            C14nError::NoMatch { expr } => {
                write!(f, "subtree selector '{expr}' matched no element")
            }
            C14nError::OutputTooLarge { limit } => {
                write!(f, "canonical form would exceed {limit} bytes")
            }
            C14nError::NotAnElement => {
                write!(f, "only an element or the whole document can be canonicalised")
            }
        }
    }
}

impl std::error::Error for C14nError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            C14nError::Parse(e) => Some(e),
            _ => None,
        }
    }
}

impl From<roxmltree::Error> for C14nError {
    fn from(e: roxmltree::Error) -> Self {
        match e {
            roxmltree::Error::NodesLimitReached => C14nError::TooManyNodes {
                limit: super::MAX_NODES,
            },
            other => C14nError::Parse(other),
        }
    }
}
