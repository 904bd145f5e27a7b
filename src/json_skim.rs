//! A cursor over JSON text that has already been parsed successfully (so it is well formed):
//! skips values by bracket matching and reads object members without building a tree.
//! Written by hand because no JSON crate offers a cheap "skip this subtree" over text;
//! used where a full parse would cost more than the work it serves.

use std::borrow::Cow;

/// A cursor over well-formed JSON text.
pub struct Skim<'a> {
    pub b: &'a [u8],
    pub i: usize,
}

impl<'a> Skim<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Skim<'a> {
        Skim {
            b: text.as_bytes(),
            i: 0,
        }
    }

    pub fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    pub fn peek(&mut self) -> u8 {
        self.ws();
        self.b.get(self.i).copied().unwrap_or(0)
    }

    /// Consumes a string; returns its text (unescaped only when it holds escapes).
    pub fn string(&mut self) -> Cow<'a, str> {
        let start = self.i;
        self.i += 1;
        let mut escaped = false;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => {
                    escaped = true;
                    self.i += 2;
                }
                b'"' => {
                    self.i += 1;
                    break;
                }
                _ => self.i += 1,
            }
        }
        let raw = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("\"\"");
        if escaped {
            Cow::Owned(serde_json::from_str::<String>(raw).unwrap_or_default())
        } else {
            Cow::Borrowed(&raw[1..raw.len().saturating_sub(1)])
        }
    }

    /// Consumes a string without decoding it.
    pub fn skip_string(&mut self) {
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return;
                }
                _ => self.i += 1,
            }
        }
    }

    /// Consumes any value.
    pub fn skip(&mut self) {
        match self.peek() {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'"' => {
                            self.skip_string();
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
