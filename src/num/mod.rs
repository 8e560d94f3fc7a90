//! Exact fixed-point numbers for Binance decimal strings.
//!
//! Binance keeps every price and quantity with at most 8 decimals in 64-bit integers, and sends them as
//! JSON strings (`"71273.44000000"`, `"0.00001234"`, `"0"`). We parse those strings straight into an
//! `i64` count of 1e-8 units ("e8 units") — never through a float — so that sums are exact. A notional
//! (price × quantity) is an `i128` count of 1e-16 units; sums of notionals stay in `i128`.
//!
//! The largest value Binance's filters allow is `92233720368.54775807` (`i64::MAX` e8 units); anything
//! above is an overflow error, never a wrap.
//!
//! [`swar`] holds the decoders' fast readers of the same text, eight bytes at a time, each held to a byte-by-byte
//! definition.

use std::fmt::Write as _;

pub mod swar;

/// Decimal places kept: Binance's own precision.
pub const SCALE: u32 = 8;
/// One whole unit in e8 units.
pub const ONE: i64 = 100_000_000;
/// One whole unit of a notional (price × quantity) in e16 units.
pub const NOTIONAL_ONE: i128 = (ONE as i128) * (ONE as i128);

/// Why a decimal string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumError {
    #[error("empty number")]
    Empty,
    #[error("invalid character {found:?} at position {pos} in {text:?}")]
    InvalidChar { text: String, pos: usize, found: char },
    #[error("number {text:?} has no digits")]
    NoDigits { text: String },
    #[error("number {text:?} has more than 8 decimals")]
    TooManyDecimals { text: String },
    #[error("number {text:?} is out of range for 8-decimal fixed point")]
    Overflow { text: String },
    #[error("arithmetic overflow in {op}")]
    ArithmeticOverflow { op: &'static str },
}

