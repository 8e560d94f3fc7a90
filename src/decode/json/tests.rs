use proptest::prelude::*;
use rstest::rstest;

use super::*;

fn validates(text: &str) -> bool {
    let mut r = Reader::new(text.as_bytes());
    r.skip().and_then(|()| r.finish()).is_ok()
}

#[rstest]
#[case::object(r#"{"a":[1,-2.5e3,"x\"y",true,false,null,{}],"b":{"c":[]}}"#)]
#[case::whitespace(" { \"a\" : [ 1 , 2 ] } \n")]
#[case::escapes(r#""\u00e9\n\t\\\/""#)]
#[case::zero("0")]
#[case::negative_fraction("-0.5")]
fn accepts_valid_json(#[case] text: &str) {
    assert!(validates(text), "{text}");
}

#[rstest]
#[case::leading_zero("01")]
#[case::bare_minus("-")]
#[case::dot_without_digits("1.")]
#[case::exponent_without_digits("1e")]
#[case::trailing_comma("[1,]")]
#[case::missing_colon(r#"{"a" 1}"#)]
#[case::unterminated(r#""abc"#)]
#[case::control_char("\"a\u{1}b\"")]
#[case::bad_escape(r#""\x""#)]
#[case::bad_literal("tru")]
#[case::two_values("1 2")]
#[case::single_quotes("'a'")]
#[case::empty("")]
fn rejects_invalid_json(#[case] text: &str) {
    assert!(!validates(text), "{text}");
}

#[test]
fn integers_are_range_checked() {
    let mut r = Reader::new(b"9223372036854775807");
    assert_eq!(r.int("x"), Ok(i64::MAX));
    let mut r = Reader::new(b"9223372036854775808");
    assert!(r.int("x").is_err());
    let mut r = Reader::new(b"1.0");
    assert!(matches!(r.int("x"), Err(DecodeError::WrongType { field: "x", .. })));
}

#[test]
fn strings_unescape() {
    let mut r = Reader::new(br#""caf\u00e9 \ud83d\ude00 \"q\"""#);
    assert_eq!(r.string("s").unwrap(), "caf\u{e9} \u{1f600} \"q\"");
}

#[test]
fn closing_the_outermost_object_checks_the_rest() {
    let mut r = Reader::new(br#"{"a":1} x"#);
    assert_eq!(r.open_object().unwrap(), Some(&b"a"[..]));
    r.skip().unwrap();
    assert!(r.next_key().is_err(), "trailing characters after the object");
}

fn json_token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"k\"",
        "\"a\\\"b\"",
        "1",
        "-2",
        "0.5",
        "1e3",
        "01",
        "-",
        "true",
        "null",
        "fals",
        " ",
        "\"",
        "\\",
        ".",
    ])
}

proptest! {
    /// The validator accepts exactly what a reference JSON parser accepts.
    #[test]
    fn validation_matches_serde_json(tokens in prop::collection::vec(json_token(), 0..16)) {
        let text: String = tokens.concat();
        let reference = serde_json::from_str::<serde_json::Value>(&text).is_ok();
        prop_assert_eq!(validates(&text), reference, "{}", text);
    }
}

proptest! {
    /// The fast decimal path agrees with `parse_e8` on every string, valid or not.
    #[test]
    fn decimal_fast_path_matches_parse_e8(text in "-?[0-9]{0,12}(\\.[0-9]{0,10})?[0-9e.]?") {
        let quoted = format!("\"{text}\"");
        let fast = Reader::new(quoted.as_bytes()).decimal("x").ok();
        prop_assert_eq!(fast, crate::num::parse_str(&text).ok());
    }

    /// The fast integer path agrees with the checked one.
    #[test]
    fn int_fast_path_matches_checked(text in "-?[0-9]{1,20}(\\.[0-9])?") {
        let fast = Reader::new(text.as_bytes()).int("x").ok();
        let digits = text.trim_start_matches('-');
        let leading_zero = digits.len() > 1 && digits.starts_with('0');
        let reference = text.parse::<i64>().ok().filter(|_| !leading_zero);
        prop_assert_eq!(fast, reference);
    }
}
