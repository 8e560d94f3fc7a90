//! A single-pass JSON field reader for Binance's flat objects.
//!
//! Every decoder walks its object once, in whatever key order the exchange used, and maps each failure to a
//! [`DecodeError`] that names the field. It is a hand-written validating cursor rather than a general parser:
//! keys and strings are borrowed from the frame, decimal strings are converted to e8 integers while they are
//! scanned, and nothing is allocated. Values a decoder does not need are skipped with full JSON validation, and
//! when the outermost object closes only white space may follow, so a decoder that reads its object to the end
//! has also validated the whole frame.
//!
//! The structure (objects, arrays, strings, numbers, validation) is read here; the typed field readers (integers,
//! decimals, strings, price levels) are in `values.rs`.

mod values;

use super::DecodeError;

/// One price level `[price, qty]` in e8 units.
pub type Level = (i64, i64);

/// The levels of one side of a diff: inline up to 8 (most diffs), no allocation.
pub type Levels = smallvec::SmallVec<[Level; 8]>;

/// Where decoded levels go: a `Vec` (snapshots) or inline [`Levels`] (diffs).
pub trait LevelSink {
    fn push_level(&mut self, level: Level);
}

impl LevelSink for Vec<Level> {
    #[inline]
    fn push_level(&mut self, level: Level) {
        self.push(level);
    }
}

impl LevelSink for Levels {
    #[inline]
    fn push_level(&mut self, level: Level) {
        self.push(level);
    }
}

/// The type of the next value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peek {
    Null,
    True,
    False,
    Number,
    String,
    Array,
    Object,
}

impl Peek {
    pub fn is_num(self) -> bool {
        self == Self::Number
    }
}

#[derive(Clone)]
pub struct Reader<'j> {
    data: &'j [u8],
    pos: usize,
    /// Nesting depth of objects opened with [`Reader::open_object`] / arrays with [`Reader::open_array`].
    depth: u32,
}

