use super::*;
use rstest::rstest;

fn decode(frame: &str) -> Result<Vec<Event>, DecodeError> {
    Decoder::default().decode(frame.as_bytes()).map(Decoded::into_events)
}

fn one(frame: &str) -> Event {
    let mut events = decode(frame).unwrap();
    assert_eq!(events.len(), 1, "{frame}");
    events.remove(0)
}

const SPOT_DEPTH: &str = r#"{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512068,"s":"NKNUSDT","U":499869750,"u":499869752,"b":[["0.35130000","6195.00000000"],["0.34750000","0.00000000"]],"a":[]}}"#;
const USDM_DEPTH: &str = r#"{"e":"depthUpdate","E":1626912000123,"T":1626912000120,"s":"SUSHIUSDT","U":100,"u":105,"pu":99,"b":[["9.123","0.0"]],"a":[["9.2","12"]]}"#;
const COINM_DEPTH: &str = r#"{"e":"depthUpdate","E":1,"T":2,"s":"BTCUSD_PERP","ps":"BTCUSD","U":7,"u":9,"pu":5,"b":[],"a":[["32000.1","15"]]}"#;

#[test]
fn decodes_spot_combined_depth() {
    let Event::Depth(d) = one(SPOT_DEPTH) else {
        panic!("not a depth event")
    };
    assert_eq!(d.symbol, "NKNUSDT");
    assert_eq!(
        (d.first_id, d.final_id, d.prev_final_id),
        (499_869_750, 499_869_752, None)
    );
    assert_eq!(d.event_time, 1_633_998_512_068);
    assert_eq!(d.bids.as_slice(), [(35_130_000, 619_500_000_000), (34_750_000, 0)]);
    assert!(d.asks.is_empty());
}

#[test]
fn decodes_futures_depth_with_pu() {
    let Event::Depth(d) = one(USDM_DEPTH) else { panic!() };
    assert_eq!(
        (d.first_id, d.final_id, d.prev_final_id, d.transact_time),
        (100, 105, Some(99), Some(1_626_912_000_120))
    );
    assert_eq!(d.bids.as_slice(), [(912_300_000, 0)]);
    let Event::Depth(d) = one(COINM_DEPTH) else { panic!() };
    assert_eq!(d.symbol, "BTCUSD_PERP");
    assert_eq!(d.asks.as_slice(), [(3_200_010_000_000, 1_500_000_000)]);
}

#[test]
fn key_order_does_not_matter() {
    let Event::Depth(d) = one(r#"{"a":[],"b":[["1","2"]],"u":3,"U":2,"s":"X","E":5,"e":"depthUpdate"}"#) else {
        panic!()
    };
    assert_eq!((d.first_id, d.final_id, d.bids.len()), (2, 3, 1));
}

#[rstest]
#[case::spot(
    r#"{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}"#,
    None,
    None
)]
#[case::usdm(
    r#"{"lastUpdateId":160,"E":1589436922972,"T":1589436922959,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}"#,
    None,
    Some(1_589_436_922_972)
)]
#[case::coinm(r#"{"lastUpdateId":160,"symbol":"BTCUSD_PERP","pair":"BTCUSD","E":1,"T":2,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}"#, Some("BTCUSD_PERP"), Some(1))]
fn decodes_snapshots(#[case] body: &str, #[case] symbol: Option<&str>, #[case] event_time: Option<i64>) {
    let s = decode_snapshot(body.as_bytes()).unwrap();
    assert_eq!(s.last_update_id, 160);
    assert_eq!(s.symbol.as_deref(), symbol);
    assert_eq!(s.event_time, event_time);
    assert_eq!(s.bids, vec![(240_000, 1_000_000_000)]);
    assert_eq!(s.asks, vec![(260_000, 10_000_000_000)]);
}

#[test]
fn decodes_book_tickers() {
    let spot =
        r#"{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#;
    let Event::BookTicker(t) = one(spot) else { panic!() };
    assert_eq!(
        (t.update_id, t.event_time, t.bid_price, t.ask_qty),
        (400_900_217, None, 2_535_190_000, 4_066_000_000)
    );
    let usdm = r#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}}"#;
    let Event::BookTicker(t) = one(usdm) else { panic!() };
    assert_eq!(t.event_time, Some(1_568_014_460_893));
}

