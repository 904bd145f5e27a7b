//! A small reader for the document type declaration's internal subset.
//!
//! roxmltree expands internal entities but neither applies `<!ATTLIST>` default values nor
//! normalises the values of attributes declared with a non-CDATA type, both of which the
//! C14N data model includes (C14N 1.0 section 1.1; the spec's example 3.4 and the
//! vectors rely on them). roxmltree also keeps comments and processing instructions of the
//! internal subset as document-level nodes, which are not part of the XPath data model.
//! This module reads just enough of the prolog to fix those three things, and to bound
//! entity expansion before roxmltree expands anything:
//!
//! * the byte range of `<!DOCTYPE …>`;
//! * `<!ENTITY>` declarations (internal value, external, or unparsed);
//! * `<!ATTLIST>` declarations (type CDATA or not, default value).
//!
//! `<!ELEMENT>` and `<!NOTATION>` are skipped; parameter-entity references in the internal
//! subset are refused (roxmltree refuses them too). The external subset is never read.

use std::collections::HashMap;
use std::ops::Range;

use super::error::{C14nError, Pos};
use super::MAX_ENTITY_EXPANSION;

/// How deep internal entities may nest (the same bound roxmltree applies).
pub(crate) const MAX_ENTITY_DEPTH: usize = 10;

/// What the prolog declares.
#[derive(Default)]
pub(crate) struct Prolog<'a> {
    /// Byte range of the whole `<!DOCTYPE …>` declaration.
    pub doctype: Option<Range<usize>>,
    /// Entity declarations in document order.
    pub entities: Vec<EntityDecl<'a>>,
    /// Attribute declarations in document order.
    pub attributes: Vec<AttDecl<'a>>,
}

/// One `<!ENTITY>` declaration.
pub(crate) struct EntityDecl<'a> {
    pub name: &'a str,
    pub parameter: bool,
    pub value: EntityValue<'a>,
}

impl EntityDecl<'_> {
    /// Whether this declares parameter entity `name`.
    pub(crate) fn is_parameter(&self, name: &str) -> bool {
        self.parameter && self.name == name
    }
}

/// The definition of an entity.
#[derive(Clone, Copy)]
pub(crate) enum EntityValue<'a> {
    /// Literal replacement text, as written between the quotes.
    Internal(&'a str),
    /// `SYSTEM`/`PUBLIC` parsed entity: never fetched.
    External,
    /// `NDATA` entity: not usable as a reference.
    Unparsed,
}

/// One attribute definition of an `<!ATTLIST>` declaration.
pub(crate) struct AttDecl<'a> {
    pub element: &'a str,
    pub name: &'a str,
    /// Declared type is CDATA (no extra whitespace normalisation).
    pub cdata: bool,
    /// The default literal as written between the quotes, when there is one.
    pub default: Option<&'a str>,
    /// Offset of the declaration, for errors.
    pub offset: usize,
}

impl<'a> Prolog<'a> {
    /// Reads the prolog of `text` up to the first element.
    pub(crate) fn scan(text: &'a str) -> Result<Prolog<'a>, C14nError> {
        let mut s = Scanner { text, pos: 0 };
        let mut prolog = Prolog::default();
        if text.starts_with('\u{feff}') {
            s.pos = 3;
        }
        loop {
            s.skip_ws();
            if s.starts_with("<?") {
                s.skip_past("?>")?;
            } else if s.starts_with("<!--") {
                s.skip_past("-->")?;
            } else if s.starts_with("<!DOCTYPE") {
                let start = s.pos;
                s.doctype(&mut prolog)?;
                prolog.doctype = Some(start..s.pos);
                return Ok(prolog);
            } else {
                return Ok(prolog);
            }
        }
    }

    /// The binding (first) declaration of general entity `name`.
    pub(crate) fn general_entity(&self, name: &str) -> Option<&EntityDecl<'a>> {
        self.entities
            .iter()
            .find(|e| !e.parameter && e.name == name)
    }
}

