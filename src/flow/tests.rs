use proptest::prelude::*;

use super::*;
use crate::decode::AggTrade;

fn trade(symbol: &str, id: u64, time: i64, price: i64, qty: i64, buy: bool) -> AggTrade {
    AggTrade {
        symbol: Symbol::new(symbol),
        event_time: Some(time),
        id,
        price,
        qty,
        normal_qty: None,
        first_trade_id: id * 2,
        last_trade_id: id * 2 + 1,
        time,
        buyer_maker: !buy,
    }
}

fn flow(horizons: &[i64], intervals: &[i64], history: usize, big: &[i128]) -> Flow {
    let mut f = Flow::new(Market::Spot);
    f.configure(FlowConfig {
        horizons_ms: horizons.to_vec(),
        intervals_ms: intervals.to_vec(),
        history,
        big_e16: big.to_vec(),
    })
    .unwrap();
    f
}

const E8: i64 = num::ONE;

#[test]
fn sliding_window_adds_and_evicts_by_second() {
    let mut f = flow(&[10_000], &[60_000], 5, &[]);
    let mut actions = Vec::new();
    f.apply(&trade("X", 1, 1_000, 2 * E8, E8, true), &mut actions);
    f.apply(&trade("X", 2, 5_500, 3 * E8, 2 * E8, false), &mut actions);
    let v = f.volume("X", Window::Sliding(0), None).unwrap();
    assert_eq!(
        (v.totals.buy_base, v.totals.sell_base),
        (i128::from(E8), i128::from(2 * E8))
    );
    assert_eq!(v.totals.buy_notional, 2 * num::NOTIONAL_ONE);
    assert_eq!(v.totals.sell_notional, 6 * num::NOTIONAL_ONE);
    assert_eq!((v.start_ms, v.end_ms, v.as_of), (-4_000, 6_000, 5_500));
    // At 10.999 s the window is (0 s, 10 s]: the trade of second 1 is still in; at 11.0 s it is out.
    let v = f.volume("X", Window::Sliding(0), Some(10_999)).unwrap();
    assert_eq!(v.totals.buy_count, 1);
    let v = f.volume("X", Window::Sliding(0), Some(11_000)).unwrap();
    assert_eq!((v.totals.buy_count, v.totals.sell_count), (0, 1));
    // Moving the clock there by a trade gives the same.
    f.apply(&trade("X", 3, 11_000, E8, E8, true), &mut actions);
    let v = f.volume("X", Window::Sliding(0), None).unwrap();
    assert_eq!((v.totals.buy_count, v.totals.sell_count), (1, 1));
    assert!(actions.is_empty());
}

#[test]
fn duplicates_count_once_and_gaps_are_reported_then_filled() {
    let mut f = flow(&[60_000], &[60_000], 5, &[]);
    let mut actions = Vec::new();
    f.apply(&trade("X", 10, 1_000, E8, E8, true), &mut actions);
    f.apply(&trade("X", 10, 1_000, E8, E8, true), &mut actions);
    f.apply(&trade("X", 14, 3_000, E8, E8, true), &mut actions);
    assert_eq!(
        actions,
        vec![Action::TradeGap {
            symbol: "X".into(),
            from_id: 11,
            to_id: 13
        }]
    );
    assert_eq!(f.stats.duplicates, 1);
    assert_eq!(f.gaps(Some("X")).unwrap(), vec![("X".into(), 11, 13)]);
    let v = f.volume("X", Window::Sliding(0), Some(70_000)).unwrap();
    assert!(v.complete, "window after the gap is complete");
    let v = f.volume("X", Window::Sliding(0), None).unwrap();
    assert!(!v.complete);
    for id in 11..=13 {
        f.apply(&trade("X", id, 2_000, E8, E8, false), &mut actions);
    }
    assert_eq!(f.stats.gaps_filled, 1);
    assert!(f.gaps(None).unwrap().is_empty());
    // Coverage starts 1 ms after the first trade: the window starting at -57 s is before it.
    assert!(!f.volume("X", Window::Sliding(0), None).unwrap().complete);
    let v = f.volume("X", Window::Aligned(0), Some(59_000)).unwrap();
    assert_eq!(v.start_ms, 0);
    assert!(!v.complete, "the interval starts before the first trade");
    let v = f.volume("X", Window::Sliding(0), Some(61_000)).unwrap();
    assert!(v.complete);
    assert_eq!(v.totals.sell_count + v.totals.buy_count, 4);
    assert_eq!(f.last_trade_id("X").unwrap(), Some(14));
}