#[test]
fn partial_depth_is_not_a_diff() {
    let spot = r#"{"stream":"bnbbtc@depth5@100ms","data":{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[]}}"#;
    let Event::PartialDepth(p) = one(spot) else { panic!() };
    assert_eq!((p.symbol.as_deref(), p.last_update_id), (Some("BNBBTC"), 160));
    let futures = r#"{"stream":"btcusdt@depth10","data":{"e":"depthUpdate","E":1,"T":2,"s":"BTCUSDT","U":3,"u":4,"pu":2,"b":[],"a":[]}}"#;
    assert!(matches!(one(futures), Event::PartialDepth(_)));
}

#[rstest]
#[case::ack(r#"{"result":null,"id":1}"#, Some(1), Some("null"), None)]
#[case::list(
    r#"{"result":["btcusdt@aggTrade"],"id":3}"#,
    Some(3),
    Some(r#"["btcusdt@aggTrade"]"#),
    None
)]
#[case::nested_error(
    r#"{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":2}"#,
    Some(2),
    None,
    Some(2)
)]
#[case::flat_error(
    r#"{"code":2,"msg":"Invalid request: request ID must be an unsigned integer","id":null}"#,
    None,
    None,
    Some(2)
)]
#[case::string_id(r#"{"result":null,"id":"abc"}"#, None, Some("null"), None)]
fn decodes_control_replies(
    #[case] frame: &str,
    #[case] id: Option<i64>,
    #[case] result: Option<&str>,
    #[case] code: Option<i64>,
) {
    let Event::Control(c) = one(frame) else { panic!() };
    assert_eq!(c.id, id);
    assert_eq!(c.result.as_deref(), result);
    assert_eq!(c.error.map(|(code, _)| code), code);
}

