//! A cursor over JSON text that has already been parsed successfully (so it is well formed):
//! skips values by bracket matching and reads object members without building a tree.
//! Written by hand because no JSON crate offers a cheap "skip this subtree" over text;
//! used where a full parse would cost more than the work it serves. String bodies are
//! crossed with `memchr`, so a skip costs a few instructions per structural byte.

use std::borrow::Cow;

/// A cursor over well-formed JSON text.
pub struct Skim<'a> {
    text: &'a str,
    b: &'a [u8],
    pub i: usize,
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
        // Pretty-printed JSON indents with runs of spaces: cross them eight at a time.
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            if chunk != b"        " {
                break;
            }
            self.i += 8;
        }
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
        while let Some(k) = memchr::memchr2(b'"', b'\\', &self.b[self.i..]) {
            self.i += k;
            if self.b[self.i] == b'"' {
                self.i += 1;
                return escaped;
            }
            escaped = true;
            self.i += 2;
        }
        self.i = self.b.len();
        escaped
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
            open @ (b'{' | b'[') => {
                // In well-formed JSON each bracket kind balances on its own outside
                // strings, so only this kind is counted, jumping between the three bytes.
                let close = if open == b'{' { b'}' } else { b']' };
                let mut depth = 0usize;
                while let Some(k) = memchr::memchr3(b'"', open, close, &self.b[self.i..]) {
                    self.i += k;
                    match self.b[self.i] {
                        b'"' => {
                            self.cross_string();
                            continue;
                        }
                        c if c == open => depth += 1,
                        _ => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return;
                            }
                        }
                    }
                    self.i += 1;
                }
                self.i = self.b.len();
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
}
