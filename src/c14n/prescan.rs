//! A pre-parse scan of the document body, run before roxmltree sees the text.
//!
//! roxmltree parses elements by recursive descent (about 1 KB of stack per nesting level in
//! release builds, several KB in debug builds), so a deeply nested document would overflow
//! the stack — an abort, not an error. Its entity expansion is bounded per reference
//! (depth 10, 255 references) but not in total, so one large entity referenced many times
//! would still expand to gigabytes. This scan measures both first, without building
//! anything: element nesting (counting what entity replacement texts add), and the total
//! size of all entity expansions. It also refuses references to external, unparsed and
//! parameter entities with a clear error.
//!
//! It is a tokenizer only as far as needed to count: comments, CDATA sections and
//! processing instructions are skipped, quoted attribute values are stepped over, and
//! everything else is left for roxmltree to check.

use std::collections::HashMap;

use super::dtd::{EntityValue, Prolog, MAX_ENTITY_DEPTH};
use super::error::{C14nError, Pos};
use super::{MAX_ATTRIBUTES, MAX_DEPTH, MAX_ENTITY_EXPANSION, MAX_NAMESPACES_IN_SCOPE};

// The entity nesting refusal names this limit in its text.
const _: () = assert!(MAX_ENTITY_DEPTH == 10);

/// Checks nesting depth and entity references of the text after the prolog.
pub(crate) fn check_body(text: &str, prolog: &Prolog) -> Result<(), C14nError> {
    let start = prolog.doctype.as_ref().map_or(0, |d| d.end);
    let mut entities = Entities {
        prolog,
        memo: HashMap::new(),
    };
    let mut total: u64 = 0;
    let mut reference = |name: &str, offset: usize, depth: usize| {
        let at = || Pos::at(text, offset);
        let info = entities.info(name, 0, &at)?;
        total = total.saturating_add(info.size);
        if total > MAX_ENTITY_EXPANSION {
            return Err(C14nError::EntityExpansion {
                reason: "internal entities expand beyond the size limit",
                pos: at(),
            });
        }
        if depth + info.depth > MAX_DEPTH {
            return Err(too_deep(text, offset));
        }
        Ok(info.depth)
    };
    // Namespace declarations in scope, per open element: roxmltree copies every in-scope
    // declaration onto each element and resolves names by searching them, so their number
    // multiplies the cost of every element below.
    let mut declared: Vec<usize> = Vec::new();
    let mut in_scope = 0usize;
    let mut on_tag = |tag: Tag<'_>| match tag {
        Tag::Start {
            depth,
            offset,
            text: tag_text,
            self_closing,
        } => {
            if depth > MAX_DEPTH {
                return Err(too_deep(text, offset));
            }
            let (attributes, declarations) = attribute_counts(tag_text);
            if attributes > MAX_ATTRIBUTES {
                return Err(C14nError::TooManyAttributes {
                    limit: MAX_ATTRIBUTES,
                    pos: Pos::at(text, offset),
                });
            }
            if in_scope + declarations > MAX_NAMESPACES_IN_SCOPE {
                return Err(C14nError::TooManyNamespaces {
                    limit: MAX_NAMESPACES_IN_SCOPE,
                    pos: Pos::at(text, offset),
                });
            }
            if !self_closing {
                in_scope += declarations;
                declared.push(declarations);
            }
            Ok(())
        }
        Tag::End => {
            in_scope -= declared.pop().unwrap_or(0);
            Ok(())
        }
    };
    walk(text, start, &mut reference, &mut on_tag)?;
    check_lone_carriage_returns(text, start)
}

/// roxmltree copies the byte right after a character or predefined-entity reference
/// without line-end normalisation, so `&amp;` + CR + `<` keeps the CR. Refuses a lone CR
/// right after a reference; [`super::canonicalize`] normalises line ends before parsing,
/// so this only reaches direct callers of [`super::parse_document`].
fn check_lone_carriage_returns(text: &str, start: usize) -> Result<(), C14nError> {
    let bytes = text.as_bytes();
    let mut from = start;
    while let Some(k) = memchr::memchr(b'\r', &bytes[from..]) {
        let i = from + k;
        if i > 0 && bytes[i - 1] == b';' && bytes.get(i + 1) != Some(&b'\n') {
            return Err(C14nError::LoneCarriageReturn {
                pos: Pos::at(text, i),
            });
        }
        from = i + 1;
    }
    Ok(())
}