#[test]
fn unknown_events_are_events_not_errors() {
    assert_eq!(
        one(r#"{"e":"blockTrade","E":1,"s":"X"}"#),
        Event::Unknown {
            kind: "blockTrade".into()
        }
    );
    assert_eq!(one(r#"{"foo":1}"#), Event::Unknown { kind: String::new() });
    assert_eq!(
        one(r#"{"e":"serverShutdown","E":7}"#),
        Event::ServerShutdown { event_time: 7 }
    );
}

#[test]
fn arrays_of_events_decode_each() {
    let frame = r#"[{"e":"x1","E":1},{"e":"x2","E":2}]"#;
    assert_eq!(decode(frame).unwrap().len(), 2);
    assert_eq!(decode("[]").unwrap().len(), 0);
}

#[rstest]
#[case::not_json("hello")]
#[case::truncated(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1","2"]],"a":["#)]
#[case::trailing_garbage(r#"{"e":"x"} tail"#)]
#[case::missing_u(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"b":[],"a":[]}"#)]
#[case::missing_symbol(r#"{"e":"depthUpdate","E":1,"U":1,"u":2,"b":[],"a":[]}"#)]
#[case::number_not_string(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[[1.5,"2"]],"a":[]}"#)]
#[case::exponent(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1e5","2"]],"a":[]}"#)]
#[case::short_level(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1"]],"a":[]}"#)]
#[case::long_level(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1","2","3"]],"a":[]}"#)]
#[case::negative_qty(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1","-2"]],"a":[]}"#)]
#[case::first_after_final(r#"{"e":"depthUpdate","E":1,"s":"X","U":3,"u":2,"b":[],"a":[]}"#)]
#[case::negative_id(r#"{"e":"depthUpdate","E":1,"s":"X","U":-1,"u":2,"b":[],"a":[]}"#)]
#[case::ticker_missing_ask(r#"{"u":1,"s":"X","b":"1","B":"2","a":"3"}"#)]
#[case::combined_without_data(r#"{"stream":"x@depth"}"#)]
#[case::scalar("42")]
#[case::bad_item_in_array(r#"[{"e":"x","E":1},{"e":"depthUpdate","E":1}]"#)]
fn malformed_frames_are_errors(#[case] frame: &str) {
    let mut decoder = Decoder::default();
    assert!(decoder.decode(frame.as_bytes()).is_err(), "{frame}");
    // Nothing of the failed frame is left for the next one.
    let next = decoder.decode(br#"{"e":"blockTrade","E":1}"#).map(Decoded::into_events);
    assert_eq!(
        next,
        Ok(vec![Event::Unknown {
            kind: "blockTrade".into()
        }])
    );
}

#[test]
fn errors_name_their_field() {
    let err = decode(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"b":[],"a":[]}"#).unwrap_err();
    assert_eq!(
        err,
        DecodeError::MissingField {
            event: "depthUpdate",
            field: "u"
        }
    );
    let err = decode(r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1.2.3","2"]],"a":[]}"#).unwrap_err();
    assert_eq!(err.field(), Some("b"));
    assert!(matches!(
        decode_snapshot(b"{\"bids\":[],\"asks\":[]}"),
        Err(DecodeError::MissingField {
            field: "lastUpdateId",
            ..
        })
    ));
}

#[rstest]
#[case("x")]
#[case("}")]
#[case(",1")]
#[case(" {}")]
fn bytes_after_a_combined_frame_are_an_error(#[case] tail: &str) {
    let frame = format!("{SPOT_DEPTH}{tail}");
    assert!(decode(&frame).is_err(), "{frame}");
    assert!(template::depth_frame(frame.as_bytes()).is_none());
    // White space is allowed.
    assert_eq!(
        decode(&format!("{SPOT_DEPTH} \n")).unwrap(),
        decode(SPOT_DEPTH).unwrap()
    );
}

const SPOT_AGG: &str = r#"{"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}}"#;

#[test]
fn decodes_agg_trades_of_every_market() {
    let Event::AggTrade(t) = one(SPOT_AGG) else {
        panic!("not an aggTrade")
    };
    assert_eq!(t.symbol, "NKNUSDT");
    assert_eq!((t.id, t.price, t.qty), (15_683_430, 35_280_000, 5_800_000_000));
    assert_eq!(
        (t.first_trade_id, t.last_trade_id, t.time),
        (19_862_790, 19_862_790, 1_633_998_523_963)
    );
    assert!(t.taker_buy());
    let usdm =
        r#"{"e":"aggTrade","E":5,"s":"BTCUSDT","a":7,"p":"71000.1","q":"0.5","nq":"0.4","f":1,"l":3,"T":4,"m":true}"#;
    let Event::AggTrade(t) = one(usdm) else { panic!() };
    assert_eq!(
        (t.normal_qty, t.buyer_maker, t.event_time),
        (Some(40_000_000), true, Some(5))
    );
    // Unusual key order and white space take the general path with the same meaning.
    let odd = r#"{ "m": true, "T": 4, "l": 3, "f": 1, "nq": "0.4", "q": "0.5", "p": "71000.1", "a": 7, "s": "BTCUSDT", "E": 5, "e": "aggTrade" }"#;
    assert_eq!(one(odd), Event::AggTrade(t));
}

#[rstest]
#[case::missing_id(r#"{"e":"aggTrade","E":5,"s":"X","p":"1","q":"1","f":1,"l":1,"T":4,"m":true}"#, "a")]
#[case::negative_qty(
    r#"{"e":"aggTrade","E":5,"s":"X","a":1,"p":"1","q":"-1","f":1,"l":1,"T":4,"m":true}"#,
    "q"
)]
#[case::last_before_first(
    r#"{"e":"aggTrade","E":5,"s":"X","a":1,"p":"1","q":"1","f":3,"l":1,"T":4,"m":true}"#,
    "l"
)]
#[case::bad_side(
    r#"{"e":"aggTrade","E":5,"s":"X","a":1,"p":"1","q":"1","f":1,"l":1,"T":4,"m":"x"}"#,
    "m"
)]
#[case::bad_price(
    r#"{"e":"aggTrade","E":5,"s":"X","a":1,"p":"1e3","q":"1","f":1,"l":1,"T":4,"m":true}"#,
    "p"
)]
#[case::negative_time(
    r#"{"e":"aggTrade","E":5,"s":"X","a":1,"p":"1","q":"1","f":1,"l":1,"T":-4,"m":true}"#,
    "T"
)]
#[case::kline_without_volume(
    r#"{"e":"kline","E":1,"s":"X","k":{"t":0,"T":59999,"i":"1m","f":1,"L":2,"n":2,"x":false,"q":"1","V":"1","Q":"1"}}"#,
    "k.v"
)]
#[case::kline_without_close(
    r#"{"e":"kline","E":1,"s":"X","k":{"t":0,"T":59999,"i":"1m","f":1,"L":2,"o":"1","h":"1","l":"1","v":"1","n":2,"x":false,"q":"1","V":"1","Q":"1"}}"#,
    "k.c"
)]
#[case::trade_without_id(r#"{"e":"trade","E":1,"s":"X","p":"1","q":"1","T":1,"m":true}"#, "t")]
fn rejects_bad_trade_events(#[case] frame: &str, #[case] field: &str) {
    let err = decode(frame).unwrap_err();
    assert_eq!(err.field(), Some(field), "{err}");
}

