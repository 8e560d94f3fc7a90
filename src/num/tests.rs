use super::*;
use proptest::prelude::*;
use rstest::rstest;

#[rstest]
#[case::btc_price("71273.44000000", 7_127_344_000_000)]
#[case::tiny_qty("0.00001234", 1_234)]
#[case::largest_filter("46116860184.27387903", 4_611_686_018_427_387_903)]
#[case::i64_max("92233720368.54775807", i64::MAX)]
#[case::zero("0", 0)]
#[case::zero_three("0.000", 0)]
#[case::zero_eight("0.00000000", 0)]
#[case::zero_one("0.0", 0)]
#[case::integer("2800", 280_000_000_000)]
#[case::pepe_qty("12345678901.00", 1_234_567_890_100_000_000)]
#[case::negative_funding("-0.00010000", -10_000)]
#[case::trailing_zero_beyond_scale("0.000000010", 1)]
#[case::leading_dot(".5", 50_000_000)]
#[case::trailing_dot("5.", 500_000_000)]
fn parses_binance_decimals(#[case] text: &str, #[case] want: i64) {
    assert_eq!(parse_str(text), Ok(want));
}

#[rstest]
#[case::empty("")]
#[case::exponent("1e5")]
#[case::minus_only("-")]
#[case::nan("NaN")]
#[case::two_dots("1.2.3")]
#[case::nine_decimals("0.000000001")]
#[case::plus("+1")]
#[case::space(" 1")]
#[case::inner_minus("1-2")]
#[case::just_dot(".")]
#[case::overflow("92233720368.54775808")]
#[case::huge("1000000000000000000000")]
fn rejects_malformed_numbers(#[case] text: &str) {
    assert!(parse_str(text).is_err(), "{text:?} should be rejected");
}

#[test]
fn error_kinds_are_specific() {
    assert_eq!(parse_str(""), Err(NumError::Empty));
    assert!(matches!(
        parse_str("0.123456789"),
        Err(NumError::TooManyDecimals { .. })
    ));
    assert!(matches!(
        parse_str("1e5"),
        Err(NumError::InvalidChar { pos: 1, found: 'e', .. })
    ));
    assert!(matches!(parse_str("99999999999"), Err(NumError::Overflow { .. })));
    assert!(matches!(parse_str("-"), Err(NumError::NoDigits { .. })));
}

#[rstest]
#[case("2800.00000000", "2800")]
#[case("0.00001234", "0.00001234")]
#[case("71273.44000000", "71273.44")]
#[case("0.000", "0")]
#[case("46116860184.27387903", "46116860184.27387903")]
#[case("-0.00010000", "-0.0001")]
fn formats_normalized(#[case] text: &str, #[case] want: &str) {
    assert_eq!(format_e8(parse_str(text).unwrap()), want);
}

#[test]
fn fixed_format_round_trips_binance_spelling() {
    for text in [
        "71273.44000000",
        "0.00001234",
        "0.00000000",
        "46116860184.27387903",
        "1.000",
    ] {
        let decimals = text.split('.').nth(1).map_or(0, |f| f.len() as u32);
        assert_eq!(format_e8_fixed(parse_str(text).unwrap(), decimals), text);
    }
}

#[test]
fn notional_of_extremes_is_exact() {
    // The largest price times the largest quantity still fits: i64::MAX² < i128::MAX.
    let n = notional(i64::MAX, i64::MAX);
    assert_eq!(n, i128::from(i64::MAX) * i128::from(i64::MAX));
    assert_eq!(
        format_e16(notional(parse_str("0.5").unwrap(), parse_str("0.5").unwrap())),
        "0.25"
    );
    assert_eq!(
        format_e16(notional(
            parse_str("0.00000001").unwrap(),
            parse_str("0.00000001").unwrap()
        )),
        "0.0000000000000001"
    );
    assert!(checked_add_i128(i128::MAX, 1).is_err());
}

/// A slow reference: integer and fraction parsed separately with u128 arithmetic.
fn reference_parse(text: &str) -> Option<i128> {
    let (neg, body) = text.strip_prefix('-').map_or((false, text), |b| (true, b));
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 8 || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac_v: i128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<8}").parse().ok()?
    };
    let v = int.checked_mul(100_000_000)? + frac_v;
    Some(if neg { -v } else { v })
}

proptest! {
    #[test]
    fn parse_matches_reference(int in 0u64..100_000_000_000, frac in 0u32..100_000_000, width in 0usize..=8, neg: bool) {
        let frac_text = format!("{frac:08}");
        let text = if width == 0 { format!("{int}") } else { format!("{int}.{}", &frac_text[..width]) };
        let text = if neg { format!("-{text}") } else { text };
        let want = reference_parse(&text).filter(|v| i64::try_from(*v).is_ok()).map(|v| v as i64);
        prop_assert_eq!(parse_str(&text).ok(), want);
    }

    #[test]
    fn format_parse_round_trip(v in any::<i64>().prop_filter("i64::MIN has no positive twin", |v| *v != i64::MIN)) {
        prop_assert_eq!(parse_str(&format_e8(v)), Ok(v));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[-0-9.eE+ ]{0,24}") {
        let got = parse_str(&text).ok().map(i128::from);
        let want = reference_parse(&text).filter(|v| i64::try_from(*v).is_ok());
        prop_assert_eq!(got, want);
    }
}

