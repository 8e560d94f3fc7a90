//! A thin field reader over `jiter` for Binance's flat JSON objects.
//!
//! Every decoder walks its object once, in whatever key order the exchange used, and maps each failure to a
//! [`DecodeError`] that names the field. Keys and decimal strings are borrowed from the frame (no allocation);
//! decimal strings go straight to [`crate::num::parse_e8`].

use jiter::{Jiter, JiterError, NumberInt, Peek};

use super::DecodeError;
use crate::num::parse_e8;

/// One price level `[price, qty]` in e8 units.
pub type Level = (i64, i64);

pub struct Reader<'j> {
    data: &'j [u8],
    jiter: Jiter<'j>,
}

impl<'j> Reader<'j> {
    pub fn new(data: &'j [u8]) -> Self {
        Self { data, jiter: Jiter::new(data) }
    }

    /// Re-borrows a slice returned by jiter for the lifetime of the input (jiter ties it to `&mut self`).
    fn rebind(data: &'j [u8], s: &[u8]) -> &'j [u8] {
        let start = s.as_ptr() as usize - data.as_ptr() as usize;
        &data[start..start + s.len()]
    }

    fn json_err(e: &JiterError) -> DecodeError {
        DecodeError::invalid_json(e.to_string(), e.index)
    }

    fn field_err(field: &'static str, e: &JiterError) -> DecodeError {
        DecodeError::wrong_type(field, e.to_string())
    }

    pub fn index(&self) -> usize {
        self.jiter.current_index()
    }

    pub fn peek(&mut self) -> Result<Peek, DecodeError> {
        self.jiter.peek().map_err(|e| Self::json_err(&e))
    }

    /// Opens an object; returns its first key (`None` for `{}`). Errors if the value is not an object.
    pub fn open_object(&mut self) -> Result<Option<&'j [u8]>, DecodeError> {
        match self.peek()? {
            Peek::Object => {}
            other => return Err(DecodeError::not_an_object(format!("{other:?}"))),
        }
        let data = self.data;
        let key = self.jiter.next_object_bytes().map_err(|e| Self::json_err(&e))?;
        Ok(key.map(|k| Self::rebind(data, k)))
    }

    pub fn next_key(&mut self) -> Result<Option<&'j [u8]>, DecodeError> {
        let data = self.data;
        let key = self.jiter.next_key_bytes().map_err(|e| Self::json_err(&e))?;
        Ok(key.map(|k| Self::rebind(data, k)))
    }

    /// Skips one value of any type.
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        self.jiter.next_skip().map_err(|e| Self::json_err(&e))
    }

    /// Skips one value and returns its raw bytes (used to find the `data` of a combined frame).
    pub fn raw_value(&mut self) -> Result<&'j [u8], DecodeError> {
        self.peek()?; // moves past white space so the slice starts at the value
        let start = self.jiter.current_index();
        self.skip()?;
        Ok(&self.data[start..self.jiter.current_index()])
    }

    /// Checks that nothing but white space follows the top-level value.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        self.jiter.finish().map_err(|e| Self::json_err(&e))
    }

    pub fn int(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        match self.jiter.next_int() {
            Ok(NumberInt::Int(v)) => Ok(v),
            Err(e) => Err(Self::field_err(field, &e)),
        }
    }

    pub fn uint(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let v = self.int(field)?;
        u64::try_from(v).map_err(|_| DecodeError::wrong_type(field, format!("expected a non-negative id, got {v}")))
    }

    pub fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        self.jiter.next_bool().map_err(|e| Self::field_err(field, &e))
    }

    /// A string value as raw bytes of the frame (escapes are not processed: fine for ids and decimals).
    pub fn raw_str(&mut self, field: &'static str) -> Result<&'j [u8], DecodeError> {
        let data = self.data;
        let s = self.jiter.next_bytes().map_err(|e| Self::field_err(field, &e))?;
        Ok(Self::rebind(data, s))
    }

    /// A string value with JSON escapes processed.
    pub fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        self.jiter.next_str().map(str::to_owned).map_err(|e| Self::field_err(field, &e))
    }

    /// A decimal string (`"71273.44000000"`) in e8 units.
    pub fn decimal(&mut self, field: &'static str) -> Result<i64, DecodeError> {
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
    pub fn levels_into(&mut self, field: &'static str, out: &mut Vec<Level>) -> Result<(), DecodeError> {
        let err = |e: JiterError| Self::field_err(field, &e);
        let mut item = self.jiter.next_array().map_err(err)?;
        while let Some(p) = item {
            if p != Peek::Array {
                return Err(DecodeError::wrong_type(field, format!("expected a [price, qty] pair, found {p:?}")));
            }
            let short = || DecodeError::wrong_type(field, "a price level has fewer than two items".into());
            self.jiter.known_array().map_err(err)?.ok_or_else(short)?;
            let price = self.decimal(field)?;
            self.jiter.array_step().map_err(err)?.ok_or_else(short)?;
            let qty = self.decimal(field)?;
            if self.jiter.array_step().map_err(err)?.is_some() {
                return Err(DecodeError::wrong_type(field, "a price level has more than two items".into()));
            }
            if qty < 0 || price < 0 {
                return Err(DecodeError::wrong_type(field, "negative price or quantity in a level".into()));
            }
            out.push((price, qty));
            item = self.jiter.array_step().map_err(err)?;
        }
        Ok(())
    }
}

impl Reader<'_> {
    /// Opens an array; `true` if it has a first item (positioned at it).
    pub fn open_array(&mut self) -> Result<bool, DecodeError> {
        Ok(self.jiter.next_array().map_err(|e| Self::json_err(&e))?.is_some())
    }

    /// Moves to the next array item; `false` at the end of the array.
    pub fn array_step(&mut self) -> Result<bool, DecodeError> {
        Ok(self.jiter.array_step().map_err(|e| Self::json_err(&e))?.is_some())
    }
}
