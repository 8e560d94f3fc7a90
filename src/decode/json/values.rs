//! The typed field readers of [`Reader`]: integers, booleans, strings, e8 decimals and `[price, qty]` levels.
//!
//! Decimal strings in Binance's usual spelling take the eight-bytes-at-a-time reader of [`crate::num::swar`]; any
//! other spelling goes through [`parse_e8`], so both paths accept exactly the same text.

use super::{LevelSink, Peek, Reader};
use crate::decode::DecodeError;
use crate::num::parse_e8;
use crate::num::swar::quoted_e8;

impl<'j> Reader<'j> {
    /// An integer. Always inlined: it is a handful of instructions on the fast path, read for every id and time of
    /// every key-by-key decoder, where a call costs as much as the read.
    #[allow(clippy::inline_always)]
    #[inline(always)]
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
            if let Some((v, len)) = quoted_e8(&self.data[self.pos + 1..]) {
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
                if let Some((price, n)) = quoted_e8(&data[self.pos + 2..]) {
                    let at = self.pos + 2 + n + 1;
                    if data.get(at) == Some(&b',') && data.get(at + 1) == Some(&b'"') {
                        if let Some((qty, m)) = quoted_e8(&data[at + 2..]) {
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