#[test]
fn abandoned_gap_is_reported_on_the_windows_it_touches() {
    let mut f = flow(&[60_000], &[60_000], 5, &[]);
    let mut actions = Vec::new();
    f.apply_rest(
        "X",
        &[trade("X", 1, 1_000, E8, E8, true), trade("X", 5, 2_000, E8, E8, true)],
        Some(0),
        &mut actions,
    );
    assert_eq!(actions.len(), 1);
    let v = f.volume("X", Window::Aligned(0), None).unwrap();
    assert!(!v.complete && !v.abandoned);
    f.abandon_gap("X", 2, 3).unwrap();
    assert_eq!(f.gaps(None).unwrap(), vec![("X".into(), 4, 4)]);
    f.abandon_gap("X", 4, 4).unwrap();
    assert!(f.gaps(None).unwrap().is_empty());
    let v = f.volume("X", Window::Aligned(0), None).unwrap();
    assert!(!v.complete && v.abandoned);
    assert!(f.abandon_gap("Y", 1, 2).is_err());
}

#[test]
fn big_trades_are_counted_per_threshold_and_reported_once() {
    let t1 = 1_000 * num::NOTIONAL_ONE;
    let t2 = 10_000 * num::NOTIONAL_ONE;
    let mut f = flow(&[60_000], &[60_000], 5, &[t2, t1]);
    let mut actions = Vec::new();
    f.apply(&trade("X", 1, 1_000, 100 * E8, 10 * E8, true), &mut actions); // 1000: first threshold
    f.apply(&trade("X", 2, 1_000, 100 * E8, 100 * E8, false), &mut actions); // 10000: both
    f.apply(&trade("X", 2, 1_000, 100 * E8, 100 * E8, false), &mut actions); // duplicate
    f.apply(&trade("X", 3, 1_000, 100 * E8, 9 * E8, false), &mut actions); // below
    assert_eq!(actions.len(), 2);
    assert!(matches!(
        actions[1],
        Action::BigTrade {
            trade_id: 2,
            buy: false,
            ..
        }
    ));
    let v = f.volume("X", Window::Sliding(0), None).unwrap();
    assert_eq!(v.totals.big[0], [1, 1]);
    assert_eq!(v.totals.big[1], [0, 1]);
}

#[test]
fn coin_m_quote_is_contracts_times_contract_size() {
    let mut f = Flow::new(Market::CoinM);
    let mut actions = Vec::new();
    f.apply(&trade("BTCUSD_PERP", 1, 1_000, 30_000 * E8, 3 * E8, true), &mut actions);
    f.apply(&trade("ETHUSD_PERP", 1, 1_000, 2_000 * E8, 3 * E8, false), &mut actions);
    let v = f.volume("BTCUSD_PERP", Window::Sliding(0), None).unwrap();
    assert_eq!(v.quote(), (300 * num::NOTIONAL_ONE, 0));
    assert!((v.vwap() - 30_000.0).abs() < 1e-9);
    let v = f.volume("ETHUSD_PERP", Window::Sliding(0), None).unwrap();
    assert_eq!(v.quote(), (0, 30 * num::NOTIONAL_ONE));
    f.set_contract_size("ETHUSD_PERP", 20 * E8).unwrap();
    let v = f.volume("ETHUSD_PERP", Window::Sliding(0), None).unwrap();
    assert_eq!(v.quote(), (0, 60 * num::NOTIONAL_ONE));
}

