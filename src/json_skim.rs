//! A cursor over JSON text that has already been parsed successfully (so it is well formed):
//! skips values by bracket matching and reads object members without building a tree.
//! Written by hand because no JSON crate offers a cheap "skip this subtree" over text;
//! used where a full parse would cost more than the work it serves.
//!
//! FHIR strings are short (keys, codes, URLs), so a call into `memchr` per string costs more
//! than the string: string bodies are crossed eight bytes at a time in a word (SWAR), and the
//! few bytes between strings one at a time.

use std::borrow::Cow;

/// A cursor over well-formed JSON text.
pub struct Skim<'a> {
    text: &'a str,
    b: &'a [u8],
    pub i: usize,
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
pub(crate) const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
pub(crate) const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);

/// High bit set in each byte of `word` that is zero; exact for the lowest such byte (bytes
/// above it may be flagged falsely, which only the lowest is read for).
#[inline]
pub(crate) fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// High bit set in each byte of `word` below 0x20 (a control character); exact for the
/// lowest such byte, and as a whole for whether there is any.
#[inline]
pub(crate) fn bytes_below_space(word: u64) -> u64 {
    word.wrapping_sub(SPACES) & !word & HIGHS
}

/// The eight bytes at `i` as a little-endian word (first byte lowest), if there are eight.
#[inline]
pub(crate) fn word_at(bytes: &[u8], i: usize) -> Option<u64> {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes.get(i..i + 8)?);
    Some(u64::from_le_bytes(word))
}

/// The end of the run of spaces starting at `i`: a word at a time, the last partial word by
/// its count of leading spaces (no byte loop whose length varies from run to run).
#[inline]
pub(crate) fn spaces_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(word) = word_at(bytes, i) {
        let differs = word ^ SPACES;
        if differs != 0 {
            return i + differs.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    while bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

impl<'a> Skim<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Skim<'a> {
        Skim {
            text,
            b: text.as_bytes(),
            i: 0,
        }
    }

    /// Skips whitespace.
    pub fn ws(&mut self) {
        // Pretty-printed JSON indents with runs of spaces: cross them a word at a time.
        self.i = spaces_end(self.b, self.i);
        // Outside strings, well-formed JSON has no byte at or below a space but whitespace.
        while self.b.get(self.i).is_some_and(|&c| c <= b' ') {
            self.i += 1;
        }
    }

    /// The next significant byte (0 at the end), without consuming it.
    pub fn peek(&mut self) -> u8 {
        self.ws();
        self.b.get(self.i).copied().unwrap_or(0)
    }

    /// Moves past the closing quote of the string whose opening quote is at `self.i`;
    /// returns whether the string holds escapes.
    fn cross_string(&mut self) -> bool {
        let mut escaped = false;
        self.i += 1;
        loop {
            // A word at a time to the next quote or backslash ...
            while let Some(word) = word_at(self.b, self.i) {
                let hits = zero_bytes(word ^ QUOTES) | zero_bytes(word ^ BACKSLASHES);
                if hits != 0 {
                    self.i += hits.trailing_zeros() as usize / 8;
                    break;
                }
                self.i += 8;
            }
            // ... then byte by byte (also the last few bytes of the text).
            match self.b.get(self.i) {
                None => return escaped,
                Some(b'"') => {
                    self.i += 1;
                    return escaped;
                }
                Some(b'\\') => {
                    escaped = true;
                    self.i += 2;
                }
                Some(_) => self.i += 1,
            }
        }
    }

    /// Consumes a string; returns its text (unescaped only when it holds escapes).
    pub fn string(&mut self) -> Cow<'a, str> {
        let start = self.i;
        let escaped = self.cross_string();
        let raw = self.text.get(start..self.i).unwrap_or("\"\"");
        if escaped {
            Cow::Owned(serde_json::from_str::<String>(raw).unwrap_or_default())
        } else {
            Cow::Borrowed(raw.get(1..raw.len().saturating_sub(1)).unwrap_or(""))
        }
    }

    /// Consumes any value.
    pub fn skip(&mut self) {
        match self.peek() {
            b'"' => {
                self.cross_string();
            }
            b'{' | b'[' => {
                // Between strings only brackets matter; in well-formed JSON they balance.
                let mut depth = 0usize;
                while let Some(&c) = self.b.get(self.i) {
                    match c {
                        b'"' => {
                            self.cross_string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.i += 1;
                }
            }
        }
    }

    /// The string value of a top-level member of the object starting here, without moving.
    pub fn member_string(&self, name: &str) -> Option<Cow<'a, str>> {
        let mut s = Skim {
            text: self.text,
            b: self.b,
            i: self.i + 1,
        };
        loop {
            match s.peek() {
                b'"' => {}
                _ => return None,
            }
            let key = s.string();
            s.peek();
            s.i += 1; // ':'
            if key == name && s.peek() == b'"' {
                return Some(s.string());
            }
            s.skip();
            if s.peek() == b',' {
                s.i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Skim;

    #[test]
    fn skips_nested_values_with_brackets_and_escapes_inside_strings() {
        let text = r#"{"a": [1, {"b": "x]}\"{"}, "c\\"], "d": "e", "f": 2}"#;
        let mut s = Skim::new(text);
        assert_eq!(s.member_string("d").as_deref(), Some("e"));
        assert_eq!(s.member_string("f"), None);
        s.skip();
        assert_eq!(s.i, text.len());
        let mut s = Skim::new(r#""a\"b" 1"#);
        assert_eq!(s.string(), "a\"b");
        s.skip();
        assert_eq!(s.i, 8);
    }

    /// Strings cross word boundaries at every offset: quotes and escapes found wherever they
    /// fall in a word, and at the very end of the text.
    #[test]
    fn crosses_strings_at_every_alignment() {
        for pad in 0..20 {
            let body = format!("{}\\\"{}", "x".repeat(pad), "é".repeat(pad % 5));
            let text = format!("\"{body}\"");
            let mut s = Skim::new(&text);
            assert_eq!(
                s.string(),
                format!("{}\"{}", "x".repeat(pad), "é".repeat(pad % 5))
            );
            assert_eq!(s.i, text.len(), "pad {pad}");
            let nested = format!("[{text}, {{\"k\": [{text}]}}] 7");
            let mut s = Skim::new(&nested);
            s.skip();
            assert_eq!(&nested[s.i..], " 7", "pad {pad}");
        }
    }
}
