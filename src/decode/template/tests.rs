use proptest::prelude::*;

use super::super::depth::decode_depth_update_general;
use super::super::dispatch::decode_frame as decode_frame_general;
use super::super::trade::decode_agg_trade_general;
use super::super::{DepthUpdate, Event};
use super::cursor::{plain_end, plain_end_scalar};
use super::{agg_trade, depth_frame, depth_update, frame_parts, Levels, Template};
use crate::recordings;

fn level() -> impl Strategy<Value = String> {
    ("[0-9]{1,6}(\\.[0-9]{1,8})?", "[0-9]{1,9}(\\.[0-9]{1,8})?").prop_map(|(p, q)| format!("[\"{p}\",\"{q}\"]"))
}

/// A diff in Binance's layout for one of the three markets.
fn frame() -> impl Strategy<Value = String> {
    (
        0u8..3,
        0u64..2_000_000_000_000,
        "[A-Z0-9_]{2,14}",
        0u64..1_000_000_000_000,
        0u64..50,
        prop::collection::vec(level(), 0..6),
        prop::collection::vec(level(), 0..6),
    )
        .prop_map(|(market, e, s, first, width, b, a)| {
            let (b, a) = (b.join(","), a.join(","));
            let last = first + width;
            match market {
                0 => format!(r#"{{"e":"depthUpdate","E":{e},"s":"{s}","U":{first},"u":{last},"b":[{b}],"a":[{a}]}}"#),
                1 => format!(
                    r#"{{"e":"depthUpdate","E":{e},"T":{e},"s":"{s}","U":{first},"u":{last},"pu":{},"b":[{b}],"a":[{a}]}}"#,
                    first.saturating_sub(3)
                ),
                _ => format!(
                    r#"{{"e":"depthUpdate","E":{e},"T":{e},"s":"{s}","ps":"X","U":{first},"u":{last},"pu":{},"b":[{b}],"a":[{a}]}}"#,
                    first.saturating_sub(3)
                ),
            }
        })
}

fn decimal() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9]{1,10}(\\.[0-9]{1,8})?", "0\\.0{0,7}[1-9]", "[1-9][0-9]{0,9}"]
}

