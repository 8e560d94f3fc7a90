//! Decimal and integer text read eight bytes at a time (SWAR: SIMD within a register), for the decoders' hot paths.
//!
//! Each reader has a byte-by-byte definition (`*_scalar`) that property tests hold it to, and accepts exactly what
//! [`super::parse_e8`] (decimals) or a JSON integer (ids) accepts within its range; anything else is `None`, and the
//! caller's checked path then parses or rejects it.

/// `POW10[k]` = 10^(8 − k): the scale of a decimal with `k` digits after the point.
pub(crate) const POW10: [u64; 9] = [100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];

/// Parses the body of a decimal string followed by its closing quote: up to 10 integer digits and 8 decimals, no
/// sign, no escapes. Returns the value in e8 units and the body length, or `None` for anything else. Accepts exactly
/// what [`super::parse_e8`] accepts in that range.
///
/// Reads eight bytes at a time when the input is long enough; [`quoted_e8_scalar`] is the byte-by-byte definition it
/// is tested against. Always inlined: each call site (price, quantity) then has branches of its own, which the
/// branch predictor learns separately.
#[allow(clippy::inline_always)]
#[inline(always)]
pub fn quoted_e8(s: &[u8]) -> Option<(i64, usize)> {
    let (v, len) = quoted_e8_packed(s);
    (len != 0).then_some((v, len))
}

/// [`quoted_e8`] as `(value, body length)` with a length of 0 for a rejected input (a body has at least one
/// digit): two registers instead of an `Option` in memory, which the decoders' level loops branch on directly.
#[allow(clippy::inline_always)]
#[inline(always)]
pub fn quoted_e8_packed(s: &[u8]) -> (i64, usize) {
    if s.len() < 8 {
        return scalar_packed(s);
    }
    let head = load8(s, 0);
    match short_decimal(head) {
        (_, RUNS_ON) if s.len() >= 20 => long_decimal(s, head),
        (_, RUNS_ON) => scalar_packed(s),
        short => short,
    }
}

/// [`quoted_e8_packed`] of a number whose closing quote is within the eight bytes `head` (read from its first byte):
/// its value and body length (1 to 7), or a length of 0 for anything else (a longer number, or a malformed one),
/// which the caller then reads with [`quoted_e8_packed`] for the answer.
#[allow(clippy::inline_always)]
#[inline(always)]
pub fn quoted_e8_short(head: u64) -> (i64, usize) {
    match short_decimal(head) {
        (_, RUNS_ON) => (0, 0),
        short => short,
    }
}

/// The length [`short_decimal`] gives a number that does not end within its first eight bytes.
const RUNS_ON: usize = usize::MAX;

/// [`quoted_e8_scalar`], packed as [`quoted_e8_packed`] returns it (kept out of line: inputs near a frame's end).
#[inline(never)]
fn scalar_packed(s: &[u8]) -> (i64, usize) {
    quoted_e8_scalar(s).unwrap_or((0, 0))
}

/// [`quoted_e8_packed`] of a number longer than eight bytes (`head`: its first eight), on at least 20 bytes of
/// input. Kept out of line: the short path is inlined at each call site.
#[inline(never)]
fn long_decimal(s: &[u8], head: u64) -> (i64, usize) {
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
            return (0, 0);
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
        return (0, 0);
    }
    // < 10^10 · 10^8: fits an i64.
    ((int * POW10[0] + frac * POW10[frac_digits]) as i64, i)
}

/// [`quoted_e8_packed`] of a number that ends within its first eight bytes (`head`), such as `"427.27"` or `"260"`:
/// the point is squeezed out and all digits are converted at once. The length is [`RUNS_ON`] if the number runs on
/// (the caller reads it in two parts), 0 if it is malformed.
///
/// The first byte that is not a digit decides the shape: a quote ends an integer (no work for a point at all), a
/// point is followed by the fraction up to the next non-digit. Each call site reads one shape nearly always (COIN-M
/// prices have a point, its quantities none), so the branch on it is predicted: always inlined for that.
#[allow(clippy::inline_always)]
#[inline(always)]
fn short_decimal(head: u64) -> (i64, usize) {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    // Nonzero high nibble = not a digit (exact up to the first such byte, see `leading_digits`; a point or a quote
    // carries nothing into the next byte, so it stays exact past a point too).
    let not_digit = ((head & HIGH) ^ ZEROS) | ((head.wrapping_add(0x0606_0606_0606_0606) & HIGH) ^ ZEROS);
    let first = (not_digit.trailing_zeros() / 8) as usize;
    if first == 8 {
        return (0, RUNS_ON);
    }
    let at = |k: usize| (head >> (8 * k)) as u8;
    match at(first) {
        b'"' if first > 0 => ((digits_value_nonzero(head, first) * POW10[0]) as i64, first),
        b'.' => {
            let len = ((not_digit & !(0xFF << (8 * first))).trailing_zeros() / 8) as usize;
            if len == 8 {
                return (0, RUNS_ON);
            }
            if len == 1 || at(len) != b'"' {
                return (0, 0);
            }
            let low = (1u64 << (8 * first)) - 1;
            let merged = (head & low) | ((head >> 8) & !low);
            // At most six digits after the point (the quote is within the eight bytes): fits an i64.
            (
                (digits_value_nonzero(merged, len - 1) * POW10[(len - 1 - first) & 7]) as i64,
                len,
            )
        }
        _ => (0, 0),
    }
}