/// Number-ish text: digits, points, quotes and a few other bytes, long enough for the eight-byte reads.
fn numberish() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(prop::sample::select(b"0123456789000.\"\"x-e,".to_vec()), 0..30),
        0usize..24,
    )
        .prop_map(|(mut v, pad)| {
            v.extend(std::iter::repeat_n(b',', pad));
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    /// The eight-bytes-at-a-time decimal and integer readers equal their byte-by-byte definitions, and a decimal
    /// they accept is the value `parse_e8` gives its text.
    #[test]
    fn swar_numbers_equal_scalar(s in numberish()) {
        let decimal = swar::quoted_e8(&s);
        prop_assert_eq!(decimal, swar::quoted_e8_scalar(&s));
        if let Some((v, len)) = decimal {
            prop_assert_eq!(s[len], b'"');
            prop_assert_eq!(parse_e8(&s[..len]), Ok(v));
        }
        prop_assert_eq!(swar::json_uint(&s), swar::json_uint_scalar(&s));
    }

    /// Real decimal spellings (prices, quantities, ids) with something after them.
    #[test]
    fn swar_decimals_of_real_shapes(int in 0u64..100_000_000_000, frac in 0u64..100_000_000, places in 0usize..10, tail in "[\"0-9,.\\]]{0,25}") {
        let text = match places {
            0 => format!("{int}{tail}"),
            p => format!("{int}.{:0>p$}{tail}", frac % 10u64.pow(p.min(9) as u32)),
        };
        let s = text.as_bytes();
        prop_assert_eq!(swar::quoted_e8(s), swar::quoted_e8_scalar(s));
        let uint = swar::json_uint(s);
        prop_assert_eq!(uint, swar::json_uint_scalar(s));
        if let Some((v, len)) = uint {
            prop_assert_eq!(text[..len].parse::<u64>().ok(), Some(v));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The eight-bytes-at-a-time search finds the same first byte as a byte loop.
    #[test]
    fn position_of_equals_a_byte_loop(s in prop::collection::vec(prop_oneof![Just(b'@'), any::<u8>()], 0..40), byte in prop_oneof![Just(b'@'), any::<u8>()]) {
        prop_assert_eq!(swar::position_of(&s, byte), s.iter().position(|&b| b == byte));
    }
}

/// A slow reference of the normalized spelling: all the digits of the magnitude, zero-padded, split at the scale,
/// trailing zeros of the fraction cut as text.
fn reference_format(v: i128, scale: usize) -> String {
    let digits = format!("{:0>width$}", v.unsigned_abs(), width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    let frac = frac.trim_end_matches('0');
    let sign = if v < 0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

#[rstest]
#[case::zero(0)]
#[case::one_unit(1)]
#[case::minus_one_unit(-1)]
#[case::i128_max(i128::MAX)]
#[case::i128_min(i128::MIN)]
#[case::u64_edge(i128::from(u64::MAX) * 100_000_000 * 100_000_000)]
#[case::past_u64_edge(i128::from(u64::MAX) * 100_000_000 * 100_000_000 + 100_000_000 * 100_000_000)]
#[case::whole(7 * NOTIONAL_ONE)]
fn formats_wide_extremes_like_the_reference(#[case] v: i128) {
    assert_eq!(format_e16(v), reference_format(v, 16));
    assert_eq!(format_e8_wide(v), reference_format(v, 8));
}

proptest! {
    #[test]
    fn formats_equal_the_reference(v in any::<i128>(), e8 in any::<i64>(), small in -10_000_000_000i64..10_000_000_000) {
        prop_assert_eq!(format_e16(v), reference_format(v, 16));
        prop_assert_eq!(format_e8_wide(v), reference_format(v, 8));
        prop_assert_eq!(format_e8(e8), reference_format(i128::from(e8), 8));
        prop_assert_eq!(format_e8(small), reference_format(i128::from(small), 8));
        // Notionals of real prices and quantities: the integer part fits a u64, the fraction has few digits.
        let n = notional(small.abs(), e8.rem_euclid(1_000_000_000_000));
        prop_assert_eq!(format_e16(n), reference_format(n, 16));
    }
}

/// Every body of up to seven bytes over digits, a point, a quote and another byte, with room after it for the
/// eight-byte reads: the decimal readers accept exactly the bodies `parse_e8` accepts, with its value, up to the
/// first quote (the short path's shapes: integers, fractions, a point first or last, two points, no digit).
#[test]
fn short_decimals_equal_parse_e8_exhaustively() {
    const ALPHABET: &[u8] = b"079.\"x";
    for len in 0..=7u32 {
        for mut code in 0..ALPHABET.len().pow(len) {
            let mut s = Vec::with_capacity(len as usize + 12);
            for _ in 0..len {
                s.push(ALPHABET[code % ALPHABET.len()]);
                code /= ALPHABET.len();
            }
            s.extend_from_slice(b"\",,,,,,,,,,");
            let quote = s.iter().position(|&b| b == b'"').expect("appended");
            let want = parse_e8(&s[..quote]).ok().map(|v| (v, quote));
            assert_eq!(swar::quoted_e8(&s), want, "{:?}", String::from_utf8_lossy(&s));
            // The short reader: the same within eight bytes, a length of 0 for anything else.
            let short = swar::quoted_e8_short(swar::load8(&s, 0));
            assert_eq!(short, want.unwrap_or((0, 0)), "{:?}", String::from_utf8_lossy(&s));
        }
    }
}

/// The nearest float to `v × 10^-scale`: the integer in exponent notation, read by the standard library's correctly
/// rounding parser (independent of the digit writer the conversions use).
fn nearest(v: i128, scale: u32) -> f64 {
    format!("{v}e-{scale}").parse().expect("a number")
}

#[rstest]
#[case::exact_below_2_53(1 << 53)]
#[case::just_past_2_53((1 << 53) + 1)]
#[case::a_btc_liquidation(6_234_512_345_678_901_234_567)]
#[case::negative(-6_234_512_345_678_901_234_567)]
#[case::i128_max(i128::MAX)]
#[case::i128_min(i128::MIN)]
fn floats_are_the_nearest_to_the_exact_value(#[case] v: i128) {
    assert_eq!(e16_to_f64(v).to_bits(), nearest(v, 16).to_bits());
    assert_eq!(e8_wide_to_f64(v).to_bits(), nearest(v, 8).to_bits());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]
    #[test]
    fn e16_floats_are_the_nearest(v in prop_oneof![any::<i64>().prop_map(i128::from), -(10_i128.pow(28))..10_i128.pow(28), any::<i128>()]) {
        prop_assert_eq!(e16_to_f64(v).to_bits(), nearest(v, 16).to_bits());
    }

    #[test]
    fn e8_floats_are_the_nearest(v in any::<i64>(), w in -(10_i128.pow(24))..10_i128.pow(24)) {
        prop_assert_eq!(e8_to_f64(v).to_bits(), nearest(i128::from(v), 8).to_bits());
        prop_assert_eq!(e8_wide_to_f64(w).to_bits(), nearest(w, 8).to_bits());
    }
}

#[test]
fn dividing_a_rounded_notional_was_off() {
    // Why the conversions do not divide a rounded integer: a notional where that is a unit in the last place off.
    let off = (1_i128 << 60..(1 << 60) + 10_000).find(|&v| (v as f64 / 1e16).to_bits() != nearest(v, 16).to_bits());
    let v = off.expect("some notional near 2^60 units rounds twice");
    assert_eq!(e16_to_f64(v).to_bits(), nearest(v, 16).to_bits());
}

#[test]
fn ties_and_powers_of_two_are_the_nearest() {
    // Exact halves between two floats (ties go to the even one) and quotients next to a power of two, where the
    // spacing of floats changes: every one against the parser.
    let mut cases = vec![(1_i128 << 53) + 1, (1 << 53) + 3, (1 << 54) + 2, (1 << 54) + 6];
    cases = cases.into_iter().map(|t| t * 10_i128.pow(16)).collect();
    for k in 0..72 {
        for scale in [8_i128, 16] {
            let at = (1_i128 << k) * 10_i128.pow(scale as u32);
            cases.extend((-3..=3).map(|delta| at + delta));
        }
    }
    for v in cases.into_iter().flat_map(|v| [v, -v]) {
        assert_eq!(e16_to_f64(v).to_bits(), nearest(v, 16).to_bits(), "{v} e-16");
        assert_eq!(e8_wide_to_f64(v).to_bits(), nearest(v, 8).to_bits(), "{v} e-8");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]
    #[test]
    fn floats_of_every_magnitude_are_the_nearest(mantissa: u64, shift in 0u32..63, neg: bool) {
        // Log-uniform magnitudes up to 2^126: both ways of scaling in `nearest_quotient` and its fallback.
        let v = i128::from(mantissa) << shift;
        let v = if neg { -v } else { v };
        prop_assert_eq!(e16_to_f64(v).to_bits(), nearest(v, 16).to_bits());
        prop_assert_eq!(e8_wide_to_f64(v).to_bits(), nearest(v, 8).to_bits());
    }
}
