//! A tiny subtree selector: the few XPath 1.0 location paths that XML-DSig same-document
//! references and the conformance vectors use to name an apex element. Not general XPath.
//!
//! Grammar (whitespace allowed only inside predicates):
//!
//! ```text
//! path      ::= ('/' | '//') step (('/' | '//') step)*
//! step      ::= nametest predicate*
//! nametest  ::= '*' | NCName | prefix ':' NCName | prefix ':' '*'
//! predicate ::= '[' ( Digits
//!                   | '@' (prefix ':')? NCName '=' Literal
//!                   | 'local-name(' '.'? ')' '=' Literal ) ']'
//! ```
//!
//! `//step` means `/descendant-or-self::node()/child::step`, as in XPath, so positions in
//! `[n]` count among the children of one parent. Prefixes are bound by the caller's map;
//! an unprefixed name test matches only elements in no namespace (XPath 1.0).

use roxmltree::{Document, Node};

use super::error::C14nError;

/// Returns the first element, in document order, that `expr` selects in `doc`.
///
/// `namespaces` binds the prefixes used in `expr` (`("ds", "http://www.w3.org/2000/09/xmldsig#")`).
///
/// # Errors
///
/// [`C14nError::Selector`] if `expr` is not one of the supported forms or uses an unbound
/// prefix; [`C14nError::NoMatch`] if it selects no element.
pub fn select<'a, 'input>(
    doc: &'a Document<'input>,
    expr: &str,
    namespaces: &[(String, String)],
) -> Result<Node<'a, 'input>, C14nError> {
    let steps = Parser::new(expr, namespaces).path()?;
    let mut context = vec![doc.root()];
    for step in &steps {
        context = step.apply(&context);
        if context.is_empty() {
            break;
        }
    }
    context
        .into_iter()
        .min_by_key(|n| n.id().get())
        .ok_or_else(|| C14nError::NoMatch {
            expr: expr.to_string(),
        })
}

/// One location step.
struct Step {
    descendant: bool,
    test: NameTest,
    predicates: Vec<Predicate>,
}

/// Which elements a step's name test accepts.
enum NameTest {
    Any,
    /// Namespace URI (`None` for no namespace), and local name (`None` for `p:*`).
    Name(Option<String>, Option<String>),
}

enum Predicate {
    Position(usize),
    Attribute(Option<String>, String, String),
    LocalName(String),
}

impl Step {
    /// The elements this step selects from `context`, in document order without duplicates.
    fn apply<'a, 'input>(&self, context: &[Node<'a, 'input>]) -> Vec<Node<'a, 'input>> {
        let parents: Vec<Node> = if self.descendant {
            // Each node once: node ids are in document order and a subtree's ids are
            // contiguous, so a context node inside a subtree already taken adds nothing.
            let mut roots = context.to_vec();
            roots.sort_by_key(|n| n.id().get());
            let mut all: Vec<Node> = Vec::new();
            for root in roots {
                if all
                    .last()
                    .is_some_and(|last| last.id().get() >= root.id().get())
                {
                    continue;
                }
                all.extend(root.descendants());
            }
            all
        } else {
            context.to_vec()
        };
        let mut out = Vec::new();
        for parent in parents {
            let mut hits: Vec<Node> = parent
                .children()
                .filter(|c| c.is_element() && self.test.matches(*c))
                .collect();
            for predicate in &self.predicates {
                hits = predicate.filter(hits);
            }
            out.extend(hits);
        }
        out
    }
}

impl NameTest {
    fn matches(&self, node: Node) -> bool {
        match self {
            NameTest::Any => true,
            NameTest::Name(uri, local) => {
                // roxmltree reports `Some("")` for elements under `xmlns=""`.
                let name = node.tag_name();
                name.namespace().filter(|u| !u.is_empty()) == uri.as_deref()
                    && local.as_deref().is_none_or(|l| l == name.name())
            }
        }
    }
}

impl Predicate {
    fn filter<'a, 'input>(&self, nodes: Vec<Node<'a, 'input>>) -> Vec<Node<'a, 'input>> {
        match self {
            Predicate::Position(n) => nodes.into_iter().skip(n - 1).take(1).collect(),
            Predicate::Attribute(uri, local, value) => nodes
                .into_iter()
                .filter(|node| {
                    let found = match uri {
                        Some(uri) => node.attribute((uri.as_str(), local.as_str())),
                        None => node.attribute(local.as_str()),
                    };
                    found == Some(value.as_str())
                })
                .collect(),
            Predicate::LocalName(name) => nodes
                .into_iter()
                .filter(|node| node.tag_name().name() == name)
                .collect(),
        }
    }
}

/// A recursive-descent reader of the grammar above.
struct Parser<'e> {
    expr: &'e str,
    rest: &'e str,
    namespaces: &'e [(String, String)],
}

