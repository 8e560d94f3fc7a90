//! The byte cursor of the template paths: literal matches and the few value readers Binance's layouts need.

use super::super::json::{is_ws, Level, LevelSink};
use crate::num::swar::{json_uint, load8, quoted_e8, quoted_e8_packed, quoted_e8_short};

pub(super) struct Cursor<'a> {
    pub(super) s: &'a [u8],
    pub(super) i: usize,
}

impl<'a> Cursor<'a> {
    /// Matches a short literal. Always inlined, so that the literal's length is a constant and the comparison
    /// compiles to a few word compares instead of a call to `memcmp`.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(super) fn lit(&mut self, word: &[u8]) -> Option<()> {
        let rest = self.s.get(self.i..self.i + word.len())?;
        if rest != word {
            return None;
        }
        self.i += word.len();
        Some(())
    }

    #[inline]
    pub(super) fn opt(&mut self, word: &[u8]) -> bool {
        self.lit(word).is_some()
    }

    /// A non-negative JSON integer of at most 18 digits (no leading zero).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(super) fn uint(&mut self) -> Option<u64> {
        let (v, n) = json_uint(&self.s[self.i..])?;
        self.i += n;
        Some(v)
    }

    /// The body of a plain ASCII string (no escape, no control character) up to its closing quote.
    #[inline]
    pub(super) fn plain_str(&mut self) -> Option<&'a [u8]> {
        let s = &self.s[self.i..];
        let end = plain_end(s)?;
        (s[end] == b'"').then(|| {
            self.i += end + 1;
            &s[..end]
        })
    }

    /// A decimal string body and its closing quote: up to 10 integer digits and 8 decimals.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(super) fn decimal(&mut self) -> Option<i64> {
        let (v, len) = quoted_e8(&self.s[self.i..])?;
        self.i += len + 1;
        Some(v)
    }

    /// `true` or `false`.
    #[inline]
    pub(super) fn boolean(&mut self) -> Option<bool> {
        if self.opt(b"true") {
            Some(true)
        } else {
            self.lit(b"false").map(|()| false)
        }
    }

    /// Only white space may follow the object; the general decoder judges everything else.
    #[inline]
    pub(super) fn at_end(&self) -> bool {
        self.s[self.i..].iter().all(|&b| is_ws(b))
    }

    /// `[["p","q"],...]`, read a level at a time: the separators between two numbers are matched as one two-byte
    /// word each (`[` + `"`, `,` + `"`, `]` + `,` or `]` + `]`), so a level costs its two numbers and four compares.
    ///
    /// With `short` set, levels of two numbers of at most seven bytes (futures prices and quantities) are read from
    /// a fixed-size block, without a bounds check per separator ([`short_level`]), until one is not (then the rest
    /// of the list takes the general steps). A list that ends on the general steps leaves `short` saying whether its
    /// last level had two such numbers, so that the next list tries the blocks again, or does not (spot's numbers
    /// have eight decimals). It only chooses the way: the result is the same either way.
    #[inline]
    pub(super) fn levels(&mut self, out: &mut impl LevelSink, short: &mut bool) -> Option<()> {
        let s = self.s;
        let mut i = self.i;
        match s.get(i..i + 2)? {
            b"[]" => {
                self.i = i + 2;
                return Some(());
            }
            b"[[" => i += 1,
            _ => return None,
        }
        if *short {
            while let Some((level, end, block)) = s.get(i..).and_then(short_level) {
                out.push_level(level);
                match (block[end], block[end + 1]) {
                    (b']', b',') if block[end + 2] == b'[' => i += end + 2,
                    (b']', b']') => {
                        self.i = i + end + 2;
                        return Some(());
                    }
                    _ => return None,
                }
            }
        }
        loop {
            // `i` is at a level's `[`.
            if s.get(i + 1) != Some(&b'"') {
                return None;
            }
            let (price, n) = quoted_e8_packed(s.get(i + 2..)?);
            if n == 0 || s.get(i + n + 3..i + n + 5)? != b",\"" {
                return None;
            }
            i += n + 3;
            let (qty, m) = quoted_e8_packed(s.get(i + 2..)?);
            if m == 0 {
                return None;
            }
            i += m + 3;
            out.push_level((price, qty));
            match s.get(i..i + 2)? {
                b"]," if s.get(i + 2) == Some(&b'[') => i += 2,
                b"]]" => {
                    self.i = i + 2;
                    *short = n <= 7 && m <= 7;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// A level `["p","q"` of two numbers that each close within eight bytes, at the start of `rest` with at least
/// [`BLOCK`] bytes: the level, the index of the byte after its last quote (at most 20) and the block, or `None` (the
/// general steps then read it, with the same result).
#[allow(clippy::inline_always)]
#[inline(always)]
fn short_level(rest: &[u8]) -> Option<(Level, usize, &[u8; BLOCK])> {
    let block = rest.first_chunk::<BLOCK>()?;
    if block[1] != b'"' {
        return None;
    }
    let (price, n) = quoted_e8_short(load8(block, 2));
    // `n` is at most 7: the separator is within the block.
    let at = n + 3;
    if n == 0 || n > 7 || block[at] != b',' || block[at + 1] != b'"' {
        return None;
    }
    let (qty, m) = quoted_e8_short(load8(block, at + 2));
    if m == 0 || m > 7 {
        return None;
    }
    Some(((price, qty), at + m + 3, block))
}

/// The bytes [`short_level`] reads: a level of two seven-byte numbers and the three bytes after it.
const BLOCK: usize = 24;

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