#[test]
fn decodes_trades_and_klines() {
    let Event::Trade(t) =
        one(r#"{"e":"trade","E":1,"T":2,"s":"BTCUSDT","t":9,"p":"1.5","q":"2","X":"INSURANCE_FUND","m":true}"#)
    else {
        panic!()
    };
    assert_eq!((t.id, t.kind, t.price), (9, TradeType::InsuranceFund, 150_000_000));
    let Event::Trade(t) = one(r#"{"e":"trade","E":1,"s":"BTCUSDT","t":9,"p":"1.5","q":"2","T":2,"m":true,"M":true}"#)
    else {
        panic!()
    };
    assert_eq!(t.kind, TradeType::Market);
    let k = r#"{"e":"kline","E":1626992741424,"s":"CTKUSDT","k":{"t":1626992700000,"T":1626992759999,"s":"CTKUSDT","i":"1m","f":23961275,"L":23961322,"o":"1.01000","c":"1.01100","h":"1.01100","l":"1.01000","v":"3917","n":48,"x":false,"q":"3957.89900","V":"1729","Q":"1748.01900","B":"0"}}"#;
    let Event::Kline(k) = one(k) else { panic!() };
    assert_eq!(
        (k.open_time, k.first_trade_id, k.last_trade_id),
        (1_626_992_700_000, 23_961_275, 23_961_322)
    );
    assert_eq!(
        (k.volume, k.quote_volume, k.taker_buy_volume),
        (391_700_000_000, 395_789_900_000, 172_900_000_000)
    );
    assert_eq!((k.interval.as_str(), k.trades, k.closed), ("1m", 48, false));
}

#[test]
fn decodes_rest_agg_trades_bodies() {
    let body =
        br#"[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true},
        {"a":26130,"p":"0.01633102","q":"1","nq":"1","f":27782,"l":27783,"T":1498793709153,"m":false}]"#;
    let trades = decode_agg_trades_body(body, "ETHBTC").unwrap();
    assert_eq!(trades.len(), 2);
    assert_eq!(
        (trades[0].symbol.as_str(), trades[0].id, trades[0].event_time),
        ("ETHBTC", 26_129, None)
    );
    assert!(trades[1].taker_buy());
    assert!(decode_agg_trades_body(b"[]", "X").unwrap().is_empty());
    for bad in [&b"{}"[..], b"[{\"a\":1}]", b"[1]", b"[", b"[] x"] {
        assert!(
            decode_agg_trades_body(bad, "X").is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

/// The partial-depth test of a stream name by its definition, one byte at a time: the part after the first `@` (up
/// to the next one) is longer than `depth` and starts with it.
fn partial_depth_by_simple_scan(name: &[u8]) -> bool {
    name.split(|&b| b == b'@')
        .nth(1)
        .is_some_and(|p| p.len() > 5 && p.starts_with(b"depth"))
}

/// Pieces of stream names: symbols of the lengths the exchanges list (so the first `@` falls at every offset of the
/// eight-byte words the test reads), the suffixes they use, and any byte.
fn stream_name_piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    prop_oneof![
        "[a-z0-9_]{0,26}".prop_map(String::into_bytes),
        prop_oneof![
            Just("@depth"),
            Just("@depth@100ms"),
            Just("@depth5"),
            Just("@depth20@100ms"),
            Just("@aggTrade"),
            Just("depth"),
            Just("@"),
        ]
        .prop_map(|s| s.as_bytes().to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 4000, ..Default::default() })]

    /// The check that finds `@` eight bytes at a time agrees with the simple scan on any name.
    #[test]
    fn partial_depth_stream_check_equals_the_simple_scan(
        pieces in proptest::collection::vec(stream_name_piece(), 0..5),
    ) {
        let name = pieces.concat();
        proptest::prop_assert_eq!(
            dispatch::is_partial_depth_stream(&name),
            partial_depth_by_simple_scan(&name),
            "{}",
            String::from_utf8_lossy(&name)
        );
    }
}

#[rstest]
#[case::diff("btcusdt@depth", false)]
#[case::diff_100ms("btcusdt@depth@100ms", false)]
#[case::partial("btcusdt@depth5", true)]
#[case::partial_100ms("btcusdt@depth10@100ms", true)]
#[case::no_at("btcusdtdepth5", false)]
#[case::other("btcusdt@aggTrade", false)]
#[case::long_symbol("1000shibusdt_250926@depth20@100ms", true)]
#[case::long_symbol_diff("1000shibusdt_250926@depth@100ms", false)]
#[case::depth_first("@depth5", true)]
#[case::empty("", false)]
fn partial_depth_stream_names(#[case] name: &str, #[case] partial: bool) {
    assert_eq!(dispatch::is_partial_depth_stream(name.as_bytes()), partial);
    assert_eq!(partial_depth_by_simple_scan(name.as_bytes()), partial);
}
