use super::*;
use crate::book::{OrderBook, SnapshotOutcome, SyncState};
use crate::flow::PageQuery;

fn spot_diff(symbol: &str, first: u64, last: u64, bid: &str) -> String {
    format!(
        r#"{{"stream":"{}@depth@100ms","data":{{"e":"depthUpdate","E":1,"s":"{symbol}","U":{first},"u":{last},"b":[["{bid}","1"]],"a":[["99","1"]]}}}}"#,
        symbol.to_lowercase()
    )
}

fn snapshot(id: u64) -> String {
    format!(r#"{{"lastUpdateId":{id},"bids":[["1","1"]],"asks":[["99","2"]]}}"#)
}

#[test]
fn routes_symbols_and_asks_for_each_snapshot_once() {
    let mut e = Engine::new(Market::Spot, 100);
    let frames = [
        spot_diff("AAA", 10, 11, "2"),
        spot_diff("BBB", 5, 6, "3"),
        spot_diff("AAA", 12, 12, "4"),
    ];
    let report = e.apply_frames(frames.iter().map(String::as_bytes), 7);
    assert_eq!((report.frames, report.events), (3, 3));
    assert!(report.errors.is_empty());
    assert_eq!(
        report.actions,
        vec![
            Action::SnapshotNeeded { symbol: "AAA".into() },
            Action::SnapshotNeeded { symbol: "BBB".into() }
        ]
    );
    let mut actions = Vec::new();
    let outcome = e.apply_snapshot("aaa", snapshot(10).as_bytes(), &mut actions).unwrap();
    assert_eq!(
        outcome,
        SnapshotOutcome::Synced {
            last_update_id: 12,
            applied: 2
        }
    );
    assert_eq!(
        actions,
        vec![Action::Synced {
            symbol: "AAA".into(),
            last_update_id: 12
        }]
    );
    assert_eq!(e.sync_state("AAA"), Some(SyncState::Synced));
    assert_eq!(e.sync_state("BBB"), Some(SyncState::Syncing));
    assert_eq!(
        e.state("AAA").unwrap().book.book().best_bid(),
        Some((400_000_000, 100_000_000))
    );
    assert_eq!(e.state("AAA").unwrap().recv_ts_ns, 7);
}

#[test]
fn malformed_frame_in_a_batch_is_reported_and_skipped() {
    let mut e = Engine::new(Market::Spot, 100);
    let good = spot_diff("AAA", 10, 11, "2");
    let frames: Vec<&[u8]> = vec![b"{not json", good.as_bytes(), br#"{"e":"depthUpdate","s":"AAA"}"#];
    let report = e.apply_frames(frames, 0);
    assert_eq!(report.errors.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0, 2]);
    assert_eq!(e.stats.malformed, 2);
    assert_eq!(e.state("AAA").unwrap().book.buffered(), 1, "the good frame was applied");
}

#[test]
fn futures_diff_without_pu_is_rejected_whole() {
    let mut e = Engine::new(Market::UsdM, 100);
    let frame = br#"{"e":"depthUpdate","E":1,"T":1,"s":"X","U":1,"u":2,"b":[],"a":[]}"#;
    let mut actions = Vec::new();
    assert!(matches!(
        e.apply_frame(frame, 0, &mut actions),
        Err(DecodeError::MissingField { field: "pu", .. })
    ));
    assert!(e.state("X").is_none(), "nothing changed");
}

#[test]
fn unknown_events_are_counted() {
    let mut e = Engine::new(Market::Spot, 100);
    let frames: Vec<&[u8]> = vec![
        br#"{"e":"blockTrade","E":1}"#,
        br#"{"e":"blockTrade","E":2}"#,
        br#"{"result":null,"id":4}"#,
    ];
    let report = e.apply_frames(frames, 0);
    assert_eq!(e.stats.unknown.get("blockTrade"), Some(&2));
    assert_eq!(
        report.actions,
        vec![Action::Control(decode::ControlReply {
            id: Some(4),
            result: Some("null".into()),
            error: None
        })]
    );
}

#[test]
fn gap_asks_for_a_new_snapshot_and_tracing_reports_each_applied_diff() {
    let mut e = Engine::new(Market::Spot, 100);
    e.set_trace_depth(Some(1));
    let mut actions = Vec::new();
    e.apply_frame(spot_diff("AAA", 10, 11, "2").as_bytes(), 0, &mut actions)
        .unwrap();
    e.apply_snapshot("AAA", snapshot(9).as_bytes(), &mut actions).unwrap();
    e.apply_frame(spot_diff("AAA", 12, 12, "3").as_bytes(), 0, &mut actions)
        .unwrap();
    e.apply_frame(spot_diff("AAA", 20, 21, "3").as_bytes(), 0, &mut actions)
        .unwrap();
    let kinds: Vec<_> = actions
        .iter()
        .map(|a| match a {
            Action::BookTrace(t) => format!("book@{}", t.last_update_id),
            Action::SnapshotNeeded { .. } => "snapshot".into(),
            Action::Synced { last_update_id, .. } => format!("synced@{last_update_id}"),
            Action::Gap { expected, got, .. } => format!("gap {expected}->{got}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["snapshot", "book@11", "synced@11", "book@12", "gap 13->20", "snapshot"]
    );
}

mod fast_path {
    use proptest::prelude::*;

    use super::*;

    /// A futures or spot diff in Binance's layout; `pu` chains (or not) to the previous `u`.
    fn frame(
        market: Market,
        symbol: &str,
        (first, last, pu): (u64, u64, u64),
        (bid, ask, qty): (u8, u8, u8),
    ) -> String {
        let levels = format!(
            r#""b":[["{bid}.5","{qty}"]],"a":[["{}","{}"]]"#,
            u32::from(ask) + 300,
            qty % 3
        );
        if market.is_futures() {
            format!(
                r#"{{"stream":"{}@depth@100ms","data":{{"e":"depthUpdate","E":7,"T":6,"s":"{symbol}","U":{first},"u":{last},"pu":{pu},{levels}}}}}"#,
                symbol.to_lowercase()
            )
        } else {
            format!(
                r#"{{"stream":"{}@depth","data":{{"e":"depthUpdate","E":7,"s":"{symbol}","U":{first},"u":{last},{levels}}}}}"#,
                symbol.to_lowercase()
            )
        }
    }

    /// White space after the opening brace: the same frame, but only the general decoder takes it.
    fn general_layout(frame: &str) -> String {
        format!("{{ {}", &frame[1..])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// An engine fed Binance-layout frames (the fast path) and one fed the same frames in another layout (the
        /// general path) give the same actions, states and books, whatever the ids do (gaps, stale, duplicates)
        /// and whenever snapshots arrive.
        #[test]
        fn fast_path_engine_equals_general_path_engine(
            market in prop_oneof![Just(Market::Spot), Just(Market::UsdM), Just(Market::CoinM)],
            steps in prop::collection::vec((0u8..2, 0u64..3, 0u64..3, any::<u8>(), any::<u8>(), 0u8..4, 0u8..12), 1..80),
        ) {
            let (mut fast, mut general) = (Engine::new(market, 8), Engine::new(market, 8));
            let mut u = 100u64;
            for (sym, skip, width, bid, ask, qty, what) in steps {
                let symbol = ["AAA", "BBB"][usize::from(sym)];
                let (fa, ga) = (&mut Vec::new(), &mut Vec::new());
                if what == 0 {
                    let body = format!(r#"{{"lastUpdateId":{},"bids":[["1","1"]],"asks":[["999","2"]]}}"#, u.saturating_sub(skip));
                    let _ = fast.apply_snapshot(symbol, body.as_bytes(), fa);
                    let _ = general.apply_snapshot(symbol, body.as_bytes(), ga);
                } else {
                    let first = if what == 1 { u.saturating_sub(2) } else { u + 1 + skip };
                    let last = first + width;
                    let pu = if what == 2 { u + 5 } else { u };
                    let f = frame(market, symbol, (first, last, pu), (bid, ask, qty));
                    prop_assert_eq!(
                        fast.apply_frame(f.as_bytes(), 1, fa).is_ok(),
                        general.apply_frame(general_layout(&f).as_bytes(), 1, ga).is_ok()
                    );
                    u = u.max(last);
                }
                prop_assert_eq!(&fa, &ga);
                for s in ["AAA", "BBB"] {
                    prop_assert_eq!(fast.sync_state(s), general.sync_state(s));
                    let (a, b) = (fast.state(s).map(|x| x.book.book()), general.state(s).map(|x| x.book.book()));
                    prop_assert_eq!(a.map(OrderBook::digest), b.map(OrderBook::digest));
                    prop_assert_eq!(a.map(|x| x.last_update_id), b.map(|x| x.last_update_id));
                }
            }
            prop_assert_eq!(fast.stats, general.stats);
        }
    }
}

fn agg(symbol: &str, id: u64, time: i64, qty: &str, maker: bool) -> String {
    format!(
        r#"{{"stream":"{}@aggTrade","data":{{"e":"aggTrade","E":{time},"s":"{symbol}","a":{id},"p":"2.5","q":"{qty}","f":{id},"l":{id},"T":{time},"m":{maker},"M":true}}}}"#,
        symbol.to_lowercase()
    )
}

#[test]
fn agg_trades_feed_the_flow_windows_and_report_gaps() {
    let mut e = Engine::new(Market::Spot, 100);
    let frames = [
        agg("AAA", 1, 1_000, "2", false),
        agg("AAA", 1, 1_000, "2", false),
        agg("AAA", 4, 2_000, "1", true),
        r#"{"e":"trade","E":1,"s":"AAA","t":9,"p":"1.5","q":"2","T":2,"m":true,"M":true}"#.to_owned(),
        r#"{"e":"kline","E":1,"s":"AAA","k":{"t":0,"T":59999,"i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":2,"x":false,"q":"1","V":"1","Q":"1"}}"#.to_owned(),
    ];
    let report = e.apply_frames(frames.iter().map(String::as_bytes), 0);
    assert!(report.errors.is_empty());
    assert_eq!(
        report.actions,
        vec![Action::TradeGap {
            symbol: "AAA".into(),
            from_id: 2,
            to_id: 3
        }]
    );
    let w = e.flow.parse_window("1m").unwrap();
    let v = e.flow.volume("AAA", w, None).unwrap();
    assert_eq!((v.totals.buy_base, v.totals.sell_base), (200_000_000, 100_000_000));
    assert_eq!(
        (e.flow.stats.duplicates, e.flow.stats.trades_market, e.flow.stats.klines),
        (1, 1, 1)
    );
    let mut actions = Vec::new();
    let body = br#"[{"a":2,"p":"2.5","q":"1","f":2,"l":2,"T":1500,"m":true},{"a":3,"p":"2.5","q":"1","f":3,"l":3,"T":1500,"m":true}]"#;
    let page = e
        .apply_agg_trades("aaa", body, PageQuery::default(), &mut actions)
        .unwrap();
    assert_eq!(
        (page.rows, page.counted, page.first_id, page.last_id),
        (2, 2, Some(2), Some(3))
    );
    assert!(e.flow.gaps(None).unwrap().is_empty());
    assert_eq!(e.flow.volume("AAA", w, None).unwrap().totals.sell_base, 300_000_000);
}

#[test]
fn malformed_agg_trade_changes_nothing() {
    let mut e = Engine::new(Market::Spot, 100);
    let mut actions = Vec::new();
    let bad = agg("AAA", 1, 1_000, "-2", false);
    assert!(e.apply_frame(bad.as_bytes(), 0, &mut actions).is_err());
    assert!(e.flow.symbols().is_empty());
    let body = br#"[{"a":2,"p":"2.5","q":"1","f":2,"l":2,"T":1500,"m":true},{"a":3}]"#;
    assert!(e
        .apply_agg_trades("AAA", body, PageQuery::default(), &mut actions)
        .is_err());
    assert!(e.flow.symbols().is_empty());
    assert!(actions.is_empty());
}

#[test]
fn big_trades_and_trade_gaps_of_a_page_become_actions_after_the_page() {
    let mut e = Engine::new(Market::Spot, 100);
    let config = crate::flow::FlowConfig {
        big_e16: vec![4 * crate::num::NOTIONAL_ONE],
        ..crate::flow::FlowConfig::default()
    };
    e.flow.configure(config).unwrap();
    let report = e.apply_frames([agg("AAA", 10, 1_000, "2", false).as_bytes()], 0);
    let big = |trade_id, qty: i64, buy| Action::BigTrade {
        symbol: "AAA".into(),
        trade: crate::flow::BigTrade {
            trade_id,
            price: 250_000_000,
            qty: qty * 100_000_000,
            quote: i128::from(qty) * 25 * crate::num::NOTIONAL_ONE / 10,
            buy,
            time: 1_000 + trade_id as i64,
        },
    };
    assert_eq!(report.actions.len(), 1);
    // Rows 2 (big) and 4; the page's own hole 5..=9 is reported after its rows, as far as it is still missing.
    let mut actions = Vec::new();
    let body = br#"[{"a":2,"p":"2.5","q":"2","f":2,"l":2,"T":1002,"m":true},{"a":4,"p":"2.5","q":"1","f":4,"l":4,"T":1004,"m":false}]"#;
    let page = e
        .apply_agg_trades("AAA", body, PageQuery::default(), &mut actions)
        .unwrap();
    assert_eq!(page.gaps, vec![(3, 3), (5, 9)]);
    assert_eq!(
        actions,
        vec![
            big(2, 2, false),
            Action::TradeGap {
                symbol: "AAA".into(),
                from_id: 3,
                to_id: 3
            },
            Action::TradeGap {
                symbol: "AAA".into(),
                from_id: 5,
                to_id: 9
            },
        ]
    );
}

#[test]
fn kept_liquidations_are_actions() {
    let mut e = Engine::new(Market::UsdM, 100);
    let order = |symbol: &str, z: &str, t: i64| {
        format!(
            r#"{{"e":"forceOrder","E":{t},"o":{{"s":"{symbol}","S":"SELL","o":"LIMIT","f":"IOC","q":"1","p":"10","ap":"10","X":"FILLED","l":"{z}","z":"{z}","T":{t}}}}}"#
        )
    };
    // Kept, unfilled (skipped), and a COIN-M symbol on the merged stream (foreign, skipped).
    let frames = [
        order("BTCUSDT", "0.5", 5),
        order("ETHUSDT", "0", 6),
        order("BTCUSD_PERP", "1", 7),
    ];
    let report = e.apply_frames(frames.iter().map(String::as_bytes), 0);
    assert_eq!(
        report.actions,
        vec![Action::Liquidation(crate::liq::Liquidation {
            symbol: "BTCUSDT".into(),
            time: 5,
            event_time: 5,
            side: crate::liq::Side::Long,
            price: 1_000_000_000,
            qty: 50_000_000,
            notional: 5 * crate::num::NOTIONAL_ONE,
            key: crate::liq::OrderKey {
                status: crate::decode::OrderStatus::Filled as u8,
                order_price: 1_000_000_000,
                avg_price: 1_000_000_000,
                orig_qty: 100_000_000,
                last_qty: 50_000_000,
            },
        })]
    );
    assert_eq!((e.liq.stats.kept, e.liq.stats.unfilled, e.liq.stats.foreign), (1, 1, 1));
}

#[test]
fn a_batch_reports_the_event_time_of_its_last_event_that_has_one() {
    let mut e = Engine::new(Market::Spot, 100);
    let frames = [
        spot_diff("AAA", 10, 11, "2"),
        agg("AAA", 1, 1_234, "1", false),
        r#"{"result":null,"id":1}"#.to_owned(),
        r#"{"u":5,"s":"AAA","b":"1","B":"1","a":"2","A":"1"}"#.to_owned(),
    ];
    let report = e.apply_frames(frames.iter().map(String::as_bytes), 0);
    assert!(report.errors.is_empty());
    assert_eq!(
        report.last_event_time,
        Some(1_234),
        "control replies and spot book tickers carry no E"
    );
    let diff_only = e.apply_frames([spot_diff("AAA", 12, 12, "2").as_bytes()], 0);
    assert_eq!(diff_only.last_event_time, Some(1));
    let none = e.apply_frames([br#"{"result":null,"id":2}"#.as_slice()], 0);
    assert_eq!(none.last_event_time, None);
}

#[test]
fn sync_counts_count_books_per_state() {
    let mut e = Engine::new(Market::Spot, 100);
    e.apply_frames(
        [
            spot_diff("AAA", 10, 11, "2").as_bytes(),
            spot_diff("BBB", 10, 11, "2").as_bytes(),
        ],
        0,
    );
    let mut actions = Vec::new();
    e.apply_snapshot("AAA", snapshot(10).as_bytes(), &mut actions).unwrap();
    e.track("CCC");
    let counts = e.sync_counts(["AAA", "BBB", "CCC", "NEVER"]);
    assert_eq!(
        counts,
        SyncCounts {
            synced: 1,
            syncing: 2,
            gap: 0
        }
    );
    e.apply_frame(spot_diff("AAA", 20, 21, "2").as_bytes(), 0, &mut actions)
        .unwrap();
    assert_eq!(
        e.sync_counts(["AAA", "BBB"]),
        SyncCounts {
            synced: 0,
            syncing: 1,
            gap: 1
        }
    );
}

#[test]
fn checks_reach_the_flow_windows_by_any_case_of_the_name() {
    let mut e = Engine::new(Market::Spot, 100);
    e.begin_check("aaa");
    let w = e.flow.parse_window("1m").unwrap();
    assert!(e.flow.volume("AAA", w, Some(0)).unwrap().checking);
    e.end_check("Aaa");
    assert!(!e.flow.volume("AAA", w, Some(0)).unwrap().checking);
}