/// An aggTrade in one of Binance's layouts: spot (`M`), USD-M (`nq`), COIN-M / older USD-M (`a` before `s`).
fn agg_frame() -> impl Strategy<Value = String> {
    (
        0u8..3,
        0u64..2_000_000_000_000,
        "[A-Z0-9_]{1,14}",
        0u64..1_000_000_000_000,
        decimal(),
        decimal(),
        decimal(),
        0u64..1_000_000_000_000,
        0u64..50,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(market, e, s, a, p, q, nq, f, width, m, big)| {
            let l = f + width;
            match market {
                0 => format!(
                    r#"{{"e":"aggTrade","E":{e},"s":"{s}","a":{a},"p":"{p}","q":"{q}","f":{f},"l":{l},"T":{e},"m":{m},"M":{big}}}"#
                ),
                1 => format!(
                    r#"{{"e":"aggTrade","E":{e},"s":"{s}","a":{a},"p":"{p}","q":"{q}","nq":"{nq}","f":{f},"l":{l},"T":{e},"m":{m}}}"#
                ),
                _ => format!(
                    r#"{{"e":"aggTrade","E":{e},"a":{a},"s":"{s}","p":"{p}","q":"{q}","f":{f},"l":{l},"T":{e},"m":{m}}}"#
                ),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Binance-layout aggTrades take the fast path and decode exactly as the general decoder does.
    #[test]
    fn agg_fast_path_equals_general_decoder(f in agg_frame()) {
        let fast = agg_trade(f.as_bytes());
        prop_assert!(fast.is_some(), "{}", f);
        prop_assert_eq!(fast, decode_agg_trade_general(f.as_bytes()).ok());
    }

    /// A corrupted aggTrade is accepted by the fast path only if the general decoder accepts it, identically.
    #[test]
    fn agg_fast_path_never_accepts_more(f in agg_frame(), edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xAtf".to_vec())), 1..4)) {
        let mut bytes = f.into_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Some(fast) = agg_trade(&bytes) {
            prop_assert_eq!(Some(fast), decode_agg_trade_general(&bytes).ok());
        }
    }

    /// A combined frame around a (possibly corrupted) aggTrade: the fast path agrees with `decode_frame`'s
    /// general path whenever it answers.
    #[test]
    fn combined_agg_fast_path_equals_general_path(f in agg_frame(), edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9 xe".to_vec())), 0..3)) {
        let mut bytes = format!(r#"{{"stream":"x@aggTrade","data":{f}}}"#).into_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let fast = fast_event(&bytes);
        let mut general = Vec::new();
        let ok = decode_frame_general(&bytes, &mut general).is_ok();
        if let Some(fast) = fast {
            prop_assert!(ok);
            prop_assert_eq!(general, vec![fast]);
        }
    }

    /// Binance-layout diffs take the fast path and decode exactly as the general decoder does.
    #[test]
    fn fast_path_equals_general_decoder(f in frame()) {
        let fast = depth_update(f.as_bytes());
        prop_assert!(fast.is_some(), "{}", f);
        prop_assert_eq!(fast, decode_depth_update_general(f.as_bytes()).ok());
    }

    /// Whatever a corrupted frame looks like, the fast path accepts it only if the general decoder does, with
    /// the same result.
    #[test]
    fn fast_path_never_accepts_more(f in frame(), edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xA".to_vec())), 1..4)) {
        let mut bytes = f.into_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Some(fast) = depth_update(&bytes) {
            prop_assert_eq!(Some(fast), decode_depth_update_general(&bytes).ok());
        }
    }
}

/// A diff as a whole frame: raw, or combined under a diff, partial-depth or other stream name.
fn whole_frame() -> impl Strategy<Value = String> {
    let stream = prop::sample::select(vec![
        "btcusdt@depth",
        "btcusdt@depth@100ms",
        "btcusdt@depth5",
        "btcusdt@depth20@100ms",
        "btcusdt@aggTrade",
        "depth",
        "x@depth@depth5",
    ]);
    (frame(), prop::option::of(stream), "[ \n]{0,2}").prop_map(|(f, s, tail)| match s {
        Some(s) => format!(r#"{{"stream":"{s}","data":{f}}}{tail}"#),
        None => format!("{f}{tail}"),
    })
}

fn general(frame: &[u8]) -> Option<DepthUpdate> {
    let out = super::super::Decoder::default().decode(frame).ok()?.into_events();
    match out.as_slice() {
        [Event::Depth(d)] => Some((**d).clone()),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The whole-frame fast path takes every diff frame the general decoder reads as one diff, with the same
    /// result, and nothing else (partial depth streams, corrupted frames, trailing garbage).
    #[test]
    fn frame_fast_path_equals_decode_frame(f in whole_frame(), edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xA@".to_vec())), 0..3)) {
        let mut bytes = f.into_bytes();
        let clean = edits.is_empty();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let fast = depth_frame(&bytes);
        let general = general(&bytes);
        if clean {
            prop_assert_eq!(fast.is_some(), general.is_some());
        }
        if fast.is_some() {
            prop_assert_eq!(fast, general);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    /// The eight-bytes-at-a-time scan for the end of a plain string equals its byte-by-byte definition, for any
    /// bytes (every special class — quote, backslash, control, non-ASCII — at any position, borrows included).
    #[test]
    fn swar_plain_end_equals_scalar(
        s in prop::collection::vec(prop_oneof![4 => 0x20u8..0x7f, 1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20, 1 => 0x7fu8..=0xff], 0..40),
    ) {
        prop_assert_eq!(plain_end(&s), plain_end_scalar(&s));
    }
}

/// A combined bookTicker frame: spot, USD-M or COIN-M keys (with optional `e`, `E`, `T`, `ps`, `st`) in a shuffled
/// order.
fn book_ticker_frame() -> impl Strategy<Value = String> {
    (
        any::<u64>().prop_map(|u| u % 1_000_000_000_000),
        "[A-Z0-9_]{2,14}",
        prop::collection::vec("[0-9]{1,6}(\\.[0-9]{1,8})?", 4),
        prop::collection::vec(any::<bool>(), 5),
        any::<prop::sample::Index>(),
        "[ \n]{0,1}",
    )
        .prop_flat_map(|(u, sym, d, opt, _, tail)| {
            let mut kv = vec![
                format!(r#""u":{u}"#),
                format!(r#""s":"{sym}""#),
                format!(r#""b":"{}""#, d[0]),
                format!(r#""B":"{}""#, d[1]),
                format!(r#""a":"{}""#, d[2]),
                format!(r#""A":"{}""#, d[3]),
            ];
            let extra = [
                r#""e":"bookTicker""#,
                r#""E":1626916403871"#,
                r#""T":1626916403864"#,
                r#""ps":"BCHUSD""#,
                r#""st":1"#,
            ];
            kv.extend(
                extra
                    .iter()
                    .zip(&opt)
                    .filter(|(_, &on)| on)
                    .map(|(k, _)| (*k).to_owned()),
            );
            (Just(kv).prop_shuffle(), Just(sym), Just(tail))
        })
        .prop_map(|(kv, sym, tail)| {
            format!(
                r#"{{"stream":"{}@bookTicker","data":{{{}}}}}{tail}"#,
                sym.to_lowercase(),
                kv.join(",")
            )
        })
}

/// A combined bookTicker frame in one of Binance's three key orders (spot, USD-M, COIN-M).
fn book_ticker_layout_frame() -> impl Strategy<Value = String> {
    (
        0usize..3,
        any::<u64>().prop_map(|u| u % 1_000_000_000_000),
        "[A-Z0-9_]{2,14}",
        prop::collection::vec("[0-9]{1,10}(\\.[0-9]{1,8})?", 4),
    )
        .prop_map(|(layout, u, sym, d)| {
            let prices = format!(r#""b":"{}","B":"{}","a":"{}","A":"{}""#, d[0], d[1], d[2], d[3]);
            let times = r#""T":1626916403864,"E":1626916403871"#;
            let data = match layout {
                0 => format!(r#"{{"u":{u},"s":"{sym}",{prices}}}"#),
                1 => format!(r#"{{"e":"bookTicker","u":{u},"s":"{sym}",{prices},{times}}}"#),
                _ => format!(r#"{{"u":{u},"e":"bookTicker","s":"{sym}","ps":"X",{prices},{times}}}"#),
            };
            format!(r#"{{"stream":"{}@bookTicker","data":{data}}}"#, sym.to_lowercase())
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Book tickers in Binance's layouts take the fast path and decode exactly as the general decoder does; in
    /// other key orders, or corrupted, they are taken only with the general decoder's result.
    #[test]
    fn book_ticker_fast_path_equals_general_decoder((f, layout) in prop_oneof![book_ticker_frame().prop_map(|f| (f, false)), book_ticker_layout_frame().prop_map(|f| (f, true))], edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xAuEs".to_vec())), 0..3)) {
        let mut bytes = f.into_bytes();
        let clean = edits.is_empty();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let fast = fast_event(&bytes);
        let mut out = Vec::new();
        let general = decode_frame_general(&bytes, &mut out).ok().and_then(|()| match out.as_slice() {
            [event] => Some(event.clone()),
            _ => None,
        });
        if clean && layout {
            prop_assert!(fast.is_some(), "{}", String::from_utf8_lossy(&bytes));
        }
        if fast.is_some() {
            prop_assert_eq!(fast, general);
        }
    }
}

/// What the engine's entry [`super::frame_parts`] makes of a frame, as events (`None` when it declines), the same
/// whichever way the level reader starts (fixed-size blocks or the general steps).
fn frame_parts_events(bytes: &[u8]) -> Option<Vec<Event>> {
    let events = |mut short: bool| {
        let (mut bids, mut asks) = (Levels::new(), Levels::new());
        match frame_parts(bytes, &mut bids, &mut asks, &mut short) {
            Template::Diff(head) => Some(vec![Event::Depth(Box::new(head.into_update(bids, asks)))]),
            Template::Event(event) => Some(vec![event]),
            Template::Declined => None,
        }
    };
    let (blocks, steps) = (events(true), events(false));
    assert_eq!(blocks, steps, "{}", String::from_utf8_lossy(bytes));
    blocks
}

/// The one event [`super::frame_parts`] makes of a frame, if it takes it.
fn fast_event(bytes: &[u8]) -> Option<Event> {
    frame_parts_events(bytes).and_then(|events| events.into_iter().next())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// The engine's single entry to the template paths — diffs raw or combined, combined aggTrades and book
    /// tickers, possibly corrupted — answers only with what the general decoder returns.
    #[test]
    fn frame_parts_equal_general_decoder(
        f in prop_oneof![
            frame().prop_map(|f| (f, true)),
            frame().prop_map(|f| (format!(r#"{{"stream":"x@depth@100ms","data":{f}}}"#), true)),
            frame().prop_map(|f| (format!(r#"{{"stream":"x@depth5@100ms","data":{f}}}"#), false)),
            agg_frame().prop_map(|f| (f, true)),
            agg_frame().prop_map(|f| (format!(r#"{{"stream":"x@aggTrade","data":{f}}}"#), true)),
            book_ticker_frame().prop_map(|f| (f, false)),
            book_ticker_layout_frame().prop_map(|f| (f, true)),
        ],
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"\"\\,:[]{}0.9-e \x01xAuEs@".to_vec())), 0..3),
    ) {
        let (f, layout) = f;
        let partial = f.contains("@depth5");
        let clean = edits.is_empty();
        let mut bytes = f.into_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let fast = frame_parts_events(&bytes);
        // Partial-depth frames are never diffs; clean frames in Binance's layout are always taken.
        prop_assert!(!(partial && clean && fast.is_some()));
        prop_assert!(!(clean && layout && fast.is_none()), "{}", String::from_utf8_lossy(&bytes));
        if let Some(fast) = fast {
            let mut general = Vec::new();
            prop_assert!(decode_frame_general(&bytes, &mut general).is_ok(), "{}", String::from_utf8_lossy(&bytes));
            prop_assert_eq!(fast, general);
        }
    }
}

/// The `ws` frames of every recording, as received.
fn recorded_frames() -> Vec<String> {
    recordings::all()
        .into_iter()
        .flat_map(|(_, records)| records)
        .filter(|r| r["kind"] == "ws")
        .filter_map(|r| r["raw"].as_str().map(str::to_owned))
        .collect()
}

/// The payload of a combined frame exactly as received (re-serializing would reorder its keys).
fn payload(raw: &str) -> &[u8] {
    let start = raw.find("\"data\":").expect("combined frame") + 7;
    &raw.as_bytes()[start..raw.len() - 1]
}

/// Every diff, aggTrade and book ticker frame of the recordings is taken by the engine's template entry, with
/// the general decoder's result.
#[test]
fn every_recorded_hot_frame_takes_the_template_entry() {
    let (mut n, mut declined) = (0, 0);
    for raw in recorded_frames() {
        let hot = ["depthUpdate", "@aggTrade\"", "@bookTicker\""]
            .iter()
            .any(|k| raw.contains(k));
        let mut general = Vec::new();
        let ok = decode_frame_general(raw.as_bytes(), &mut general).is_ok();
        if let Some(fast) = frame_parts_events(raw.as_bytes()) {
            assert!(ok && fast == general, "{raw}");
            n += 1;
        } else {
            assert!(!hot, "declined: {raw}");
            declined += 1;
        }
    }
    assert!(n > 5000 && declined > 0, "{n} taken, {declined} declined");
}

#[test]
fn every_recorded_book_ticker_takes_the_fast_path() {
    let mut n = 0;
    for raw in recorded_frames() {
        if !(raw.starts_with(r#"{"stream":""#) && raw.contains("@bookTicker\"")) {
            continue; // another stream
        }
        let mut out = Vec::new();
        decode_frame_general(raw.as_bytes(), &mut out).expect("valid frame");
        let fast = fast_event(raw.as_bytes());
        assert!(fast.is_some(), "{raw}");
        assert_eq!(fast, out.pop());
        n += 1;
    }
    assert!(n > 1000, "{n}");
}

#[test]
fn every_recorded_diff_takes_the_fast_path() {
    let mut n = 0;
    for raw in recorded_frames().iter().filter(|raw| raw.contains("depthUpdate")) {
        let data = payload(raw);
        let fast = depth_update(data);
        assert!(fast.is_some(), "{}", String::from_utf8_lossy(data));
        assert_eq!(fast, decode_depth_update_general(data).ok());
        n += 1;
    }
    assert!(n > 2900);
}

#[test]
fn every_recorded_agg_trade_takes_the_fast_path() {
    let mut n = 0;
    for raw in recorded_frames().iter().filter(|raw| raw.contains("@aggTrade\"")) {
        let data = payload(raw);
        let fast = agg_trade(data);
        assert!(fast.is_some(), "{}", String::from_utf8_lossy(data));
        assert_eq!(fast, decode_agg_trade_general(data).ok());
        n += 1;
    }
    assert!(n >= 140, "{n}");
}