/// A cursor over the prolog.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    fn error(&self, message: impl Into<String>) -> C14nError {
        C14nError::Dtd {
            message: message.into(),
            pos: Pos::at(self.text, self.pos),
        }
    }

    fn skip_ws(&mut self) -> bool {
        let before = self.pos;
        let n = self
            .rest()
            .bytes()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        self.pos += n;
        self.pos > before
    }

    fn require_ws(&mut self) -> Result<(), C14nError> {
        if self.skip_ws() {
            Ok(())
        } else {
            Err(self.error("expected whitespace"))
        }
    }

    fn expect(&mut self, s: &str) -> Result<(), C14nError> {
        if self.starts_with(s) {
            self.pos += s.len();
            Ok(())
        } else {
            Err(self.error(format!("expected '{s}'")))
        }
    }

    fn skip_past(&mut self, end: &str) -> Result<(), C14nError> {
        match self.rest().find(end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err(self.error(format!("unterminated construct, expected '{end}'"))),
        }
    }

    /// A name up to whitespace or a delimiter. roxmltree skips `<!ATTLIST>` unread, so the
    /// names applied from it are checked here: an XML name, and a namespace-valid QName.
    fn name(&mut self) -> Result<&'a str, C14nError> {
        let len = self
            .rest()
            .find(|c: char| {
                c.is_ascii_whitespace() || matches!(c, '>' | '(' | ')' | '|' | '"' | '\'' | '%')
            })
            .unwrap_or(self.rest().len());
        let name = &self.rest()[..len];
        if !is_qname(name) {
            return Err(self.error(format!("invalid name '{name}'")));
        }
        self.pos += len;
        Ok(name)
    }

    /// A quoted literal; returns the text between the quotes.
    fn literal(&mut self) -> Result<&'a str, C14nError> {
        let quote = match self.rest().as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) => q as char,
            _ => return Err(self.error("expected a quoted literal")),
        };
        self.pos += 1;
        let len = self
            .rest()
            .find(quote)
            .ok_or_else(|| self.error("unterminated literal"))?;
        let value = &self.rest()[..len];
        self.pos += len + 1;
        Ok(value)
    }

    /// `'<!DOCTYPE' S Name (S ExternalID)? S? ('[' intSubset ']' S?)? '>'`
    fn doctype(&mut self, prolog: &mut Prolog<'a>) -> Result<(), C14nError> {
        self.pos += "<!DOCTYPE".len();
        self.require_ws()?;
        self.name()?;
        self.skip_ws();
        self.external_id()?;
        self.skip_ws();
        if self.starts_with("[") {
            self.pos += 1;
            self.internal_subset(prolog)?;
            self.skip_ws();
        }
        self.expect(">")
    }

    /// `('SYSTEM' S SystemLiteral | 'PUBLIC' S PubidLiteral S SystemLiteral)?`
    fn external_id(&mut self) -> Result<bool, C14nError> {
        if self.starts_with("SYSTEM") {
            self.pos += 6;
            self.skip_ws();
            self.literal()?;
        } else if self.starts_with("PUBLIC") {
            self.pos += 6;
            self.skip_ws();
            self.literal()?;
            self.skip_ws();
            self.literal()?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    fn internal_subset(&mut self, prolog: &mut Prolog<'a>) -> Result<(), C14nError> {
        loop {
            self.skip_ws();
            if self.starts_with("]") {
                self.pos += 1;
                return Ok(());
            } else if self.starts_with("<!ENTITY") {
                let decl = self.entity_decl()?;
                prolog.entities.push(decl);
            } else if self.starts_with("<!ATTLIST") {
                self.attlist_decl(&mut prolog.attributes)?;
            } else if self.starts_with("<!ELEMENT") || self.starts_with("<!NOTATION") {
                self.skip_markup_decl()?;
            } else if self.starts_with("<!--") {
                self.skip_past("-->")?;
            } else if self.starts_with("<?") {
                self.skip_past("?>")?;
            } else if self.starts_with("%") {
                return Err(self.error("parameter entity references are not supported"));
            } else {
                return Err(self.error("unexpected content in the internal subset"));
            }
        }
    }

    /// Skips a declaration up to its closing `>`, stepping over quoted literals.
    fn skip_markup_decl(&mut self) -> Result<(), C14nError> {
        while let Some(c) = self.rest().chars().next() {
            match c {
                '>' => {
                    self.pos += 1;
                    return Ok(());
                }
                '"' | '\'' => {
                    self.literal()?;
                }
                _ => self.pos += c.len_utf8(),
            }
        }
        Err(self.error("unterminated declaration"))
    }

    /// `'<!ENTITY' S ('%' S)? Name S (EntityValue | ExternalID (S 'NDATA' S Name)?) S? '>'`
    fn entity_decl(&mut self) -> Result<EntityDecl<'a>, C14nError> {
        self.pos += "<!ENTITY".len();
        self.require_ws()?;
        let parameter = self.starts_with("%");
        if parameter {
            self.pos += 1;
            self.require_ws()?;
        }
        let name = self.name()?;
        self.require_ws()?;
        let value = if self.external_id()? {
            self.skip_ws();
            if self.starts_with("NDATA") {
                self.pos += 5;
                self.require_ws()?;
                self.name()?;
                EntityValue::Unparsed
            } else {
                EntityValue::External
            }
        } else {
            EntityValue::Internal(self.literal()?)
        };
        self.skip_ws();
        self.expect(">")?;
        Ok(EntityDecl {
            name,
            parameter,
            value,
        })
    }

    /// `'<!ATTLIST' S Name (S Name S AttType S DefaultDecl)* S? '>'`
    fn attlist_decl(&mut self, out: &mut Vec<AttDecl<'a>>) -> Result<(), C14nError> {
        let offset = self.pos;
        self.pos += "<!ATTLIST".len();
        self.require_ws()?;
        let element = self.name()?;
        loop {
            self.skip_ws();
            if self.starts_with(">") {
                self.pos += 1;
                return Ok(());
            }
            let name = self.name()?;
            self.require_ws()?;
            let cdata = self.att_type()?;
            self.require_ws()?;
            let default = self.default_decl()?;
            out.push(AttDecl {
                element,
                name,
                cdata,
                default,
                offset,
            });
        }
    }

    /// Reads an attribute type; returns whether it is CDATA.
    fn att_type(&mut self) -> Result<bool, C14nError> {
        if self.starts_with("(") {
            self.skip_past(")")?;
            return Ok(false);
        }
        match self.name()? {
            "CDATA" => Ok(true),
            "ID" | "IDREF" | "IDREFS" | "ENTITY" | "ENTITIES" | "NMTOKEN" | "NMTOKENS" => Ok(false),
            "NOTATION" => {
                self.skip_ws();
                self.expect("(")?;
                self.skip_past(")")?;
                Ok(false)
            }
            other => Err(self.error(format!("unknown attribute type '{other}'"))),
        }
    }

    /// `'#REQUIRED' | '#IMPLIED' | (('#FIXED' S)? AttValue)`
    fn default_decl(&mut self) -> Result<Option<&'a str>, C14nError> {
        if self.starts_with("#REQUIRED") {
            self.pos += 9;
            Ok(None)
        } else if self.starts_with("#IMPLIED") {
            self.pos += 8;
            Ok(None)
        } else {
            if self.starts_with("#FIXED") {
                self.pos += 6;
                self.require_ws()?;
            }
            self.literal().map(Some)
        }
    }
}