fn too_deep(text: &str, offset: usize) -> C14nError {
    C14nError::TooDeep {
        limit: MAX_DEPTH,
        pos: Pos::at(text, offset),
    }
}

/// Walks the markup of `s` from `start`, tracking element depth. Calls `reference` with
/// each general entity reference (name, offset, current depth), which returns the depth
/// the entity's replacement text adds; calls `on_tag` with the depth of each start tag.
/// Returns the greatest depth reached.
/// A tag met by [`walk`].
enum Tag<'t> {
    Start {
        depth: usize,
        offset: usize,
        /// The whole start tag, `<` to `>`.
        text: &'t str,
        self_closing: bool,
    },
    End,
}

fn walk(
    s: &str,
    start: usize,
    reference: &mut dyn FnMut(&str, usize, usize) -> Result<usize, C14nError>,
    on_tag: &mut dyn FnMut(Tag<'_>) -> Result<(), C14nError>,
) -> Result<usize, C14nError> {
    let bytes = s.as_bytes();
    let (mut i, mut depth, mut max) = (start, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let rest = &s[i..];
                if let Some(end) = skipped_markup_end(rest) {
                    i += end;
                } else if rest.starts_with("</") || rest.starts_with("<!") {
                    if rest.starts_with("</") {
                        depth = depth.saturating_sub(1);
                        on_tag(Tag::End)?;
                    }
                    i += memchr::memchr(b'>', rest.as_bytes()).map_or(rest.len(), |k| k + 1);
                } else {
                    let (end, self_closing) = start_tag_end(rest);
                    on_tag(Tag::Start {
                        depth: depth + 1,
                        offset: i,
                        text: &rest[..end],
                        self_closing,
                    })?;
                    max = max.max(depth + 1);
                    depth += usize::from(!self_closing);
                    // References in attribute values add text, never elements.
                    for_each_reference(&rest[..end], |name, k| {
                        reference(name, i + k, depth).map(|_| ())
                    })?;
                    i += end;
                }
            }
            b'&' => {
                let (name, next) = reference_at(s, i);
                if let Some(name) = name {
                    let added = reference(name, i, depth)?;
                    max = max.max(depth + added);
                }
                i = next;
            }
            _ => {
                i += memchr::memchr2(b'<', b'&', &bytes[i..]).unwrap_or(bytes.len() - i);
            }
        }
    }
    Ok(max)
}

