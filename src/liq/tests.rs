use proptest::prelude::*;
use rstest::rstest;

use super::*;
use crate::book::Market;
use crate::decode::{DecodeError, Decoder, Event};
use crate::num::{parse_str, NOTIONAL_ONE};

/// A USD-M `forceOrder` frame as §3.8 describes it.
fn um_frame(symbol: &str, side: &str, price: &str, ap: &str, z: &str, t: i64) -> String {
    format!(
        r#"{{"e":"forceOrder","E":{e},"o":{{"s":"{symbol}","S":"{side}","o":"LIMIT","f":"IOC","q":"{z}","p":"{price}","ap":"{ap}","X":"FILLED","l":"{z}","z":"{z}","T":{t}}}}}"#,
        e = t + 3
    )
}

fn cm_frame(symbol: &str, side: &str, ap: &str, z: &str, t: i64, st: Option<i64>) -> String {
    let st = st.map(|v| format!(r#","st":{v}"#)).unwrap_or_default();
    format!(
        r#"{{"e":"forceOrder","E":{e}{st},"o":{{"s":"{symbol}","ps":"BTCUSD","S":"{side}","o":"LIMIT","f":"IOC","q":"{z}","p":"{ap}","ap":"{ap}","X":"FILLED","l":"{z}","z":"{z}","T":{t}}}}}"#,
        e = t + 3
    )
}

/// A store keeping the liquidations of `market`'s contract kind.
fn store(market: Market) -> Liquidations {
    Liquidations::new(contract_kind_of(market))
}

/// Decodes `frame` and feeds its liquidations and mark prices to `liq`; a malformed frame changes nothing.
fn feed(liq: &mut Liquidations, frame: &str) -> Result<(), DecodeError> {
    for event in Decoder::default().decode(frame.as_bytes())?.into_events() {
        match event {
            Event::ForceOrder(f) => drop(liq.apply_force_order(&f)),
            Event::MarkPrice(m) => liq.apply_mark_price(&m),
            other => panic!("not a liquidation event: {other:?}"),
        }
    }
    Ok(())
}

fn decode_one(frame: &str) -> Result<Event, DecodeError> {
    let mut out = Decoder::default().decode(frame.as_bytes())?.into_events();
    assert_eq!(out.len(), 1);
    Ok(out.pop().unwrap())
}

#[test]
fn decodes_usdm_force_order_and_computes_notional() {
    let mut liq = store(Market::UsdM);
    let f = um_frame("BTCUSDT", "SELL", "9910", "9911.5", "0.014", 1_568_014_460_893);
    let combined = format!(r#"{{"stream":"!forceOrder@arr","data":{f}}}"#);
    feed(&mut liq, &combined).unwrap();
    let s = liq.sums(Some("BTCUSDT"), i64::MIN, i64::MAX);
    // 9911.5 × 0.014 = 138.761 exactly.
    assert_eq!(
        s.notional(Some(Side::Long)),
        i128::from(parse_str("138.761").unwrap()) * 100_000_000
    );
    assert_eq!(s.count(Some(Side::Short)), 0);
    assert_eq!(liq.clock(), Some(1_568_014_460_893));
}

#[test]
fn falls_back_to_order_price_when_average_is_zero() {
    let mut liq = Liquidations::new(Some(ContractKind::UsdM));
    let Event::ForceOrder(f) = decode_one(&um_frame("ETHUSDT", "BUY", "2000", "0", "1.5", 10)).unwrap() else {
        panic!()
    };
    let kept = liq.apply_force_order(&f).unwrap();
    assert_eq!(kept.side, Side::Short);
    assert_eq!(kept.notional, 3000 * NOTIONAL_ONE);
}

#[rstest]
#[case::st_cm_on_um_engine(Market::UsdM, Some(2), 0, 1)]
#[case::symbol_form_cm_on_um_engine(Market::UsdM, None, 0, 1)]
#[case::st_cm_on_cm_engine(Market::CoinM, Some(2), 1, 0)]
#[case::symbol_form_on_cm_engine(Market::CoinM, None, 1, 0)]
#[case::st_um_wins_over_symbol(Market::CoinM, Some(1), 0, 1)]
fn keeps_usdm_and_coinm_apart(
    #[case] market: Market,
    #[case] st: Option<i64>,
    #[case] kept: u64,
    #[case] foreign: u64,
) {
    let mut liq = store(market);
    let frame = cm_frame("BTCUSD_PERP", "SELL", "60000", "3", 1000, st);
    feed(&mut liq, &frame).unwrap();
    assert_eq!((liq.stats.kept, liq.stats.foreign), (kept, foreign));
}

#[rstest]
#[case::perp("BTCUSD_PERP", ContractKind::CoinM)]
#[case::delivery("ETHUSD_211231", ContractKind::CoinM)]
#[case::um_perp("BTCUSDT", ContractKind::UsdM)]
#[case::um_usdc("BTCUSDC", ContractKind::UsdM)]
#[case::um_delivery("BTCUSDT_260327", ContractKind::UsdM)]
fn classifies_symbols(#[case] symbol: &str, #[case] kind: ContractKind) {
    assert_eq!(crate::decode::contract_kind(symbol, None), kind);
}

#[test]
fn coinm_notional_uses_contract_size() {
    let mut liq = store(Market::CoinM);
    liq.set_contract_size("BTCUSD_PERP", 100 * crate::num::ONE).unwrap();
    feed(&mut liq, &cm_frame("BTCUSD_PERP", "BUY", "60000", "3", 1000, Some(2))).unwrap();
    assert_eq!(liq.sums(None, 0, 2000).notional(Some(Side::Short)), 300 * NOTIONAL_ONE);
}

#[rstest]
#[case::side("\"S\":\"SELL\"", "\"S\":\"HOLD\"", 1, 0)]
#[case::status("\"X\":\"FILLED\"", "\"X\":\"LIQUIDATED\"", 0, 1)]
fn counts_and_skips_unknown_enums(#[case] from: &str, #[case] to: &str, #[case] side: u64, #[case] status: u64) {
    let mut liq = store(Market::UsdM);
    let frame = um_frame("BTCUSDT", "SELL", "1", "1", "1", 5).replace(from, to);
    feed(&mut liq, &frame).unwrap();
    assert_eq!(
        (liq.stats.unknown_side, liq.stats.unknown_status, liq.stats.kept),
        (side, status, 0)
    );
}

#[rstest]
#[case::missing_filled(r#","z":"0.014""#, "")]
#[case::missing_order(r#""o":{"#, r#""x":{"#)]
#[case::bad_decimal(r#""ap":"9911.5""#, r#""ap":"9.9e3""#)]
#[case::number_not_string(r#""p":"9910""#, r#""p":9910"#)]
#[case::truncated("}}", "}")]
#[case::negative_qty(r#""q":"0.014""#, r#""q":"-0.014""#)]
fn malformed_force_orders_change_nothing(#[case] from: &str, #[case] to: &str) {
    let mut liq = store(Market::UsdM);
    let good = um_frame("BTCUSDT", "SELL", "9910", "9911.5", "0.014", 1000);
    feed(&mut liq, &good).unwrap();
    let bad = good.replacen(from, to, 1).replace("\"T\":1000", "\"T\":2000");
    assert_ne!(bad, good);
    assert!(feed(&mut liq, &bad).is_err(), "{bad}");
    assert_eq!(liq.stats.kept, 1);
    assert_eq!(liq.clock(), Some(1000));
    assert_eq!(liq.sums(None, i64::MIN, i64::MAX).count(None), 1);
}

#[test]
fn mark_price_streams_feed_distance() {
    let mut liq = store(Market::UsdM);
    let arr = r#"[{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"100.00","ap":"99.9","i":"99.8","P":"99.7","r":"0.00038167","T":1562306400000},
                  {"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSD_PERP","p":"200","i":"199","P":"0","r":"0.0001","T":1562306400000,"st":2}]"#;
    feed(&mut liq, arr).unwrap();
    assert_eq!(
        liq.mark_price("BTCUSDT"),
        Some((100 * crate::num::ONE, 1_562_305_380_000))
    );
    assert_eq!(liq.stats.foreign_mark_prices, 1);
    for t in [1000, 2000] {
        feed(&mut liq, &um_frame("BTCUSDT", "SELL", "101", "101", "1", t)).unwrap();
    }
    let c = liq.clusters("BTCUSDT", None);
    assert_eq!(c.len(), 1);
    assert!((c[0].distance_pct.unwrap() - 1.0).abs() < 1e-9);
    assert!((c[0].price - 101.0).abs() < 1e-9);
}

#[test]
fn coinm_delivery_mark_price_has_no_funding() {
    let frame = r#"{"e":"markPriceUpdate","E":1,"s":"ETHUSD_211231","p":"3000.5","P":"3000","i":"2999","r":"","T":0}"#;
    let Event::MarkPrice(m) = decode_one(frame).unwrap() else {
        panic!()
    };
    assert_eq!(
        (m.funding_rate, m.next_funding_time, m.kind()),
        (None, Some(0), ContractKind::CoinM)
    );
    for bad in [
        frame.replace(r#""p":"3000.5","#, ""),
        frame.replace("3000.5", "x"),
        frame[..frame.len() - 1].to_owned(),
    ] {
        assert!(decode_one(&bad).is_err(), "{bad}");
    }
}

#[rstest]
#[case::one_hour(60, 0.367_879_441)]
#[case::thirty_minutes(30, 0.606_530_660)]
#[case::five_minutes(5, 0.920_044_415)]
fn decay_rule_worked_numbers(#[case] minutes: i64, #[case] expected: f64) {
    let mut liq = Liquidations::new(Some(ContractKind::UsdM));
    liq.configure(LiqConfig {
        tau_ms: 3_600_000.0,
        min_events: 1,
        ..LiqConfig::default()
    })
    .unwrap();
    let e = Liquidation {
        symbol: "BTCUSDT".into(),
        time: 0,
        event_time: 0,
        side: Side::Long,
        price: 100 * crate::num::ONE,
        qty: crate::num::ONE,
        notional: 100 * NOTIONAL_ONE,
        key: OrderKey::default(),
    };
    let i = liq.slot("BTCUSDT");
    assert!(liq.insert(i, &e));
    let d = liq.decayed_total("BTCUSDT", minutes * 60_000)[0] / 100.0;
    assert!((d - expected).abs() < 1e-9, "{d}");
}

/// Random event: (symbol 0..3, time, long?, price e8, qty e8).
fn events() -> impl Strategy<Value = Vec<(usize, i64, bool, i64, i64)>> {
    prop::collection::vec(
        (
            0usize..3,
            0i64..200_000,
            any::<bool>(),
            1_000_000i64..50_000_000_000,
            1i64..10_000_000_000,
        ),
        0..120,
    )
}

const SYMS: [&str; 3] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];

/// Event `n` of a random list: distinct events (the original quantity is `n`) even where the other fields repeat.
fn event(n: usize, sym: usize, time: i64, long: bool, price: i64, qty: i64) -> Liquidation {
    Liquidation {
        symbol: SYMS[sym].into(),
        time,
        event_time: time,
        side: if long { Side::Long } else { Side::Short },
        price,
        qty,
        notional: i128::from(price) * i128::from(qty),
        key: OrderKey {
            orig_qty: n as i64,
            ..OrderKey::default()
        },
    }
}

fn build(evs: &[(usize, i64, bool, i64, i64)], config: LiqConfig) -> (Liquidations, Vec<Liquidation>) {
    let mut liq = Liquidations::new(Some(ContractKind::UsdM));
    liq.configure(config).unwrap();
    let mut clock = i64::MIN;
    for (n, &(s, t, long, p, q)) in evs.iter().enumerate() {
        let e = event(n, s, t, long, p, q);
        let i = liq.slot(SYMS[s]);
        liq.insert(i, &e);
        clock = clock.max(t);
    }
    // Brute force: retention keeps exactly the events at or after the final cutoff.
    let kept = evs
        .iter()
        .enumerate()
        .filter(|(_, e)| e.1 >= clock.saturating_sub(config.retention_ms))
        .map(|(n, &(s, t, long, p, q))| event(n, s, t, long, p, q))
        .collect();
    (liq, kept)
}

fn brute(kept: &[Liquidation], sym: Option<&str>, side: Option<Side>, start: i64, end: i64) -> (i128, u64) {
    kept.iter()
        .filter(|e| sym.is_none_or(|s| e.symbol == s) && side.is_none_or(|s| e.side == s))
        .filter(|e| e.time >= start && e.time < end)
        .fold((0, 0), |(n, c), e| (n + e.notional, c + 1))
}

fn side_of(v: u8) -> Option<Side> {
    [None, Some(Side::Long), Some(Side::Short)][usize::from(v % 3)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn totals_and_series_equal_brute_force(
        evs in events(),
        retention in 1i64..250_000,
        start in -10_000i64..210_000,
        len in 0i64..220_000,
        interval in 1i64..50_000,
        sym in 0usize..4,
        side in any::<u8>(),
        tie in any::<bool>(),
    ) {
        // Half of the cases put the retention boundary exactly on an event's time.
        let clock = evs.iter().map(|e| e.1).max().unwrap_or(0);
        let retention = match evs.first() {
            Some(e) if tie && clock > e.1 => clock - e.1,
            _ => retention,
        };
        let (liq, kept) = build(&evs, LiqConfig { retention_ms: retention, ..LiqConfig::default() });
        let sym = SYMS.get(sym).copied();
        let side = side_of(side);
        let end = start + len;
        let s = liq.sums(sym, start, end);
        prop_assert_eq!((s.notional(side), s.count(side)), brute(&kept, sym, side, start, end));
        let (starts, sums) = liq.series(sym, start, end, interval).unwrap();
        let mut total = (0, 0);
        for (b, x) in starts.iter().zip(&sums) {
            prop_assert_eq!(b.rem_euclid(interval), 0);
            let want = brute(&kept, sym, side, (*b).max(start), (b + interval).min(end));
            prop_assert_eq!((x.notional(side), x.count(side)), want);
            total = (total.0 + want.0, total.1 + want.1);
        }
        prop_assert_eq!(total, brute(&kept, sym, side, start, end));
    }

    #[test]
    fn clusters_conserve_mass_and_match_decay_reference(
        evs in events(),
        bin_pct in 0.01f64..5.0,
        tau in 1_000f64..100_000.0,
        now_after in 0i64..100_000,
        min_events in 1u64..4,
    ) {
        // Retention much longer than τ: removed events no longer weigh anything measurable.
        let config = LiqConfig { retention_ms: 1_000_000_000, bin_pct, tau_ms: tau, min_events };
        let (liq, kept) = build(&evs, config);
        let now = liq.clock().unwrap_or(0) + now_after;
        let step = (bin_pct / 100.0).ln_1p();
        for sym in SYMS {
            let mine: Vec<_> = kept.iter().filter(|e| e.symbol == sym).collect();
            let exact: i128 = mine.iter().map(|e| e.notional).sum();
            let binned = liq.binned_notional(sym);
            prop_assert_eq!(binned[0] + binned[1], exact);
            let reference: f64 = mine.iter().map(|e| cluster::weight_quote(e.notional) * (-((now - e.time) as f64) / tau).exp()).sum();
            let d = liq.decayed_total(sym, now);
            prop_assert!((d[0] + d[1] - reference).abs() <= 1e-9 * reference.abs().max(f64::MIN_POSITIVE));
            // Per cluster: count, exact notional and decayed notional against a per-bin recomputation.
            let clusters = liq.clusters(sym, Some(now));
            for c in &clusters {
                let inbin: Vec<_> = mine.iter().filter(|e| bin_index(e.price, step) == c.bin).collect();
                prop_assert_eq!(c.count, inbin.len() as u64);
                prop_assert!(c.count >= min_events);
                prop_assert_eq!(c.total_notional(), inbin.iter().map(|e| e.notional).sum::<i128>());
                let r: f64 = inbin.iter().map(|e| cluster::weight_quote(e.notional) * (-((now - e.time) as f64) / tau).exp()).sum();
                prop_assert!((c.total_decayed() - r).abs() <= 1e-9 * r.abs().max(f64::MIN_POSITIVE));
                prop_assert!((0.0..=1.0).contains(&c.strength));
                prop_assert!(c.price >= c.price_low * (1.0 - 1e-12) && c.price < c.price_high * (1.0 + 1e-12));
            }
            // Decay is monotone: later queries never weigh more.
            let later = liq.decayed_total(sym, now + 1 + now_after);
            prop_assert!(later[0] <= d[0] && later[1] <= d[1]);
        }
    }

    #[test]
    fn heatmap_mass_equals_total(evs in events(), interval in 1i64..80_000, bin_pct in 0.05f64..10.0, start in -1_000i64..150_000) {
        let (liq, kept) = build(&evs, LiqConfig::default());
        let end = start + 100_000;
        for sym in SYMS {
            let h = liq.heatmap(sym, start, end, interval, Some(bin_pct)).unwrap();
            for side in [Side::Long, Side::Short] {
                let want = crate::num::e16_to_f64(brute(&kept, Some(sym), Some(side), start, end).0);
                let s = side as usize * h.n_price * h.n_time;
                let got: f64 = h.grid[s..s + h.n_price * h.n_time].iter().sum();
                prop_assert!((got - want).abs() <= 1e-9 * want.max(1.0));
            }
            prop_assert_eq!(h.price_edges.len(), if h.n_price == 0 { 0 } else { h.n_price + 1 });
        }
    }
}

#[test]
fn late_events_and_retention_boundary() {
    let config = LiqConfig {
        retention_ms: 1000,
        ..LiqConfig::default()
    };
    let evs = [
        (0, 5000, true, 100, 100),
        (0, 4000, false, 100, 100),
        (0, 6000, true, 100, 100),
        (0, 4999, true, 1, 1),
    ];
    let (liq, kept) = build(&evs, config);
    // Clock 6000, cutoff 5000: the event at 5000 stays, the rest are pruned or expired.
    assert_eq!(kept.len(), 2);
    assert_eq!(liq.sums(None, i64::MIN, i64::MAX).count(None), 2);
    assert_eq!((liq.stats.pruned, liq.stats.expired), (1, 1));
}

#[test]
fn best_cluster_filters_by_strength_and_side() {
    let mut liq = Liquidations::new(Some(ContractKind::UsdM));
    liq.configure(LiqConfig {
        min_events: 1,
        ..LiqConfig::default()
    })
    .unwrap();
    let mut add = |price: i64, side, qty: i64| {
        let i = liq.slot("X");
        let e = Liquidation {
            symbol: "X".into(),
            time: 0,
            event_time: 0,
            side,
            price,
            qty,
            notional: i128::from(price) * i128::from(qty),
            key: OrderKey::default(),
        };
        assert!(liq.insert(i, &e));
    };
    add(100 * crate::num::ONE, Side::Long, 3 * crate::num::ONE);
    add(200 * crate::num::ONE, Side::Short, crate::num::ONE);
    let best = liq.best_cluster("X", 0.0, None, None).unwrap();
    assert_eq!((best.side, best.count), (Side::Long, 1));
    assert!((best.strength - 0.6).abs() < 1e-12);
    assert_eq!(
        liq.best_cluster("X", 0.0, Some(Side::Short), None).unwrap().side,
        Side::Short
    );
    assert!(liq.best_cluster("X", 0.7, None, None).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Changing the settings afterwards gives the same state as building with them from the start.
    #[test]
    fn reconfiguring_equals_building_fresh(evs in events(), retention in 1i64..250_000, bin_pct in 0.01f64..5.0) {
        let (mut liq, _) = build(&evs, LiqConfig { min_events: 1, ..LiqConfig::default() });
        let target = LiqConfig { retention_ms: retention, bin_pct, tau_ms: 50_000.0, min_events: 1 };
        liq.configure(target).unwrap();
        let (fresh, _) = build(&evs, target);
        prop_assert_eq!(liq.sums(None, i64::MIN, i64::MAX), fresh.sums(None, i64::MIN, i64::MAX));
        let now = liq.clock();
        for sym in SYMS {
            let (a, b) = (liq.clusters(sym, now), fresh.clusters(sym, now));
            prop_assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                prop_assert_eq!((x.bin, x.count, x.notional), (y.bin, y.count, y.notional));
                prop_assert!((x.total_decayed() - y.total_decayed()).abs() <= 1e-9 * y.total_decayed());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Events delivered any number of times, in any order, with any event time `E`: each distinct content counts
    /// once. Brute force: the distinct delivered events at or after the final retention cutoff; with a retention that
    /// expires nothing, every further delivery is a duplicate.
    #[test]
    fn repeats_count_once_whatever_the_order(
        base in prop::collection::vec((0usize..3, 0i64..30, any::<bool>(), 1i64..4, 1i64..3), 1..40),
        picks in prop::collection::vec((any::<prop::sample::Index>(), 0i64..5_000), 0..150),
        retention in prop_oneof![Just(i64::MAX / 4), 1_000i64..40_000],
    ) {
        // Few trade times, prices and quantities: distinct events often share all but one field of their content.
        let base: Vec<Liquidation> = base
            .iter()
            .enumerate()
            .map(|(n, &(s, t, long, p, q))| event(n % 4, s, t * 1000, long, p * 100_000_000, q * 10_000_000))
            .collect();
        let mut liq = Liquidations::new(Some(ContractKind::UsdM));
        liq.configure(LiqConfig { retention_ms: retention, ..LiqConfig::default() }).unwrap();
        let mut delivered: Vec<Liquidation> = Vec::new();
        for (pick, e_time) in &picks {
            let mut e = base[pick.index(base.len())].clone();
            e.event_time = e.time + e_time;
            let i = liq.slot(&e.symbol);
            liq.insert(i, &e);
            if !delivered.iter().any(|d| d.symbol == e.symbol && d.time == e.time && d.side == e.side
                && d.qty == e.qty && d.key == e.key) {
                delivered.push(e);
            }
        }
        let clock = delivered.iter().map(|e| e.time).max().unwrap_or(0);
        let kept: Vec<Liquidation> =
            delivered.into_iter().filter(|e| e.time >= clock.saturating_sub(retention)).collect();
        for sym in [None, Some("BTCUSDT"), Some("ETHUSDT"), Some("SOLUSDT")] {
            for side in [None, Some(Side::Long), Some(Side::Short)] {
                let s = liq.sums(sym, i64::MIN, i64::MAX);
                prop_assert_eq!((s.notional(side), s.count(side)), brute(&kept, sym, side, i64::MIN, i64::MAX));
            }
        }
        prop_assert_eq!(liq.stats.kept, kept.len() as u64 + liq.stats.pruned);
        if retention > 40_000 {
            prop_assert_eq!(liq.stats.duplicates, (picks.len() - kept.len()) as u64);
        }
    }
}