#[test]
fn windows_parse_and_reject_unknown_names() {
    let f = Flow::new(Market::Spot);
    assert_eq!(f.parse_window("15m").unwrap(), Window::Sliding(2));
    assert_eq!(f.parse_window("1h@aligned").unwrap(), Window::Aligned(3));
    assert!(f.parse_window("4h@aligned").is_err());
    assert!(f.parse_window("7m").is_err());
    assert!(f.parse_window("m").is_err());
    assert_eq!(duration_name(14_400_000), "4h");
    assert_eq!(parse_duration("90s").unwrap(), 90_000);
    // The same window twice would keep a second set of totals nobody reads.
    for (horizons, intervals) in [(vec![60_000, 60_000], vec![]), (vec![60_000], vec![60_000, 60_000])] {
        let mut g = Flow::new(Market::Spot);
        let config = FlowConfig {
            horizons_ms: horizons,
            intervals_ms: intervals,
            ..FlowConfig::default()
        };
        assert!(g.configure(config).is_err());
    }
}

#[test]
fn extreme_values_stay_exact() {
    // PEPE-sized quantities (90 billion units) at tiny prices and BTC-sized prices, a million trades in a window.
    let mut f = flow(&[3_600_000], &[3_600_000], 2, &[]);
    let mut actions = Vec::new();
    let qty = 90_000_000_000 * E8; // the largest whole number of units that fits
    let price = 1; // 0.00000001
    for id in 0..1_000_000u64 {
        let time = 1_700_000_000_000 + (id as i64) % 3_000_000;
        f.apply(&trade("PEPEUSDT", id, time, price, qty, id % 2 == 0), &mut actions);
    }
    let v = f.volume("PEPEUSDT", Window::Sliding(0), None).unwrap();
    assert_eq!(v.totals.buy_base, 500_000 * i128::from(qty));
    assert_eq!(v.totals.buy_notional, 500_000 * i128::from(qty) * i128::from(price));
    assert_eq!(v.totals.buy_count + v.totals.sell_count, 1_000_000);
    f.apply(
        &trade("BTCUSDT", 1, 0, 9_999_999 * E8 + 99_999_999, 9_000 * E8, true),
        &mut actions,
    );
    let v = f.volume("BTCUSDT", Window::Sliding(0), Some(0)).unwrap();
    assert_eq!(
        v.totals.buy_notional,
        i128::from(9_999_999 * E8 + 99_999_999) * i128::from(9_000 * E8)
    );
}

type Row = (i128, i128, i128, i128, u64, u64);

/// A window's totals in the model's row order.
fn row(t: &Totals) -> Row {
    (
        t.buy_base,
        t.sell_base,
        t.buy_notional,
        t.sell_notional,
        t.buy_count,
        t.sell_count,
    )
}
type Scenario = (Vec<(u64, i64, i64, i64, bool)>, Vec<usize>, Vec<usize>);

/// A brute-force reference: every distinct counted trade, summed directly.
struct Model {
    trades: std::collections::BTreeMap<u64, (i64, i64, i64, bool)>,
    from_time: Option<i64>,
}

impl Model {
    fn sums(&self, a: i64, b: i64) -> Row {
        let mut s = (0, 0, 0, 0, 0, 0);
        for &(t, p, q, buy) in self.trades.values() {
            if t >= a && t < b {
                if buy {
                    s.0 += i128::from(q);
                    s.2 += i128::from(p) * i128::from(q);
                    s.4 += 1;
                } else {
                    s.1 += i128::from(q);
                    s.3 += i128::from(p) * i128::from(q);
                    s.5 += 1;
                }
            }
        }
        s
    }

    fn complete(&self, a: i64, b: i64) -> bool {
        let first = self.trades.values().next().map(|v| v.0 + 1);
        let coverage = match (first, self.from_time) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        if coverage.is_none_or(|c| c > a) {
            return false;
        }
        let ids: Vec<(u64, i64)> = self.trades.iter().map(|(&id, v)| (id, v.0)).collect();
        !ids.windows(2).any(|w| w[1].0 > w[0].0 + 1 && w[0].1 < b && w[1].1 >= a)
    }
}

