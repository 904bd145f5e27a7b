//! The HL7 v3 message tree: elements with attributes and either text or child elements.
//!
//! HL7 v3 EPS messages have no mixed content, so an element holds text or children, never
//! both. Attributes are kept sorted by name, which is the order the reference writes them in
//! (and the order exclusive C14N wants for unprefixed attributes), so both renderings can
//! stream them as they are.

use std::borrow::Cow;

/// An element name or attribute name: almost always a static string.
pub type Name = Cow<'static, str>;

/// An attribute value: often a static code or OID, so no allocation for those.
pub type Value = Cow<'static, str>;

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Content {
    #[default]
    Empty,
    Text(String),
    Children(Vec<Element>),
}

/// One HL7 v3 element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: Name,
    /// `xmlns` declarations first, then sorted by name; declarations are ordinary attributes here.
    pub attrs: Vec<(Name, Value)>,
    pub content: Content,
}

impl Element {
    /// An empty element.
    pub fn new(name: impl Into<Name>) -> Element {
        Element {
            name: name.into(),
            attrs: Vec::new(),
            content: Content::Empty,
        }
    }

    /// Adds (or replaces) an attribute, keeping attributes sorted by name.
    pub fn attr(mut self, name: impl Into<Name>, value: impl Into<Value>) -> Element {
        self.set_attr(name, value);
        self
    }

    /// Adds an attribute when the value is present.
    pub fn attr_opt(self, name: impl Into<Name>, value: Option<impl Into<Value>>) -> Element {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// Adds (or replaces) an attribute in place.
    pub fn set_attr(&mut self, name: impl Into<Name>, value: impl Into<Value>) {
        let name = name.into();
        let value = value.into();
        // Builders mostly add attributes in order: append without a search when it sorts last.
        if self
            .attrs
            .last()
            .is_none_or(|(last, _)| attr_order(last) < attr_order(&name))
        {
            self.attrs.push((name, value));
            return;
        }
        match self
            .attrs
            .binary_search_by(|(n, _)| attr_order(n).cmp(&attr_order(&name)))
        {
            Ok(i) => self.attrs[i].1 = value,
            Err(i) => self.attrs.insert(i, (name, value)),
        }
    }

    /// The value of an attribute.
    pub fn get_attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Sets the text content.
    pub fn text(mut self, text: impl Into<String>) -> Element {
        self.content = Content::Text(text.into());
        self
    }

    /// Appends a child element.
    pub fn child(mut self, child: Element) -> Element {
        self.push(child);
        self
    }

    /// Appends a child element when present.
    pub fn child_opt(self, child: Option<Element>) -> Element {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    /// Appends child elements.
    pub fn children(mut self, children: impl IntoIterator<Item = Element>) -> Element {
        for c in children {
            self.push(c);
        }
        self
    }

    /// Appends a child element in place.
    pub fn push(&mut self, child: Element) {
        match &mut self.content {
            Content::Children(list) => list.push(child),
            _ => self.content = Content::Children(vec![child]),
        }
    }

    /// The child elements (empty for a text or empty element).
    pub fn child_elements(&self) -> &[Element] {
        match &self.content {
            Content::Children(list) => list,
            _ => &[],
        }
    }

    /// The first child with a name.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.child_elements().iter().find(|c| c.name == name)
    }

    /// The text content, if any.
    pub fn text_content(&self) -> Option<&str> {
        match &self.content {
            Content::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// The reference's attribute order: `xmlns` declarations first, then by name.
fn attr_order(name: &str) -> (bool, &str) {
    (!(name == "xmlns" || name.starts_with("xmlns:")), name)
}

/// A common HL7 v3 shape: `<name root=".." extension=".."/>`.
pub fn id_element(name: &'static str, root: &'static str, extension: impl Into<Value>) -> Element {
    // In name order, so each is appended rather than inserted.
    Element::new(name)
        .attr("extension", extension)
        .attr("root", root)
}

/// `<name code=".." codeSystem=".."/>`.
pub fn code_element(
    name: &'static str,
    code: impl Into<Value>,
    code_system: &'static str,
) -> Element {
    Element::new(name)
        .attr("code", code)
        .attr("codeSystem", code_system)
}

/// `<name value=".."/>`.
pub fn value_element(name: &'static str, value: impl Into<Value>) -> Element {
    Element::new(name).attr("value", value)
}
