use super::SymbolIndex;

#[test]
fn slots_are_dense_and_stable_in_order_of_first_appearance() {
    let mut s = SymbolIndex::default();
    assert_eq!(s.slot("BTCUSDT"), (0, true));
    assert_eq!(s.slot("ETHUSDT"), (1, true));
    assert_eq!(s.slot("BTCUSDT"), (0, false));
    assert_eq!(s.slot_ascii(b"BTCUSDT"), (0, false));
    assert_eq!((s.get("ETHUSDT"), s.get("XRPUSDT")), (Some(1), None));
    assert_eq!(s.names(), ["BTCUSDT", "ETHUSDT"]);
    assert_eq!((s[1].as_str(), s.len()), ("ETHUSDT", 2));
    s.clear();
    assert!(s.is_empty() && s.get("BTCUSDT").is_none());
}
