//! A single-pass JSON field reader for Binance's flat objects.
//!
//! Every decoder walks its object once, in whatever key order the exchange used, and maps each failure to a
//! [`DecodeError`] that names the field. It is a hand-written validating cursor rather than a general parser:
//! keys and strings are borrowed from the frame, decimal strings are converted to e8 integers while they are
//! scanned, and nothing is allocated. Values a decoder does not need are skipped with full JSON validation, and
//! when the outermost object closes only white space may follow, so a decoder that reads its object to the end
//! has also validated the whole frame.

use super::DecodeError;
use crate::num::parse_e8;

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

/// `POW10[k]` = 10^(8 − k): the scale of a decimal with `k` digits after the point.
pub(super) const POW10: [u64; 9] = [100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];

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

    pub fn index(&self) -> usize {
        self.pos
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

    #[inline]
    pub fn int(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        // Fast path: a positive integer of at most 18 digits followed by a delimiter.
        if let Some(b'1'..=b'9') = self.byte() {
            let data = self.data;
            let mut i = self.pos;
            let mut v: i64 = 0;
            while i - self.pos < 18 && i < data.len() && data[i].is_ascii_digit() {
                v = v * 10 + i64::from(data[i] - b'0');
                i += 1;
            }
            if !matches!(data.get(i), Some(b'0'..=b'9' | b'.' | b'e' | b'E')) {
                self.pos = i;
                return Ok(v);
            }
        }
        self.int_checked(field)
    }

    fn int_checked(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        match self.peek() {
            Ok(Peek::Number) => {}
            Ok(other) => {
                return Err(DecodeError::wrong_type(
                    field,
                    format!("expected an integer, found {other:?}"),
                ))
            }
            Err(e) => return Err(e),
        }
        let (text, integer) = self.scan_number()?;
        if !integer {
            return Err(DecodeError::wrong_type(
                field,
                "expected an integer, found a float".into(),
            ));
        }
        let (neg, digits) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        let mut v: i64 = 0;
        for &d in digits {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_sub(i64::from(d - b'0')))
                .ok_or_else(|| DecodeError::wrong_type(field, "integer out of range".into()))?;
        }
        if neg {
            Ok(v)
        } else {
            v.checked_neg()
                .ok_or_else(|| DecodeError::wrong_type(field, "integer out of range".into()))
        }
    }

    pub fn uint(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let v = self.int(field)?;
        u64::try_from(v).map_err(|_| DecodeError::wrong_type(field, format!("expected a non-negative id, got {v}")))
    }

    pub fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.peek()? {
            Peek::True => self.literal(b"true").map(|()| true),
            Peek::False => self.literal(b"false").map(|()| false),
            other => Err(DecodeError::wrong_type(
                field,
                format!("expected a boolean, found {other:?}"),
            )),
        }
    }

    /// A string value as raw bytes of the frame (escapes are not processed: fine for ids and decimals).
    pub fn raw_str(&mut self, field: &'static str) -> Result<&'j [u8], DecodeError> {
        match self.peek()? {
            Peek::String => self.scan_string().map(|(s, _)| s),
            other => Err(DecodeError::wrong_type(
                field,
                format!("expected a string, found {other:?}"),
            )),
        }
    }

    /// A string value with JSON escapes processed.
    pub fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        match self.peek()? {
            Peek::String => {}
            other => {
                return Err(DecodeError::wrong_type(
                    field,
                    format!("expected a string, found {other:?}"),
                ))
            }
        }
        let at = self.pos;
        let (raw, escaped) = self.scan_string()?;
        if !escaped {
            return std::str::from_utf8(raw)
                .map(str::to_owned)
                .map_err(|_| DecodeError::wrong_type(field, "string is not UTF-8".into()));
        }
        // Rare: let serde-free unescaping go through the one place that handles escapes fully.
        unescape(&self.data[at..self.pos]).ok_or_else(|| DecodeError::wrong_type(field, "invalid string".into()))
    }

    /// A decimal string (`"71273.44000000"`) in e8 units.
    #[inline]
    pub fn decimal(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        // Fast path for the common spelling: up to 10 integer digits and 8 decimals, no sign, no escapes. It
        // accepts exactly what `parse_e8` accepts in that range; anything else takes the checked path.
        if self.byte() == Some(b'"') {
            if let Some((v, len)) = fast_decimal(&self.data[self.pos + 1..]) {
                self.pos += len + 2;
                return Ok(v);
            }
        }
        let s = self.raw_str(field)?;
        parse_e8(s).map_err(|e| DecodeError::bad_number(field, e))
    }

    /// A decimal string that may be empty (`""` means absent, e.g. COIN-M delivery funding rates).
    pub fn opt_decimal(&mut self, field: &'static str) -> Result<Option<i64>, DecodeError> {
        let s = self.raw_str(field)?;
        if s.is_empty() {
            return Ok(None);
        }
        parse_e8(s).map(Some).map_err(|e| DecodeError::bad_number(field, e))
    }

    /// An array of `[price, qty]` decimal-string pairs, appended to `out`.
    pub fn levels_into(&mut self, field: &'static str, out: &mut impl LevelSink) -> Result<(), DecodeError> {
        if self.byte() != Some(b'[') {
            return Err(DecodeError::wrong_type(
                field,
                "expected an array of [price, qty] pairs".into(),
            ));
        }
        self.pos += 1;
        if self.byte() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            // Fast path: `["price","qty"]` exactly as Binance spells it.
            let data = self.data;
            if data.get(self.pos) == Some(&b'[') && data.get(self.pos + 1) == Some(&b'"') {
                if let Some((price, n)) = fast_decimal(&data[self.pos + 2..]) {
                    let at = self.pos + 2 + n + 1;
                    if data.get(at) == Some(&b',') && data.get(at + 1) == Some(&b'"') {
                        if let Some((qty, m)) = fast_decimal(&data[at + 2..]) {
                            let end = at + 2 + m + 1;
                            if data.get(end) == Some(&b']') {
                                self.pos = end + 1;
                                out.push_level((price, qty));
                                match data.get(self.pos) {
                                    Some(b',') => {
                                        self.pos += 1;
                                        continue;
                                    }
                                    Some(b']') => {
                                        self.pos += 1;
                                        return Ok(());
                                    }
                                    _ => {}
                                }
                                match self.byte() {
                                    Some(b',') => {
                                        self.pos += 1;
                                        continue;
                                    }
                                    Some(b']') => {
                                        self.pos += 1;
                                        return Ok(());
                                    }
                                    _ => return Err(self.err("expected ',' or ']' in an array")),
                                }
                            }
                        }
                    }
                }
            }
            if self.byte() != Some(b'[') {
                return Err(DecodeError::wrong_type(field, "expected a [price, qty] pair".into()));
            }
            self.pos += 1;
            let price = self.decimal(field)?;
            if self.byte() != Some(b',') {
                return Err(DecodeError::wrong_type(
                    field,
                    "a price level has fewer than two items".into(),
                ));
            }
            self.pos += 1;
            let qty = self.decimal(field)?;
            if self.byte() != Some(b']') {
                return Err(DecodeError::wrong_type(
                    field,
                    "a price level has more than two items".into(),
                ));
            }
            self.pos += 1;
            if qty < 0 || price < 0 {
                return Err(DecodeError::wrong_type(
                    field,
                    "negative price or quantity in a level".into(),
                ));
            }
            out.push_level((price, qty));
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
}