impl<'e> Parser<'e> {
    fn new(expr: &'e str, namespaces: &'e [(String, String)]) -> Self {
        Parser {
            expr,
            rest: expr.trim(),
            namespaces,
        }
    }

    fn error(&self, message: impl Into<String>) -> C14nError {
        C14nError::Selector {
            expr: self.expr.to_string(),
            message: message.into(),
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        match self.rest.strip_prefix(s) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn path(&mut self) -> Result<Vec<Step>, C14nError> {
        let mut steps = Vec::new();
        while !self.rest.is_empty() {
            let descendant = if self.eat("//") {
                true
            } else if self.eat("/") {
                false
            } else {
                return Err(self.error(
                    "expected '/' or '//' (only absolute paths of element steps are supported)",
                ));
            };
            steps.push(self.step(descendant)?);
        }
        if steps.is_empty() {
            return Err(self.error("empty path"));
        }
        Ok(steps)
    }

    fn step(&mut self, descendant: bool) -> Result<Step, C14nError> {
        let test = self.name_test()?;
        let mut predicates = Vec::new();
        while self.eat("[") {
            self.skip_ws();
            predicates.push(self.predicate()?);
            self.skip_ws();
            if !self.eat("]") {
                return Err(self.error("expected ']'"));
            }
        }
        Ok(Step {
            descendant,
            test,
            predicates,
        })
    }

    fn ncname(&mut self) -> Option<&'e str> {
        let len = self
            .rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(self.rest.len());
        let (name, rest) = self.rest.split_at(len);
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_');
        if valid {
            self.rest = rest;
            Some(name)
        } else {
            None
        }
    }

    fn resolve(&self, prefix: &str) -> Result<String, C14nError> {
        self.namespaces
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, uri)| uri.clone())
            .ok_or_else(|| self.error(format!("prefix '{prefix}' is not bound")))
    }

    fn name_test(&mut self) -> Result<NameTest, C14nError> {
        if self.eat("*") {
            return Ok(NameTest::Any);
        }
        let first = self
            .ncname()
            .ok_or_else(|| self.error("expected an element name or '*'"))?;
        if self.rest.starts_with('(') {
            return Err(self.error("node tests other than names are not supported"));
        }
        if self.rest.starts_with("::") {
            return Err(self.error("axes are not supported"));
        }
        if !self.eat(":") {
            return Ok(NameTest::Name(None, Some(first.to_string())));
        }
        let uri = self.resolve(first)?;
        if self.eat("*") {
            return Ok(NameTest::Name(Some(uri), None));
        }
        let local = self
            .ncname()
            .ok_or_else(|| self.error("expected a local name after ':'"))?;
        Ok(NameTest::Name(Some(uri), Some(local.to_string())))
    }

    fn predicate(&mut self) -> Result<Predicate, C14nError> {
        let digits = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let (n, rest) = self.rest.split_at(digits);
            self.rest = rest;
            return match n.parse::<usize>() {
                Ok(n) if n > 0 => Ok(Predicate::Position(n)),
                _ => Err(self.error("positions count from 1")),
            };
        }
        if self.eat("@") {
            let (uri, local) = self.attribute_name()?;
            let value = self.equals_literal()?;
            return Ok(Predicate::Attribute(uri, local, value));
        }
        if self.eat("local-name(") {
            self.skip_ws();
            self.eat(".");
            self.skip_ws();
            if !self.eat(")") {
                return Err(self.error("local-name() takes no argument but '.'"));
            }
            return Ok(Predicate::LocalName(self.equals_literal()?));
        }
        Err(self
            .error("only [n], [@name='value'] and [local-name(.)='name'] predicates are supported"))
    }

    fn attribute_name(&mut self) -> Result<(Option<String>, String), C14nError> {
        let first = self
            .ncname()
            .ok_or_else(|| self.error("expected an attribute name after '@'"))?;
        if !self.eat(":") {
            return Ok((None, first.to_string()));
        }
        let uri = self.resolve(first)?;
        let local = self
            .ncname()
            .ok_or_else(|| self.error("expected a local name after ':'"))?;
        Ok((Some(uri), local.to_string()))
    }

    fn equals_literal(&mut self) -> Result<String, C14nError> {
        self.skip_ws();
        if !self.eat("=") {
            return Err(self.error("expected '='"));
        }
        self.skip_ws();
        let Some(quote @ ('\'' | '"')) = self.rest.chars().next() else {
            return Err(self.error("expected a quoted literal"));
        };
        let body = &self.rest[1..];
        let end = body
            .find(quote)
            .ok_or_else(|| self.error("unterminated literal"))?;
        let value = body[..end].to_string();
        self.rest = &body[end + 1..];
        Ok(value)
    }
}