/// The attributes of a start tag, and how many of them are namespace declarations
/// (`xmlns`, `xmlns:p`). Quoted values are stepped over; each `=` outside them is one
/// attribute, named by the token before it.
fn attribute_counts(tag: &str) -> (usize, usize) {
    let bytes = tag.as_bytes();
    let (mut attributes, mut declarations, mut i) = (0, 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'"' | b'\'') => {
                i += memchr::memchr(quote, &bytes[i + 1..]).map_or(bytes.len(), |k| k + 2);
                continue;
            }
            b'=' => {
                attributes += 1;
                let before = tag[..i].trim_end();
                let name_start = before
                    .rfind(|c: char| c.is_ascii_whitespace())
                    .map_or(0, |k| k + 1);
                let name = &before[name_start..];
                if name == "xmlns" || name.starts_with("xmlns:") {
                    declarations += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (attributes, declarations)
}

/// For a comment, CDATA section or processing instruction at the start of `rest`, the
/// offset just past it.
fn skipped_markup_end(rest: &str) -> Option<usize> {
    let end = if rest.starts_with("<!--") {
        "-->"
    } else if rest.starts_with("<![CDATA[") {
        "]]>"
    } else if rest.starts_with("<?") {
        "?>"
    } else {
        return None;
    };
    Some(rest.find(end).map_or(rest.len(), |k| k + end.len()))
}

/// The length of the start tag at the start of `rest` (quoted values stepped over), and
/// whether it is an empty-element tag.
fn start_tag_end(rest: &str) -> (usize, bool) {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while let Some(k) = memchr::memchr3(b'>', b'"', b'\'', &bytes[i..]) {
        i += k;
        if bytes[i] == b'>' {
            return (i + 1, i > 0 && bytes[i - 1] == b'/');
        }
        match memchr::memchr(bytes[i], &bytes[i + 1..]) {
            Some(len) => i += len + 2,
            None => break,
        }
    }
    (bytes.len(), false)
}

fn for_each_reference(
    s: &str,
    mut f: impl FnMut(&str, usize) -> Result<(), C14nError>,
) -> Result<(), C14nError> {
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'&', &s.as_bytes()[i..]) {
        let (name, next) = reference_at(s, i + k);
        if let Some(name) = name {
            f(name, i + k)?;
        }
        i = next;
    }
    Ok(())
}

/// The general entity named by a reference starting with `&` at `i` (none for character
/// references, predefined entities and malformed references), and the offset after it.
fn reference_at(text: &str, i: usize) -> (Option<&str>, usize) {
    let rest = &text[i + 1..];
    let end = rest
        .find(|c: char| c == ';' || c == '&' || c == '<' || c.is_whitespace())
        .filter(|&e| rest.as_bytes()[e] == b';');
    let Some(end) = end else {
        return (None, i + 1);
    };
    let name = &rest[..end];
    let next = i + 1 + end + 1;
    if name.is_empty()
        || name.starts_with('#')
        || matches!(name, "lt" | "gt" | "amp" | "apos" | "quot")
    {
        return (None, next);
    }
    (Some(name), next)
}

/// What a reference to an internal entity expands to.
#[derive(Clone, Copy)]
struct EntityInfo {
    /// Bytes of replacement text, nested references included.
    size: u64,
    /// Element nesting the replacement text adds.
    depth: usize,
}

/// Sizes and depths of general entities, memoised.
struct Entities<'p, 'a> {
    prolog: &'p Prolog<'a>,
    memo: HashMap<&'a str, EntityInfo>,
}

impl Entities<'_, '_> {
    /// What a reference to `name`, nested `level` entities deep, expands to.
    fn info(
        &mut self,
        name: &str,
        level: usize,
        at: &dyn Fn() -> Pos,
    ) -> Result<EntityInfo, C14nError> {
        let prolog = self.prolog;
        let Some(decl) = prolog.general_entity(name) else {
            if prolog.entities.iter().any(|e| e.is_parameter(name)) {
                return Err(C14nError::Dtd {
                    message: format!("'{name}' is a parameter entity, not usable in content"),
                    pos: at(),
                });
            }
            // Undeclared: roxmltree reports it with its position.
            return Ok(EntityInfo { size: 0, depth: 0 });
        };
        let value = match decl.value {
            EntityValue::Internal(value) => value,
            EntityValue::External | EntityValue::Unparsed => {
                return Err(C14nError::ExternalEntity {
                    name: name.to_string(),
                    pos: at(),
                })
            }
        };
        if let Some(&info) = self.memo.get(decl.name) {
            return Ok(info);
        }
        if let Some(problem) = unsupported_entity_value(value) {
            return Err(C14nError::Dtd {
                message: format!("entity '{name}': {problem}"),
                pos: at(),
            });
        }
        if level >= MAX_ENTITY_DEPTH {
            return Err(C14nError::EntityExpansion {
                reason:
                    "entities nest more than 10 levels deep, the limit (or refer to themselves)",
                pos: at(),
            });
        }
        let mut size = value.len() as u64;
        let mut nested = |inner: &str, _: usize, _: usize| {
            let info = self.info(inner, level + 1, at)?;
            size = size.saturating_add(info.size);
            Ok(info.depth)
        };
        let depth = walk(value, 0, &mut nested, &mut |_| Ok(()))?;
        let info = EntityInfo { size, depth };
        self.memo.insert(decl.name, info);
        Ok(info)
    }
}

/// Entity values roxmltree would expand differently from an XML processor: it neither
/// expands parameter-entity references nor re-parses characters that character references
/// in the literal produce (`&#38;#13;` should become a carriage return, `&#60;` markup).
fn unsupported_entity_value(value: &str) -> Option<&'static str> {
    if value.contains('%') {
        return Some("parameter-entity references in entity values are not supported");
    }
    let produces_markup = value.split("&#").skip(1).any(|reference| {
        let digits = reference.split(';').next().unwrap_or_default();
        let code = match digits.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => digits.parse(),
        };
        matches!(code, Ok(38 | 60))
    });
    produces_markup
        .then_some("character references to '&' or '<' in entity values are not supported")
}