/// Parses the body of a decimal string followed by its closing quote: up to 10 integer digits and 8 decimals, no
/// sign, no escapes. Returns the value in e8 units and the body length, or `None` for anything else (which the
/// checked path then parses or rejects). Accepts exactly what [`parse_e8`] accepts in that range.
///
/// Reads eight bytes at a time (SWAR) when the input is long enough; [`fast_decimal_scalar`] is the byte-by-byte
/// definition it is tested against. Always inlined: each call site (price, quantity) then has branches of its own,
/// which the branch predictor learns separately.
#[allow(clippy::inline_always)]
#[inline(always)]
pub(super) fn fast_decimal(s: &[u8]) -> Option<(i64, usize)> {
    if s.len() < 8 {
        return fast_decimal_scalar(s);
    }
    let head = load8(s, 0);
    match short_decimal(s, head) {
        Some(short) => short,
        // 10 integer digits, the point, 8 decimals and the quote.
        None if s.len() >= 20 => long_decimal(s, head),
        None => fast_decimal_scalar(s),
    }
}

/// [`fast_decimal`] of a number longer than eight bytes (`head`: its first eight), on at least 20 bytes of input.
/// Kept out of line: the short path is inlined at each call site.
#[inline(never)]
fn long_decimal(s: &[u8], head: u64) -> Option<(i64, usize)> {
    let n_int = leading_digits(head);
    let (int, mut i) = if n_int < 8 {
        (digits_value(head, n_int), n_int)
    } else {
        let mut v = digits_value(head, 8);
        let mut i = 8;
        while i <= 10 && s[i].is_ascii_digit() {
            v = v * 10 + u64::from(s[i] - b'0');
            i += 1;
        }
        if i > 10 {
            return None;
        }
        (v, i)
    };
    let int_digits = i;
    let mut frac = 0;
    let mut frac_digits = 0;
    if s[i] == b'.' {
        let chunk = load8(s, i + 1);
        frac_digits = leading_digits(chunk);
        frac = digits_value(chunk, frac_digits);
        i += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 || s[i] != b'"' {
        return None;
    }
    // < 10^10 · 10^8: fits an i64.
    Some(((int * POW10[0] + frac * POW10[frac_digits]) as i64, i))
}

/// [`fast_decimal`] of a number that ends within its first eight bytes (`head`), such as `"427.27"` or `"260"`: the
/// point is squeezed out and all digits are converted at once. `None` if the number runs on (the caller reads it in
/// two parts); `Some(None)` if it is malformed.
#[inline]
#[allow(clippy::option_option)]
fn short_decimal(s: &[u8], head: u64) -> Option<Option<(i64, usize)>> {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Nonzero high nibble = not a digit (exact up to the first such byte, see `leading_digits`).
    let not_digit = ((head & HIGH) ^ ZEROS) | ((head.wrapping_add(0x0606_0606_0606_0606) & HIGH) ^ ZEROS);
    let dots = head ^ (u64::from(b'.') * ONES);
    // High bit set where a byte is the point (exact up to the first one).
    let dot_bits = dots.wrapping_sub(ONES) & !dots & 0x8080_8080_8080_8080;
    let dot = (dot_bits.trailing_zeros() / 8) as usize; // 8: no point
    let first_dot_byte = if dot < 8 { 0xFF << (8 * dot) } else { 0 };
    let len = ((not_digit & !first_dot_byte).trailing_zeros() / 8) as usize;
    if len == 8 {
        return None;
    }
    let (digits, n_frac, merged) = if dot < len {
        let low = (1u64 << (8 * dot)) - 1;
        (len - 1, len - 1 - dot, (head & low) | ((head >> 8) & !low))
    } else {
        (len, 0, head)
    };
    if digits == 0 || s[len] != b'"' {
        return Some(None);
    }
    // At most seven digits: fits an i64 at any scale.
    Some(Some(((digits_value(merged, digits) * POW10[n_frac]) as i64, len)))
}

/// The byte-by-byte definition of [`fast_decimal`] (also its path for input near the end of a frame).
#[inline(never)]
pub(super) fn fast_decimal_scalar(s: &[u8]) -> Option<(i64, usize)> {
    let mut v: u64 = 0;
    let mut i = 0;
    while i < s.len() && i <= 10 && s[i].is_ascii_digit() {
        v = v * 10 + u64::from(s[i] - b'0');
        i += 1;
    }
    let int_digits = i;
    if int_digits > 10 {
        return None;
    }
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        while frac_digits < 8 && i < s.len() && s[i].is_ascii_digit() {
            v = v * 10 + u64::from(s[i] - b'0');
            i += 1;
            frac_digits += 1;
        }
    }
    if int_digits + frac_digits == 0 || s.get(i) != Some(&b'"') {
        return None;
    }
    // < 10^10 · 10^8: fits an i64.
    Some(((v * POW10[frac_digits]) as i64, i))
}

