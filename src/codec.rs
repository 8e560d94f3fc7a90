//! The binary codec of checkpoints: LEB128 varints (zigzag for signed values, up to 128 bits), IEEE-754 floats by
//! their bits, length-prefixed strings. Small numbers take one byte, so the many counts, deltas and zero big-trade
//! counters of a checkpoint stay small without a general-purpose compressor.
//!
//! The bulk of a checkpoint (millions of flow sums) is written through a [`Record`]: a fixed buffer filled with
//! fixed-size stores and appended a batch of records at a time. Its wide values are a length byte and that many
//! little-endian bytes of the zigzag value (one copy of the integer's bytes, no per-7-bit loop); see [`put_wide`].
//!
//! A [`Reader`] never panics and never allocates more than the input can hold: every read checks the bytes left, and
//! a length read from the input is bounded by them.

/// Why bytes could not be read as what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {at}")]
pub struct CodecError {
    pub what: String,
    pub at: usize,
}

/// Appends values to a byte buffer.
#[derive(Debug, Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    pub fn u128(&mut self, mut v: u128) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    #[inline]
    pub fn u64(&mut self, v: u64) {
        self.u128(u128::from(v));
    }

    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }

    /// Zigzag: small magnitudes of either sign take few bytes.
    pub fn i128(&mut self, v: i128) {
        self.u128(((v << 1) ^ (v >> 127)) as u128);
    }

    pub fn i64(&mut self, v: i64) {
        self.i128(i128::from(v));
    }

    /// `None` as 0, `Some(v)` as 1 then `v`.
    pub fn opt_i64(&mut self, v: Option<i64>) {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.i64(v);
        }
    }

    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    pub fn str(&mut self, s: &str) {
        self.usize(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }
}

/// Most bytes one record may take (a varint takes at most 10 bytes, a wide value 17).
pub const RECORD_MAX: usize = 192;
/// Records are gathered up to this many bytes before they are appended to the [`Writer`].
const BATCH: usize = 8192;

/// Records built in a fixed buffer and appended to a [`Writer`] a batch at a time (see the module docs): the hot path
/// of a checkpoint, with no capacity check or loop per byte. A record is written with the free functions
/// ([`put_u8`], [`put_u64`], [`put_i64`], [`put_wide`]) from [`Record::at`] on, and ended with [`Record::end`]; it
/// must stay under [`RECORD_MAX`] bytes. [`Record::flush`] appends what is gathered: call it before writing to the
/// [`Writer`] directly.
#[derive(Debug)]
pub struct Record {
    pub bytes: Bytes,
    len: usize,
}

impl Default for Record {
    fn default() -> Self {
        Self {
            bytes: [0; BATCH + RECORD_MAX],
            len: 0,
        }
    }
}

impl Record {
    /// Where the next record starts.
    #[inline]
    pub fn at(&self) -> usize {
        self.len
    }

    /// Ends the record that started at [`Record::at`] and ends before `end`.
    #[inline]
    pub fn end(&mut self, end: usize, w: &mut Writer) {
        self.len = end;
        if end >= BATCH {
            self.flush(w);
        }
    }

    /// Appends every record gathered to `w`.
    pub fn flush(&mut self, w: &mut Writer) {
        w.buf.extend_from_slice(&self.bytes[..self.len]);
        self.len = 0;
    }
}

/// Record buffer.
pub type Bytes = [u8; BATCH + RECORD_MAX];

#[inline]
pub fn put_u8(b: &mut Bytes, at: usize, v: u8) -> usize {
    b[at] = v;
    at + 1
}

/// A LEB128 varint, as [`Writer::u64`].
#[inline]
pub fn put_u64(b: &mut Bytes, mut at: usize, mut v: u64) -> usize {
    while v >= 0x80 {
        b[at] = (v as u8) | 0x80;
        at += 1;
        v >>= 7;
    }
    b[at] = v as u8;
    at + 1
}