/// The sliding window of horizon `k` (`h` ms) at `now` equals the brute-force sums and completeness.
fn check_sliding(f: &Flow, m: &Model, k: usize, horizon: i64, now: i64) -> Result<(), TestCaseError> {
    let volume = f.volume("X", Window::Sliding(k), Some(now)).unwrap();
    let end = (now.div_euclid(1000) + 1) * 1000;
    let expected = m.sums(end - horizon, end);
    prop_assert_eq!(row(&volume.totals), expected, "horizon {} at {}", horizon, now);
    prop_assert_eq!(
        volume.complete,
        m.complete(end - horizon, end),
        "complete, horizon {} at {}",
        horizon,
        now
    );
    Ok(())
}

fn check(f: &Flow, model: &Model, now: i64) -> Result<(), TestCaseError> {
    let m = model;
    for (k, &h) in f.config().horizons_ms.iter().enumerate() {
        check_sliding(f, m, k, h, now)?;
    }
    let first = m.trades.values().map(|v| v.0).min().unwrap_or(0);
    let last = m.trades.values().map(|v| v.0).max().unwrap_or(0);
    for (k, &interval) in f.config().intervals_ms.iter().enumerate() {
        let candles = f.candles("X", k, None).unwrap();
        // Contiguous, ending at the newest trade's interval, reaching back to the oldest trade or the history.
        let span = (last - last % interval - (first - first % interval)) / interval + 1;
        prop_assert_eq!(candles.len() as i64, span.min(f.config().history as i64 + 1));
        prop_assert_eq!(candles.last().map(|c| c.start_ms), Some(last - last % interval));
        for c in candles {
            let s = m.sums(c.start_ms, c.end_ms);
            prop_assert_eq!(row(&c.totals), s);
            prop_assert_eq!(
                c.complete,
                m.complete(c.start_ms, c.end_ms),
                "candle {} of {}",
                c.start_ms,
                interval
            );
        }
    }
    Ok(())
}