fn text_of(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// Parses a Binance decimal string into e8 units.
///
/// Accepts an optional leading `-`, digits, and at most one `.` followed by at most 8 digits (trailing zeros
/// beyond the 8th decimal are accepted: `"0.000000010"` is exactly 1e-8). Rejects exponents, signs other than a
/// leading minus, `NaN`, empty strings and anything else.
pub fn parse_e8(s: &[u8]) -> Result<i64, NumError> {
    if s.is_empty() {
        return Err(NumError::Empty);
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    // Accumulate the magnitude as a negative number so that i64::MIN-sized inputs do not overflow early; the
    // common path (short numbers) never comes near the limit.
    let mut acc: i64 = 0;
    let mut int_digits = 0usize;
    let mut frac_digits = 0u32;
    let mut seen_dot = false;
    let overflow = || NumError::Overflow { text: text_of(s) };
    for (i, &c) in body.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                let d = i64::from(c - b'0');
                if seen_dot {
                    if frac_digits == SCALE {
                        if d != 0 {
                            return Err(NumError::TooManyDecimals { text: text_of(s) });
                        }
                        continue;
                    }
                    frac_digits += 1;
                } else {
                    int_digits += 1;
                }
                acc = acc
                    .checked_mul(10)
                    .and_then(|a| a.checked_sub(d))
                    .ok_or_else(overflow)?;
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => {
                return Err(NumError::InvalidChar {
                    text: text_of(s),
                    pos: i + usize::from(neg),
                    found: char::from(c),
                })
            }
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return Err(NumError::NoDigits { text: text_of(s) });
    }
    let acc = acc.checked_mul(10_i64.pow(SCALE - frac_digits)).ok_or_else(overflow)?;
    if neg {
        Ok(acc)
    } else {
        acc.checked_neg().ok_or_else(overflow)
    }
}

/// Parses a decimal given as `&str`; see [`parse_e8`].
pub fn parse_str(s: &str) -> Result<i64, NumError> {
    parse_e8(s.as_bytes())
}

/// Writes `v` e8 units as a normalized decimal: no exponent, no trailing zeros, no trailing dot
/// (`280000000000` → `"2800"`, `1234` → `"0.00001234"`, `0` → `"0"`).
pub fn write_e8(out: &mut String, v: i64) {
    write_scaled(out, i128::from(v), SCALE);
}

/// Formats e8 units as a normalized decimal string; see [`write_e8`].
pub fn format_e8(v: i64) -> String {
    let mut s = String::with_capacity(24);
    write_e8(&mut s, v);
    s
}

/// Formats e8 units with exactly `decimals` (≤ 8) places, as Binance prints them (`"71273.44000000"`).
/// Digits beyond `decimals` must be zero, otherwise the full normalized form is returned.
pub fn format_e8_fixed(v: i64, decimals: u32) -> String {
    let decimals = decimals.min(SCALE);
    let drop = 10_i64.pow(SCALE - decimals);
    if v % drop != 0 {
        return format_e8(v);
    }
    let mut s = String::with_capacity(24);
    let mag = i128::from(v).unsigned_abs();
    if v < 0 {
        s.push('-');
    }
    let unit = 10_u128.pow(SCALE);
    let _ = write!(s, "{}", mag / unit);
    if decimals > 0 {
        let frac = (mag % unit) / (drop as u128);
        let _ = write!(s, ".{:0width$}", frac, width = decimals as usize);
    }
    s
}

/// Formats a wide e8 sum (`i128`, e.g. a base volume) as a normalized decimal string.
pub fn format_e8_wide(v: i128) -> String {
    let mut s = String::with_capacity(40);
    write_scaled(&mut s, v, SCALE);
    s
}

/// Formats an e16 notional (price × quantity) as a normalized decimal string.
pub fn format_e16(v: i128) -> String {
    let mut s = String::with_capacity(40);
    write_scaled(&mut s, v, 2 * SCALE);
    s
}

/// Writes `v` units of `10^-scale` (`scale` ≤ 16) as a normalized decimal. Every exact string of an action or a
/// query is made here, so the digits go right to left into a stack buffer with integer arithmetic only: `core::fmt`
/// took about 1,100 instructions a number (a third of a liquidation's cost through `apply_frames`).
fn write_scaled(out: &mut String, v: i128, scale: u32) {
    out.push_str(scaled_text(&mut [0u8; 48], v, scale));
}

/// The decimal of [`write_scaled`], written at the end of `buf` (`i128::MIN` has 39 digits; with the sign and the
/// point 41 bytes).
fn scaled_text(buf: &mut [u8; 48], v: i128, scale: u32) -> &str {
    debug_assert!(scale <= 16, "the fraction must fit a u64");
    let mut pos = buf.len();
    let mut push = |d: u8| {
        pos -= 1;
        buf[pos] = d;
    };
    let mag = v.unsigned_abs();
    let unit = 10_u128.pow(scale);
    let (int, frac) = (mag / unit, (mag % unit) as u64);
    if frac != 0 {
        let (mut f, mut width) = (frac, scale);
        while f % 10 == 0 {
            f /= 10;
            width -= 1;
        }
        for _ in 0..width {
            push(b'0' + (f % 10) as u8);
            f /= 10;
        }
        push(b'.');
    }
    // The integer part: digits by u128 division only while it is past u64 (a notional over 1.8e19 units).
    let mut wide = int;
    while wide > u128::from(u64::MAX) {
        push(b'0' + (wide % 10) as u8);
        wide /= 10;
    }
    let mut i = wide as u64;
    loop {
        push(b'0' + (i % 10) as u8);
        i /= 10;
        if i == 0 {
            break;
        }
    }
    if v < 0 {
        push(b'-');
    }
    // Only ASCII digits, '.' and '-' were written.
    std::str::from_utf8(&buf[pos..]).unwrap_or_default()
}

/// `v` units of `10^-scale` (`scale` ≤ 16) as the nearest float (ties to even). Where `v` is exact as a float
/// (|v| ≤ 2^53) that is one division, as both operands are exact and the quotient is rounded once; beyond,
/// `v as f64 / 10^scale` rounds twice (up to two units in the last place off: any notional over 0.9 in e16 units),
/// and [`nearest_quotient`] corrects it.
fn scaled_to_f64(v: i128, scale: u32) -> f64 {
    debug_assert!(scale <= 16, "10^scale must be a float exactly");
    // 10^scale is a float exactly: 5^16 < 2^53.
    let d = 10_u64.pow(scale);
    let x = v.unsigned_abs();
    let q = if x <= 1 << 53 {
        // Through u64: a u128 becomes a float by a library call, a u64 by one instruction.
        (x as u64) as f64 / d as f64
    } else {
        nearest_quotient(x, d)
            .unwrap_or_else(|| scaled_text(&mut [0u8; 48], v, scale).parse().unwrap_or(f64::NAN).abs())
    };
    if v < 0 {
        -q
    } else {
        q
    }
}

/// The float nearest to `x / d` (2^53 < `x` < 2^125, `d` ≤ 10^16), ties to even, with integer arithmetic only:
/// the quotient of the rounded `x` is `m · 2^e` with `m` at most two units off, and `off`, twice the exact distance
/// from `m · 2^e` in units of `2^e / d` (or of `1 / d` when `e` ≥ 0), moves `m` to the nearest: a midpoint is one
/// `unit` away. `None` where the quotient is not inside the binade `[2^52, 2^53) · 2^e` of the first guess (within
/// two units of a power of two, where the spacing of floats changes; the caller then parses the exact decimal).
fn nearest_quotient(x: u128, d: u64) -> Option<f64> {
    const LOW: u64 = 1 << 52;
    if x >= 1 << 125 {
        return None;
    }
    let guess = x as f64 / d as f64; // at least 2^53 / 10^16: a normal float
    let bits = guess.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i32 - 1075; // guess = m · 2^e
    let mut m = (bits & (LOW - 1)) | LOW;
    // e < 0: x · 2^-e is about m · d, under 2^107; e ≥ 0: m · d · 2^e is about x, under 2^125. Both fit an i128.
    let (two_x, unit) = if e < 0 {
        (x << (1 - e), u128::from(d))
    } else {
        (x << 1, u128::from(d) << e)
    };
    let mut off = two_x as i128 - (2 * u128::from(m) * unit) as i128;
    let unit = unit as i128;
    loop {
        if m == LOW && off < 0 {
            return None; // below the binade's first float, where floats are twice as close
        }
        if off > unit || (off == unit && m & 1 == 1) {
            m += 1;
            off -= 2 * unit;
        } else if off < -unit || (off == -unit && m & 1 == 1) {
            m -= 1;
            off += 2 * unit;
        } else {
            break;
        }
        if !(LOW..2 * LOW).contains(&m) {
            return None;
        }
    }
    let exponent = u64::try_from(e + 1075).ok()?;
    Some(f64::from_bits((exponent << 52) | (m - LOW)))
}

/// Exact notional of `price × qty` (both e8 units) in e16 units; never overflows for i64 inputs.
#[inline]
pub fn notional(price: i64, qty: i64) -> i128 {
    i128::from(price) * i128::from(qty)
}

/// Checked i128 addition for running sums, an error instead of a wrap.
#[inline]
pub fn checked_add_i128(a: i128, b: i128) -> Result<i128, NumError> {
    a.checked_add(b).ok_or(NumError::ArithmeticOverflow { op: "i128 add" })
}

/// Converts e8 units to the nearest float, for display and `NumPy` export (the only place floats appear).
#[inline]
pub fn e8_to_f64(v: i64) -> f64 {
    scaled_to_f64(i128::from(v), SCALE)
}

/// Converts a wide e8 sum to the nearest float, for display and `NumPy` export.
#[inline]
pub fn e8_wide_to_f64(v: i128) -> f64 {
    scaled_to_f64(v, SCALE)
}

/// Converts an e16 notional (price × quantity) to the nearest float, for display and `NumPy` export.
#[inline]
pub fn e16_to_f64(v: i128) -> f64 {
    scaled_to_f64(v, 2 * SCALE)
}

#[cfg(test)]
mod tests;