#[inline]
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'j> Reader<'j> {
    pub fn new(data: &'j [u8]) -> Self {
        Self { data, pos: 0, depth: 0 }
    }

    /// The index where the next value starts (after white space).
    pub fn value_start(&mut self) -> usize {
        self.ws();
        self.pos
    }

    fn err(&self, message: &str) -> DecodeError {
        DecodeError::invalid_json(message.to_owned(), self.pos)
    }

    #[inline]
    fn ws(&mut self) {
        while self.pos < self.data.len() && is_ws(self.data[self.pos]) {
            self.pos += 1;
        }
    }

    #[inline]
    fn byte(&mut self) -> Option<u8> {
        self.ws();
        self.data.get(self.pos).copied()
    }

    #[inline]
    fn expect(&mut self, b: u8, what: &str) -> Result<(), DecodeError> {
        if self.byte() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    pub fn peek(&mut self) -> Result<Peek, DecodeError> {
        match self.byte() {
            Some(b'{') => Ok(Peek::Object),
            Some(b'[') => Ok(Peek::Array),
            Some(b'"') => Ok(Peek::String),
            Some(b'-' | b'0'..=b'9') => Ok(Peek::Number),
            Some(b't') => Ok(Peek::True),
            Some(b'f') => Ok(Peek::False),
            Some(b'n') => Ok(Peek::Null),
            Some(_) => Err(self.err("expected a value")),
            None => Err(self.err("unexpected end of input")),
        }
    }

    /// Scans a string whose opening quote is at `pos`; returns its raw bytes (escapes not processed) and whether
    /// it contained an escape.
    #[inline]
    fn scan_string(&mut self) -> Result<(&'j [u8], bool), DecodeError> {
        let data = self.data;
        let start = self.pos + 1;
        // Fast path: no escape and no control character before the closing quote.
        if let Some(end) = data[start..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20) {
            if data[start + end] == b'"' {
                self.pos = start + end + 1;
                return Ok((&data[start..start + end], false));
            }
        }
        let mut i = start;
        let mut escaped = false;
        while i < data.len() {
            match data[i] {
                b'"' => {
                    self.pos = i + 1;
                    return Ok((&data[start..i], escaped));
                }
                b'\\' => {
                    escaped = true;
                    match data.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') if data.len() > i + 5 && data[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit) => {
                            i += 6;
                        }
                        _ => {
                            self.pos = i;
                            return Err(self.err("invalid escape in string"));
                        }
                    }
                }
                c if c < 0x20 => {
                    self.pos = i;
                    return Err(self.err("control character in string"));
                }
                _ => i += 1,
            }
        }
        self.pos = data.len();
        Err(self.err("unterminated string"))
    }

    #[inline]
    fn key(&mut self) -> Result<&'j [u8], DecodeError> {
        let data = self.data;
        // Fast path: `"key":` with a plain ASCII key and no white space, as Binance sends it.
        if data.get(self.pos) == Some(&b'"') {
            let rest = &data[self.pos + 1..];
            if let Some(end) = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20) {
                if rest[end] == b'"' && rest.get(end + 1) == Some(&b':') {
                    let key = &rest[..end];
                    self.pos += end + 3;
                    return Ok(key);
                }
            }
        }
        if self.byte() != Some(b'"') {
            return Err(self.err("expected an object key"));
        }
        let (key, _) = self.scan_string()?;
        self.expect(b':', "expected ':' after an object key")?;
        Ok(key)
    }

    /// Closes a container; after the outermost one only white space may follow.
    fn close(&mut self) -> Result<(), DecodeError> {
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 {
            self.finish()?;
        }
        Ok(())
    }

    /// Opens an object; returns its first key (`None` for `{}`). Errors if the value is not an object.
    pub fn open_object(&mut self) -> Result<Option<&'j [u8]>, DecodeError> {
        match self.byte() {
            Some(b'{') => self.pos += 1,
            Some(_) => return Err(DecodeError::not_an_object(format!("{:?}", self.peek()?))),
            None => return Err(self.err("unexpected end of input")),
        }
        self.depth += 1;
        if self.byte() == Some(b'}') {
            self.pos += 1;
            self.close()?;
            return Ok(None);
        }
        self.key().map(Some)
    }

    /// The next key of the innermost open object, or `None` when it closes.
    pub fn next_key(&mut self) -> Result<Option<&'j [u8]>, DecodeError> {
        match self.byte() {
            Some(b',') => {
                self.pos += 1;
                self.key().map(Some)
            }
            Some(b'}') => {
                self.pos += 1;
                self.close()?;
                Ok(None)
            }
            _ => Err(self.err("expected ',' or '}' in an object")),
        }
    }

    /// Opens an array; `true` if it has a first item (positioned at it).
    pub fn open_array(&mut self) -> Result<bool, DecodeError> {
        self.expect(b'[', "expected an array")?;
        self.depth += 1;
        if self.byte() == Some(b']') {
            self.pos += 1;
            self.close()?;
            return Ok(false);
        }
        Ok(true)
    }

    /// Moves to the next array item; `false` at the end of the array.
    pub fn array_step(&mut self) -> Result<bool, DecodeError> {
        match self.byte() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b']') => {
                self.pos += 1;
                self.close()?;
                Ok(false)
            }
            _ => Err(self.err("expected ',' or ']' in an array")),
        }
    }

    /// Skips one value of any type, validating it.
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        match self.peek()? {
            Peek::String => self.scan_string().map(|_| ()),
            Peek::Number => self.scan_number().map(|_| ()),
            Peek::True => self.literal(b"true"),
            Peek::False => self.literal(b"false"),
            Peek::Null => self.literal(b"null"),
            Peek::Array => {
                self.pos += 1;
                if self.byte() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.skip()?;
                    match self.byte() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.err("expected ',' or ']' in an array")),
                    }
                }
            }
            Peek::Object => {
                self.pos += 1;
                if self.byte() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.key()?;
                    self.skip()?;
                    match self.byte() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.err("expected ',' or '}' in an object")),
                    }
                }
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), DecodeError> {
        if self.data[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    /// Scans a JSON number at `pos`; returns its text and whether it is an integer (no fraction or exponent).
    fn scan_number(&mut self) -> Result<(&'j [u8], bool), DecodeError> {
        let data = self.data;
        let start = self.pos;
        let mut i = start;
        if data.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let s = *i;
            while *i < data.len() && data[*i].is_ascii_digit() {
                *i += 1;
            }
            *i - s
        };
        let int_start = i;
        let n = digits(&mut i);
        if n == 0 || (n > 1 && data[int_start] == b'0') {
            self.pos = i;
            return Err(self.err("invalid number"));
        }
        let mut integer = true;
        if data.get(i) == Some(&b'.') {
            i += 1;
            integer = false;
            if digits(&mut i) == 0 {
                self.pos = i;
                return Err(self.err("invalid number"));
            }
        }
        if matches!(data.get(i), Some(b'e' | b'E')) {
            i += 1;
            integer = false;
            if matches!(data.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                self.pos = i;
                return Err(self.err("invalid number"));
            }
        }
        self.pos = i;
        Ok((&data[start..i], integer))
    }

    /// Skips one value and returns its raw bytes.
    pub fn raw_value(&mut self) -> Result<&'j [u8], DecodeError> {
        self.ws();
        let start = self.pos;
        self.skip()?;
        Ok(&self.data[start..self.pos])
    }

    /// Checks that nothing but white space follows.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        self.ws();
        if self.pos == self.data.len() {
            Ok(())
        } else {
            Err(self.err("trailing characters"))
        }
    }
}

#[cfg(test)]
mod tests;