/// The byte-by-byte definition of [`quoted_e8`] (also its path for input near the end of a frame).
#[inline(never)]
pub fn quoted_e8_scalar(s: &[u8]) -> Option<(i64, usize)> {
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

/// A non-negative JSON integer of at most 18 digits (no leading zero, no fraction or exponent after it) at the
/// start of `s`: its value and length. Eight bytes at a time on at least 16 bytes of input; [`json_uint_scalar`] is
/// its definition.
#[allow(clippy::inline_always)]
#[inline(always)]
pub fn json_uint(s: &[u8]) -> Option<(u64, usize)> {
    if s.len() < 16 {
        return json_uint_scalar(s);
    }
    let head = load8(s, 0);
    let n = leading_digits(head);
    let (v, n) = if n < 8 {
        (digits_value(head, n), n)
    } else {
        let tail = load8(s, 8);
        let m = leading_digits(tail);
        if m == 8 {
            return json_uint_scalar(s);
        }
        (digits_value(head, 8) * POW10[8 - m] + digits_value(tail, m), 8 + m)
    };
    if n == 0 || (n > 1 && s[0] == b'0') || matches!(s.get(n), Some(b'.' | b'e' | b'E')) {
        return None;
    }
    Some((v, n))
}

/// The byte-by-byte definition of [`json_uint`].
pub fn json_uint_scalar(s: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut n = 0;
    while n < s.len() && n < 19 {
        let d = s[n].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v * 10 + u64::from(d);
        n += 1;
    }
    if n == 0 || n > 18 || (n > 1 && s[0] == b'0') || matches!(s.get(n), Some(b'.' | b'e' | b'E')) {
        return None;
    }
    Some((v, n))
}

/// The index of the first `byte` in `s`, eight bytes at a time (for short names, where a byte loop would cost a
/// compare and a branch per byte).
#[inline]
pub fn position_of(s: &[u8], byte: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while at + 8 <= s.len() {
        let x = load8(s, at) ^ (u64::from(byte) * ONES);
        // High bit set where a byte of `x` is 0 (exact up to the first one, as in `short_decimal`).
        let found = x.wrapping_sub(ONES) & !x & HIGH;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    s[at..].iter().position(|&b| b == byte).map(|i| at + i)
}

/// Eight bytes from `at`, the first in the lowest byte.
#[inline]
pub fn load8(s: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(b)
}

/// How many of the eight bytes, from the first, are ASCII digits.
#[inline]
fn leading_digits(chunk: u64) -> usize {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    // A byte is a digit when its high nibble is 3 both as is and after adding 6 (0x30..=0x39). A carry out of a
    // byte that is not a digit can only disturb later bytes, which are not counted.
    let not_digit = ((chunk & HIGH) ^ ZEROS) | ((chunk.wrapping_add(0x0606_0606_0606_0606) & HIGH) ^ ZEROS);
    (not_digit.trailing_zeros() / 8) as usize
}

/// The value of the first `n` (0..=8) bytes of `chunk`, all ASCII digits.
#[inline]
fn digits_value(chunk: u64, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    digits_value_nonzero(chunk, n)
}

/// [`digits_value`] for `n` in 1..=8.
#[inline]
fn digits_value_nonzero(chunk: u64, n: usize) -> u64 {
    debug_assert!((1..=8).contains(&n));
    // Move the digits to the top bytes; the bytes shifted in read as leading zeros.
    let v = chunk << ((8 * (8 - n)) & 63);
    let v = ((v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561)) >> 8;
    let v = ((v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601)) >> 16;
    ((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001)) >> 32
}