/// Trades with increasing ids and non-decreasing times, delivered with duplicates, bounded reordering and held-back
/// ids that arrive much later.
fn scenario() -> impl Strategy<Value = Scenario> {
    prop::collection::vec((0i64..4_000, 1i64..1_000, 1i64..1_000_000, any::<bool>()), 1..120).prop_flat_map(|steps| {
        let mut t = 1_000_000i64;
        let trades: Vec<(u64, i64, i64, i64, bool)> = steps
            .iter()
            .enumerate()
            .map(|(i, &(dt, p, q, buy))| {
                t += dt;
                (i as u64 + 100, t, p * 1_000_000, q, buy)
            })
            .collect();
        let n = trades.len();
        (
            Just(trades),
            // Arrival order: index + a random delay; a big delay means a later backfill.
            prop::collection::vec(prop_oneof![8 => 0usize..4, 1 => 0usize..200], n),
            prop::collection::vec(0usize..n, 0..n / 3 + 1),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// After every arrival, every sliding window, every kept aligned interval and every `complete` flag equals the
    /// brute-force answer.
    #[test]
    fn windows_equal_brute_force((trades, delays, dups) in scenario()) {
        let mut f = flow(&[1_000, 5_000, 60_000], &[1_000, 10_000], 50, &[]);
        let mut order: Vec<(usize, usize)> = delays.iter().enumerate().map(|(i, d)| (i + d, i)).collect();
        order.extend(dups.iter().map(|&i| (i + 3, i)));
        order.sort_unstable();
        let mut m = Model { trades: std::collections::BTreeMap::new(), from_time: None };
        let mut actions = Vec::new();
        for (_, i) in order {
            let (id, time, price, qty, buy) = trades[i];
            f.apply(&trade("X", id, time, price, qty, buy), &mut actions);
            m.trades.insert(id, (time, price, qty, buy));
            let clock = f.clock().unwrap();
            check(&f, &m, clock)?;
        }
        let clock = f.clock().unwrap();
        for later in [1, 999, 1_000, 4_321, 59_999, 60_000, 100_000] {
            check(&f, &m, clock + later)?;
        }
        // Windows ending before the clock: answered from the kept seconds, refused once they reach further back.
        let max_h = f.config().horizons_ms.iter().copied().max().unwrap();
        for earlier in [1, 999, 1_000, 2_345, 4_000, 30_000, 59_000, 61_000] {
            let now = clock - earlier;
            for (k, &h) in f.config().horizons_ms.iter().enumerate() {
                let start_sec = now.div_euclid(1000) - h / 1000 + 1;
                if start_sec > clock.div_euclid(1000) - max_h / 1000 {
                    check_sliding(&f, &m, k, h, now)?;
                } else {
                    prop_assert!(f.volume("X", Window::Sliding(k), Some(now)).is_err(), "horizon {} at {}", h, now);
                }
            }
        }
        prop_assert!(f.gaps(None).unwrap().is_empty());
        prop_assert_eq!(f.stats.aggtrades, trades.len() as u64);
    }

    /// Gaps reported while trades arrive are exactly the holes in the ids seen so far, and filling them empties the
    /// list.
    #[test]
    fn gaps_are_the_holes_between_seen_ids(ids in prop::collection::vec(0u64..300, 1..80)) {
        let mut f = flow(&[60_000], &[60_000], 5, &[]);
        let mut actions = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for &id in &ids {
            f.apply(&trade("X", id, id as i64 * 10, E8, E8, true), &mut actions);
            seen.insert(id);
            let (lo, hi) = (*seen.first().unwrap(), *seen.last().unwrap());
            let mut holes = Vec::new();
            let mut start = None;
            for i in lo..=hi {
                match (seen.contains(&i), start) {
                    (false, None) => start = Some(i),
                    (true, Some(s)) => { holes.push(("X".into(), s, i - 1)); start = None; }
                    _ => {}
                }
            }
            prop_assert_eq!(f.gaps(None).unwrap(), holes);
        }
        // Every missing id was reported in some trade_gap action.
        let (lo, hi) = (*seen.first().unwrap(), *seen.last().unwrap());
        for id in lo..=hi {
            if !ids.contains(&id) {
                let reported = actions
                    .iter()
                    .any(|a| matches!(a, Action::TradeGap { from_id, to_id, .. } if *from_id <= id && id <= *to_id));
                prop_assert!(reported, "id {} never reported", id);
            }
        }
    }
}

#[test]
fn trades_older_than_the_retention_expire_and_old_holes_are_forgotten() {
    // Retention: max(2 s horizon, 1 s interval × (2 + 1)) = 3 s.
    let mut f = flow(&[2_000], &[1_000], 2, &[]);
    let mut actions = Vec::new();
    f.apply(&trade("X", 1, 1_000, E8, E8, true), &mut actions);
    f.apply(&trade("X", 5, 1_500, E8, E8, true), &mut actions); // hole 2..=4
    f.apply(&trade("X", 10, 10_000, E8, E8, true), &mut actions); // hole 6..=9
    assert_eq!(f.stats.gaps, 2);
    // Both holes were forgotten with the spans before them; coverage starts after the first kept trade.
    assert_eq!(f.gaps(None).unwrap(), vec![]);
    let s = f.state("X").unwrap();
    assert_eq!(s.ledger.spans().len(), 1);
    assert_eq!(s.coverage, Some(10_001));
    // Too old to count anywhere: expired, and so is a second arrival of it.
    f.apply(&trade("X", 3, 1_200, E8, E8, true), &mut actions);
    f.apply(&trade("X", 3, 1_200, E8, E8, true), &mut actions);
    assert_eq!(f.stats.expired, 2);
    // Within the retention but before every kept id: counted, with a new hole up to the kept span.
    f.apply(&trade("X", 8, 8_000, E8, E8, false), &mut actions);
    assert_eq!(f.gaps(None).unwrap(), vec![("X".into(), 9, 9)]);
    assert_eq!(f.state("X").unwrap().coverage, Some(8_001));
    let v = f.volume("X", Window::Aligned(0), Some(8_000)).unwrap();
    assert_eq!((v.totals.sell_count, v.complete), (1, false));
    let starts: Vec<i64> = f.candles("X", 0, None).unwrap().iter().map(|c| c.start_ms).collect();
    assert_eq!(starts, vec![8_000, 9_000, 10_000]);
}