/// One attribute definition ready to apply: defaults normalised, names split.
pub(crate) struct AttDef<'a> {
    pub qname: &'a str,
    pub prefix: &'a str,
    pub local: &'a str,
    pub cdata: bool,
    /// The normalised default value, if the attribute has one.
    pub default: Option<String>,
    pub offset: usize,
}

/// The attribute definitions of the internal subset, by element name.
#[derive(Default)]
pub(crate) struct AttributeDefaults<'a> {
    by_element: HashMap<&'a str, Vec<AttDef<'a>>>,
}

impl<'a> AttributeDefaults<'a> {
    /// Indexes the declarations of `prolog` (the first declaration of an attribute binds).
    pub(crate) fn new(text: &'a str, prolog: &Prolog<'a>) -> Result<Self, C14nError> {
        let mut by_element: HashMap<&'a str, Vec<AttDef<'a>>> = HashMap::new();
        for decl in &prolog.attributes {
            let defs = by_element.entry(decl.element).or_default();
            if defs.iter().any(|d| d.qname == decl.name) {
                continue;
            }
            let default = match decl.default {
                Some(raw) => Some(default_value(raw, decl.cdata, prolog).map_err(|message| {
                    C14nError::Dtd {
                        message,
                        pos: Pos::at(text, decl.offset),
                    }
                })?),
                None => None,
            };
            let (prefix, local) = decl.name.split_once(':').unwrap_or(("", decl.name));
            defs.push(AttDef {
                qname: decl.name,
                prefix,
                local,
                cdata: decl.cdata,
                default,
                offset: decl.offset,
            });
        }
        Ok(AttributeDefaults { by_element })
    }