/// The index of the first byte of `s` that cannot be part of a plain ASCII string body: a quote, a backslash, a
/// control character or a non-ASCII byte. Eight bytes at a time; [`plain_end_scalar`] is its definition.
#[inline]
pub(super) fn plain_end(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while at + 8 <= s.len() {
        let x = load8(s, at);
        // A byte's high bit is set in `zero(v)` when that byte of `v` is 0; a borrow can only set bits above a
        // byte that really is 0, so the lowest set bit is exact.
        let zero = |v: u64| v.wrapping_sub(ONES) & !v;
        let special = (zero(x ^ (u64::from(b'"') * ONES))
            | zero(x ^ (u64::from(b'\\') * ONES))
            | (x.wrapping_sub(0x20 * ONES) & !x)
            | x)
            & HIGH;
        if special != 0 {
            return Some(at + (special.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    plain_end_scalar(&s[at..]).map(|i| at + i)
}

/// The byte-by-byte definition of [`plain_end`].
#[inline]
pub(super) fn plain_end_scalar(s: &[u8]) -> Option<usize> {
    s.iter()
        .position(|&b| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b))
}

/// Eight bytes from `at`, the first in the lowest byte.
#[inline]
pub(super) fn load8(s: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(b)
}

/// How many of the eight bytes, from the first, are ASCII digits.
#[inline]
pub(super) fn leading_digits(chunk: u64) -> usize {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    // A byte is a digit when its high nibble is 3 both as is and after adding 6 (0x30..=0x39). A carry out of a
    // byte that is not a digit can only disturb later bytes, which are not counted.
    let not_digit = ((chunk & HIGH) ^ ZEROS) | ((chunk.wrapping_add(0x0606_0606_0606_0606) & HIGH) ^ ZEROS);
    (not_digit.trailing_zeros() / 8) as usize
}

/// The value of the first `n` (0..=8) bytes of `chunk`, all ASCII digits.
#[inline]
pub(super) fn digits_value(chunk: u64, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    // Move the digits to the top bytes; the bytes shifted in read as leading zeros.
    let v = chunk << (8 * (8 - n));
    let v = ((v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561)) >> 8;
    let v = ((v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601)) >> 16;
    ((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001)) >> 32
}

/// Unescapes a quoted JSON string (with its quotes); `None` if invalid.
fn unescape(quoted: &[u8]) -> Option<String> {
    let inner = quoted.get(1..quoted.len().checked_sub(1)?)?;
    let mut out = String::with_capacity(inner.len());
    let text = std::str::from_utf8(inner).ok()?;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hex = |chars: &mut std::str::Chars<'_>| -> Option<u32> {
                    let s: String = chars.by_ref().take(4).collect();
                    u32::from_str_radix(&s, 16).ok()
                };
                let hi = hex(&mut chars)?;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    if chars.next()? != '\\' || chars.next()? != 'u' {
                        return None;
                    }
                    let lo = hex(&mut chars)?;
                    0x10000 + ((hi - 0xD800) << 10) + (lo.checked_sub(0xDC00)?)
                } else {
                    hi
                };
                out.push(char::from_u32(code)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