/// A zigzag varint, as [`Writer::i64`].
#[inline]
pub fn put_i64(b: &mut Bytes, at: usize, v: i64) -> usize {
    put_u64(b, at, ((v << 1) ^ (v >> 63)) as u64)
}

/// A wide value: one byte `n` (0 for zero, up to 16), then the `n` low little-endian bytes of the zigzag value.
#[inline]
pub fn put_wide(b: &mut Bytes, at: usize, v: i128) -> usize {
    let z = ((v << 1) ^ (v >> 127)) as u128;
    let n = (128 - z.leading_zeros() as usize).div_ceil(8);
    let slot: &mut [u8; 17] = (&mut b[at..at + 17]).try_into().expect("17 bytes");
    slot[0] = n as u8;
    // All 16 bytes are stored (one fixed-size copy); only `n` of them count.
    slot[1..].copy_from_slice(&z.to_le_bytes());
    at + 1 + n
}

/// Reads values written by a [`Writer`], in the same order.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// A [`CodecError`] at the current position.
    pub fn error(&self, what: impl Into<String>) -> CodecError {
        CodecError {
            what: what.into(),
            at: self.pos,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn u8(&mut self) -> Result<u8, CodecError> {
        let b = *self.data.get(self.pos).ok_or_else(|| self.error("unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn bool(&mut self) -> Result<bool, CodecError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(self.error(format!("bad flag {b}"))),
        }
    }

    pub fn u128(&mut self) -> Result<u128, CodecError> {
        let mut v = 0u128;
        for shift in (0..128).step_by(7) {
            let b = self.u8()?;
            let bits = u128::from(b & 0x7f);
            if shift == 126 && bits > 3 {
                return Err(self.error("varint over 128 bits"));
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.error("varint over 128 bits"))
    }

    pub fn u64(&mut self) -> Result<u64, CodecError> {
        let v = self.u128()?;
        u64::try_from(v).map_err(|_| self.error("varint over 64 bits"))
    }

    pub fn u32(&mut self) -> Result<u32, CodecError> {
        let v = self.u128()?;
        u32::try_from(v).map_err(|_| self.error("varint over 32 bits"))
    }

    pub fn i128(&mut self) -> Result<i128, CodecError> {
        let z = self.u128()?;
        Ok(((z >> 1) as i128) ^ -((z & 1) as i128))
    }

    pub fn i64(&mut self) -> Result<i64, CodecError> {
        let v = self.i128()?;
        i64::try_from(v).map_err(|_| self.error("value over 64 bits"))
    }

    pub fn opt_i64(&mut self) -> Result<Option<i64>, CodecError> {
        Ok(if self.bool()? { Some(self.i64()?) } else { None })
    }

    pub fn f64(&mut self) -> Result<f64, CodecError> {
        let bytes = self.take(8)?;
        let mut b = [0u8; 8];
        b.copy_from_slice(bytes);
        Ok(f64::from_bits(u64::from_le_bytes(b)))
    }

    /// A wide value written by [`put_wide`].
    pub fn wide(&mut self) -> Result<i128, CodecError> {
        let n = usize::from(self.u8()?);
        if n > 16 {
            return Err(self.error(format!("wide value of {n} bytes")));
        }
        let mut b = [0u8; 16];
        b[..n].copy_from_slice(self.take(n)?);
        let z = u128::from_le_bytes(b);
        Ok(((z >> 1) as i128) ^ -((z & 1) as i128))
    }

    /// A count of items that take at least `min_bytes` each: bounded by the bytes left, so a corrupt count cannot
    /// make a caller allocate more than the input holds.
    pub fn count(&mut self, min_bytes: usize) -> Result<usize, CodecError> {
        let n = self.u64()?;
        if n > (self.remaining() / min_bytes.max(1)) as u64 {
            return Err(self.error(format!("count {n} is more than the bytes left can hold")));
        }
        Ok(n as usize)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if n > self.remaining() {
            return Err(self.error("unexpected end"));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn str(&mut self) -> Result<&'a str, CodecError> {
        let n = self.count(1)?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes).map_err(|_| self.error("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn values_read_back_as_written(a in any::<i128>(), b in any::<u128>(), c in any::<i64>(), d in any::<f64>(),
                                       s in ".{0,20}", o in proptest::option::of(any::<i64>())) {
            let mut w = Writer::default();
            w.i128(a);
            w.u128(b);
            w.i64(c);
            w.f64(d);
            w.str(&s);
            w.opt_i64(o);
            let mut r = Reader::new(&w.buf);
            prop_assert_eq!(r.i128().unwrap(), a);
            prop_assert_eq!(r.u128().unwrap(), b);
            prop_assert_eq!(r.i64().unwrap(), c);
            prop_assert_eq!(r.f64().unwrap().to_bits(), d.to_bits());
            prop_assert_eq!(r.str().unwrap(), s.as_str());
            prop_assert_eq!(r.opt_i64().unwrap(), o);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn records_read_back_as_written(values in proptest::collection::vec((any::<i128>(), any::<i64>(), any::<u64>()), 0..400)) {
            let mut w = Writer::default();
            let mut rec = Record::default();
            for &(a, b, c) in &values {
                let mut at = rec.at();
                at = put_wide(&mut rec.bytes, at, a);
                at = put_i64(&mut rec.bytes, at, b);
                at = put_u64(&mut rec.bytes, at, c);
                at = put_u8(&mut rec.bytes, at, 7);
                rec.end(at, &mut w);
            }
            rec.flush(&mut w);
            let mut r = Reader::new(&w.buf);
            for &(a, b, c) in &values {
                prop_assert_eq!(r.wide().unwrap(), a);
                prop_assert_eq!(r.i64().unwrap(), b);
                prop_assert_eq!(r.u64().unwrap(), c);
                prop_assert_eq!(r.u8().unwrap(), 7);
            }
            prop_assert!(r.is_empty());
        }

        #[test]
        fn truncated_input_is_an_error_not_a_panic(a in any::<i128>(), cut in 0usize..19) {
            let mut w = Writer::default();
            w.i128(a);
            w.str("symbol");
            let cut = cut.min(w.buf.len() - 1);
            let mut r = Reader::new(&w.buf[..cut]);
            prop_assert!(r.i128().and_then(|_| r.str().map(|_| ())).is_err());
        }
    }

    #[test]
    fn small_numbers_take_one_byte_and_lengths_are_bounded() {
        let mut w = Writer::default();
        w.i64(-3);
        w.u64(127);
        assert_eq!(w.buf.len(), 2);
        let mut w = Writer::default();
        w.u64(1 << 40);
        let mut r = Reader::new(&w.buf);
        assert!(r.count(1).is_err());
        assert!(Reader::new(&[0xff; 20]).u128().is_err());
    }

    #[test]
    fn wide_values_take_their_bytes_and_a_length() {
        let mut rec = Record::default();
        let mut w = Writer::default();
        let mut at = rec.at();
        for v in [0, -1, 1, 63, 64, i128::MAX, i128::MIN] {
            at = put_wide(&mut rec.bytes, at, v);
        }
        rec.end(at, &mut w);
        rec.flush(&mut w);
        // 0 -> [0]; -1 -> zigzag 1; 1 -> 2; 63 -> 126; 64 -> 128 (still one byte); MAX and MIN: 16 bytes each.
        assert_eq!(&w.buf[..10], &[0, 1, 1, 1, 2, 1, 126, 1, 128, 16]);
        assert_eq!(w.buf.len(), 9 + 2 * 17);
        assert!(Reader::new(&[17]).wide().is_err());
        assert!(Reader::new(&[3, 1, 2]).wide().is_err());
    }
}