    /// The definitions for elements named `qname`.
    pub(crate) fn for_element(&self, qname: &str) -> &[AttDef<'a>] {
        self.by_element.get(qname).map_or(&[], Vec::as_slice)
    }
}

/// Normalises an attribute-default literal as an XML processor normalises attribute values
/// (XML 1.0 section 3.3.3): references replaced, white space characters become spaces, and
/// for non-CDATA types spaces are collapsed.
fn default_value(raw: &str, cdata: bool, prolog: &Prolog) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    expand_att_value(raw, prolog, 0, &mut out)?;
    Ok(if cdata { out } else { collapse_spaces(&out) })
}

fn expand_att_value(
    raw: &str,
    prolog: &Prolog,
    depth: usize,
    out: &mut String,
) -> Result<(), String> {
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\r' => {
                if chars.peek().map(|&(_, n)| n) == Some('\n') {
                    chars.next();
                }
                out.push(' ');
            }
            '\t' | '\n' => out.push(' '),
            '<' => return Err("'<' in an attribute default value".to_string()),
            '&' => {
                let end = raw[i..]
                    .find(';')
                    .ok_or_else(|| "malformed reference in an attribute default".to_string())?;
                let name = &raw[i + 1..i + end];
                expand_reference(name, prolog, depth, out)?;
                while chars.peek().is_some_and(|&(k, _)| k <= i + end) {
                    chars.next();
                }
            }
            c => out.push(c),
        }
        if out.len() as u64 > MAX_ENTITY_EXPANSION {
            return Err("attribute default expands beyond the size limit".to_string());
        }
    }
    Ok(())
}

fn expand_reference(
    name: &str,
    prolog: &Prolog,
    depth: usize,
    out: &mut String,
) -> Result<(), String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => num.parse::<u32>(),
        };
        let c = code
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("invalid character reference '&{name};'"))?;
        out.push(c);
        return Ok(());
    }
    let predefined = match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    };
    if let Some(c) = predefined {
        out.push(c);
        return Ok(());
    }
    match prolog.general_entity(name).map(|e| e.value) {
        Some(EntityValue::Internal(value)) if depth < MAX_ENTITY_DEPTH => {
            expand_att_value(value, prolog, depth + 1, out)
        }
        Some(EntityValue::Internal(_)) => Err("entities nest too deeply".to_string()),
        Some(_) => Err(format!("external entity '{name}' in an attribute default")),
        None => Err(format!(
            "undeclared entity '{name}' in an attribute default"
        )),
    }
}

/// Non-CDATA attribute normalisation: drop leading and trailing spaces and collapse runs
/// of spaces (only U+0020; tabs and line breaks from character references stay).
pub(crate) fn collapse_spaces(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for part in value.split(' ').filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// `NCName (':' NCName)?`, with XML 1.0 name characters (non-ASCII accepted as letters).
fn is_qname(name: &str) -> bool {
    let mut parts = name.split(':');
    let ok = parts.next().is_some_and(is_ncname) && parts.next().is_none_or(is_ncname);
    ok && parts.next().is_none()
}

fn is_ncname(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_alphabetic() || !c.is_ascii())
        && chars.all(|c| matches!(c, '_' | '-' | '.') || c.is_alphanumeric() || !c.is_ascii())
}
