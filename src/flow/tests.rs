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

/// What the trades of a test reported, in order.
#[derive(Default)]
struct Seen {
    gaps: Vec<(u64, u64)>,
    big: Vec<BigTrade>,
}

/// Counts one trade, collecting what it reports.
fn apply(f: &mut Flow, t: &AggTrade, seen: &mut Seen) {
    let outcome = f.apply(t);
    seen.gaps.extend(outcome.gap);
    seen.big.extend(outcome.big);
}

#[test]
fn sliding_window_adds_and_evicts_by_second() {
    let mut f = flow(&[10_000], &[60_000], 5, &[]);
    let mut seen = Seen::default();
    apply(&mut f, &trade("X", 1, 1_000, 2 * E8, E8, true), &mut seen);
    apply(&mut f, &trade("X", 2, 5_500, 3 * E8, 2 * E8, false), &mut seen);
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
    apply(&mut f, &trade("X", 3, 11_000, E8, E8, true), &mut seen);
    let v = f.volume("X", Window::Sliding(0), None).unwrap();
    assert_eq!((v.totals.buy_count, v.totals.sell_count), (1, 1));
    assert!(seen.gaps.is_empty() && seen.big.is_empty());
}

#[rstest::rstest]
#[case::fifteen_minutes_at_one_second(900, 1)]
#[case::one_second_when_ten_does_not_divide(901, 1)]
#[case::twenty_minutes(1_200, 10)]
#[case::one_hour(3_600, 10)]
#[case::two_and_a_half_hours(9_000, 10)]
#[case::four_hours(14_400, 60)]
#[case::fifteen_hours(54_000, 60)]
#[case::one_day(86_400, 600)]
#[case::seven_days(604_800, 3_600)]
#[case::ten_seconds_when_a_minute_does_not_divide(9_010, 10)]
fn edge_resolution_per_horizon(#[case] horizon_s: i64, #[case] step_s: i64) {
    assert_eq!(edge_step_s(horizon_s), step_s);
}

#[test]
fn a_coarse_horizon_moves_by_whole_steps() {
    // 4 h moves by minutes: at 12:00:07 it holds 08:01:00 to 12:00:59.999.
    let mut f = flow(&[14_400_000, 60_000], &[60_000], 5, &[]);
    let mut seen = Seen::default();
    let noon = 12 * 3_600_000;
    apply(
        &mut f,
        &trade("X", 1, noon - 4 * 3_600_000 + 59_999, E8, E8, true),
        &mut seen,
    );
    apply(
        &mut f,
        &trade("X", 2, noon - 4 * 3_600_000 + 60_000, E8, E8, true),
        &mut seen,
    );
    apply(&mut f, &trade("X", 3, noon + 7_000, E8, 2 * E8, false), &mut seen);
    let v = f.volume("X", Window::Sliding(0), None).unwrap();
    assert_eq!((v.start_ms, v.end_ms), (noon - 4 * 3_600_000 + 60_000, noon + 60_000));
    assert_eq!((v.totals.buy_count, v.totals.sell_count), (1, 1));
    let v = f.volume("X", Window::Sliding(0), Some(noon + 59_999)).unwrap();
    assert_eq!(v.totals.buy_count, 1);
    let v = f.volume("X", Window::Sliding(0), Some(noon + 60_000)).unwrap();
    assert_eq!((v.totals.buy_count, v.totals.sell_count), (0, 1));
    // The 1m horizon keeps its one-second edges.
    let v = f.volume("X", Window::Sliding(1), None).unwrap();
    assert_eq!((v.start_ms, v.end_ms), (noon - 52_000, noon + 8_000));
}

#[test]
fn duplicates_count_once_and_gaps_are_reported_then_filled() {
    let mut f = flow(&[60_000], &[60_000], 5, &[]);
    let mut seen = Seen::default();
    apply(&mut f, &trade("X", 10, 1_000, E8, E8, true), &mut seen);
    apply(&mut f, &trade("X", 10, 1_000, E8, E8, true), &mut seen);
    apply(&mut f, &trade("X", 14, 3_000, E8, E8, true), &mut seen);
    assert_eq!(seen.gaps, vec![(11, 13)]);
    assert_eq!(f.stats.duplicates, 1);
    assert_eq!(f.gaps(Some("X")).unwrap(), vec![("X".into(), 11, 13)]);
    let v = f.volume("X", Window::Sliding(0), Some(63_000)).unwrap();
    assert!(v.complete, "window after the gap is complete");
    // A minute past the newest event heard (3 s), nothing is known: not complete.
    let v = f.volume("X", Window::Sliding(0), Some(63_001)).unwrap();
    assert!(!v.complete, "window reaching past the grace after the newest event");
    let v = f.volume("X", Window::Sliding(0), None).unwrap();
    assert!(!v.complete);
    for id in 11..=13 {
        apply(&mut f, &trade("X", id, 2_000, E8, E8, false), &mut seen);
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
    let page = f.apply_rest(
        "X",
        &[trade("X", 1, 1_000, E8, E8, true), trade("X", 5, 2_000, E8, E8, true)],
        PageQuery {
            from_time: Some(0),
            from_id: None,
        },
    );
    assert_eq!(page.gaps, vec![(2, 4)]);
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
    let mut seen = Seen::default();
    apply(&mut f, &trade("X", 1, 1_000, 100 * E8, 10 * E8, true), &mut seen); // 1000: first threshold
    apply(&mut f, &trade("X", 2, 1_000, 100 * E8, 100 * E8, false), &mut seen); // 10000: both
    apply(&mut f, &trade("X", 2, 1_000, 100 * E8, 100 * E8, false), &mut seen); // duplicate
    apply(&mut f, &trade("X", 3, 1_000, 100 * E8, 9 * E8, false), &mut seen); // below
    assert_eq!(seen.big.len(), 2);
    assert_eq!((seen.big[0].trade_id, seen.big[0].buy), (1, true));
    assert_eq!((seen.big[1].trade_id, seen.big[1].buy), (2, false));
    assert_eq!(seen.big[1].quote, 10_000 * num::NOTIONAL_ONE);
    let v = f.volume("X", Window::Sliding(0), None).unwrap();
    assert_eq!(v.totals.big[0], [1, 1]);
    assert_eq!(v.totals.big[1], [0, 1]);
}

#[test]
fn coin_m_quote_is_contracts_times_contract_size() {
    let mut f = Flow::new(Market::CoinM);
    let mut seen = Seen::default();
    apply(
        &mut f,
        &trade("BTCUSD_PERP", 1, 1_000, 30_000 * E8, 3 * E8, true),
        &mut seen,
    );
    apply(
        &mut f,
        &trade("ETHUSD_PERP", 1, 1_000, 2_000 * E8, 3 * E8, false),
        &mut seen,
    );
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
    let mut seen = Seen::default();
    let qty = 90_000_000_000 * E8; // the largest whole number of units that fits
    let price = 1; // 0.00000001
    for id in 0..1_000_000u64 {
        let time = 1_700_000_000_000 + (id as i64) % 3_000_000;
        apply(&mut f, &trade("PEPEUSDT", id, time, price, qty, id % 2 == 0), &mut seen);
    }
    let v = f.volume("PEPEUSDT", Window::Sliding(0), None).unwrap();
    assert_eq!(v.totals.buy_base, 500_000 * i128::from(qty));
    assert_eq!(v.totals.buy_notional, 500_000 * i128::from(qty) * i128::from(price));
    assert_eq!(v.totals.buy_count + v.totals.sell_count, 1_000_000);
    apply(
        &mut f,
        &trade("BTCUSDT", 1, 0, 9_999_999 * E8 + 99_999_999, 9_000 * E8, true),
        &mut seen,
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

    /// Whether `[a, b)` is complete as known up to `reach` (ms): also no more than the grace (60 s) past the newest
    /// trade time seen.
    fn complete(&self, a: i64, b: i64, reach: i64) -> bool {
        let heard = self.trades.values().map(|v| v.0).max();
        if heard.is_none_or(|h| reach > h + 60_000) {
            return false;
        }
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
    let step = edge_step_s(horizon / 1000) * 1000;
    let end = (now.div_euclid(step) + 1) * step;
    let expected = m.sums(end - horizon, end);
    prop_assert_eq!(row(&volume.totals), expected, "horizon {} at {}", horizon, now);
    prop_assert_eq!(
        volume.complete,
        m.complete(end - horizon, end, now.min(end - 1)),
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
            // A candle also needs a trade at or after its end (the stream delivers trades only, each at its time).
            prop_assert_eq!(
                c.complete,
                m.complete(c.start_ms, c.end_ms, c.end_ms - 1) && last >= c.end_ms,
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
        let mut f = flow(&[1_000, 5_000, 60_000, 1_200_000], &[1_000, 10_000], 50, &[]);
        let mut order: Vec<(usize, usize)> = delays.iter().enumerate().map(|(i, d)| (i + d, i)).collect();
        order.extend(dups.iter().map(|&i| (i + 3, i)));
        order.sort_unstable();
        let mut m = Model { trades: std::collections::BTreeMap::new(), from_time: None };
        let mut seen = Seen::default();
        for (_, i) in order {
            let (id, time, price, qty, buy) = trades[i];
            apply(&mut f, &trade("X", id, time, price, qty, buy), &mut seen);
            m.trades.insert(id, (time, price, qty, buy));
            let clock = f.clock().unwrap();
            check(&f, &m, clock)?;
        }
        let clock = f.clock().unwrap();
        for later in [1, 999, 1_000, 4_321, 59_999, 60_000, 100_000] {
            check(&f, &m, clock + later)?;
        }
        // Windows ending before the clock: answered from the kept steps of their edge resolution (as far back as
        // the longest horizon of that resolution), refused once they reach further back.
        let horizons = f.config().horizons_ms.clone();
        let step = |h: i64| edge_step_s(h / 1000) * 1000;
        for earlier in [1, 999, 1_000, 2_345, 4_000, 30_000, 59_000, 61_000, 300_000, 1_100_000] {
            let now = clock - earlier;
            for (k, &h) in horizons.iter().enumerate() {
                let span = horizons.iter().filter(|&&g| step(g) == step(h)).map(|&g| g / step(g)).max().unwrap();
                let start = now.div_euclid(step(h)) - h / step(h) + 1;
                if start > clock.div_euclid(step(h)) - span {
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
        let mut reports = Seen::default();
        let mut seen = std::collections::BTreeSet::new();
        for &id in &ids {
            apply(&mut f, &trade("X", id, id as i64 * 10, E8, E8, true), &mut reports);
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
        // Every missing id was reported in some gap.
        let (lo, hi) = (*seen.first().unwrap(), *seen.last().unwrap());
        for id in lo..=hi {
            if !ids.contains(&id) {
                let reported = reports.gaps.iter().any(|&(from_id, to_id)| from_id <= id && id <= to_id);
                prop_assert!(reported, "id {} never reported", id);
            }
        }
    }
}

#[test]
fn trades_older_than_the_retention_expire_and_old_holes_are_forgotten() {
    // Retention: max(2 s horizon, 1 s interval × (2 + 1)) = 3 s.
    let mut f = flow(&[2_000], &[1_000], 2, &[]);
    let mut seen = Seen::default();
    apply(&mut f, &trade("X", 1, 1_000, E8, E8, true), &mut seen);
    apply(&mut f, &trade("X", 5, 1_500, E8, E8, true), &mut seen); // hole 2..=4
    apply(&mut f, &trade("X", 10, 10_000, E8, E8, true), &mut seen); // hole 6..=9
    assert_eq!(f.stats.gaps, 2);
    // Both holes were forgotten with the spans before them; coverage starts after the first kept trade.
    assert_eq!(f.gaps(None).unwrap(), vec![]);
    let s = f.state("X").unwrap();
    assert_eq!(s.ledger.spans().len(), 1);
    assert_eq!(s.coverage, Some(10_001));
    // Too old to count anywhere: expired, and so is a second arrival of it.
    apply(&mut f, &trade("X", 3, 1_200, E8, E8, true), &mut seen);
    apply(&mut f, &trade("X", 3, 1_200, E8, E8, true), &mut seen);
    assert_eq!(f.stats.expired, 2);
    // Within the retention but before every kept id: counted, with a new hole up to the kept span.
    apply(&mut f, &trade("X", 8, 8_000, E8, E8, false), &mut seen);
    assert_eq!(f.gaps(None).unwrap(), vec![("X".into(), 9, 9)]);
    assert_eq!(f.state("X").unwrap().coverage, Some(8_001));
    let v = f.volume("X", Window::Aligned(0), Some(8_000)).unwrap();
    assert_eq!((v.totals.sell_count, v.complete), (1, false));
    let starts: Vec<i64> = f.candles("X", 0, None).unwrap().iter().map(|c| c.start_ms).collect();
    assert_eq!(starts, vec![8_000, 9_000, 10_000]);
}

/// A page query answering `startTime`.
fn from_time(t: i64) -> PageQuery {
    PageQuery {
        from_time: Some(t),
        from_id: None,
    }
}

/// A page query answering `fromId`.
fn from_id(id: u64) -> PageQuery {
    PageQuery {
        from_time: None,
        from_id: Some(id),
    }
}

/// Taker buys of `X` with these ids, each at 1 s + its id in ms.
fn rows(ids: impl IntoIterator<Item = u64>) -> Vec<AggTrade> {
    ids.into_iter()
        .map(|id| trade("X", id, 1_000 + id as i64, E8, E8, true))
        .collect()
}

/// A flow with one-minute windows that counted `ids` of `X` live.
fn live(ids: impl IntoIterator<Item = u64>) -> Flow {
    let mut f = flow(&[60_000], &[60_000], 5, &[]);
    for t in rows(ids) {
        assert_eq!(f.apply(&t).gap, None, "the live ids are consecutive");
    }
    f
}

#[test]
fn a_page_that_fills_its_own_hole_reports_nothing() {
    // Live trades 110..=112, then a start-time page of 100..=112: row 100 opens 101..=109, rows 101..=109 fill it.
    let mut f = live(110..=112);
    let page = f.apply_rest("X", &rows(100..=112), from_time(1_000));
    assert_eq!(page.gaps, vec![]);
    assert_eq!((page.rows, page.counted), (13, 10));
    assert_eq!(
        (page.first_id, page.last_id, page.abandoned),
        (Some(100), Some(112), None)
    );
    assert!(f.gaps(None).unwrap().is_empty());
    assert_eq!(f.stats.gaps, 0);
}

#[test]
fn a_page_reports_only_what_it_left_missing() {
    // Live trades 110..=112, then a page of 100..=105: the hole is 106..=109, not 101..=109.
    let mut f = live(110..=112);
    let page = f.apply_rest("X", &rows(100..=105), from_time(1_000));
    assert_eq!(page.gaps, vec![(106, 109)]);
    assert_eq!(f.gaps(None).unwrap(), vec![("X".into(), 106, 109)]);
    assert_eq!(page.counted, 6);
    assert_eq!(f.stats.gaps, 1);
}

#[test]
fn a_from_id_page_starting_later_abandons_the_ids_before_it() {
    let mut f = live(1..=3);
    f.apply(&rows([20])[0]);
    assert_eq!(f.gaps(None).unwrap(), vec![("X".into(), 4, 19)]);
    // The exchange's oldest id from 4 on is 10: 4..=9 are gone.
    let page = f.apply_rest("X", &rows(10..=19), from_id(4));
    assert_eq!(page.abandoned, Some((4, 9)));
    assert_eq!(page.gaps, vec![]);
    assert!(f.gaps(None).unwrap().is_empty());
    let v = f.volume("X", Window::Sliding(0), Some(1_020)).unwrap();
    assert!(v.abandoned && !v.complete);
    // A page that starts at the asked id abandons nothing; neither does an empty one.
    assert_eq!(f.apply_rest("X", &rows(21..=22), from_id(21)).abandoned, None);
    let empty = f.apply_rest("X", &[], from_id(23));
    assert_eq!(
        (empty.rows, empty.first_id, empty.last_id, empty.abandoned),
        (0, None, None, None)
    );
}

#[test]
fn a_tail_page_starting_later_reports_no_gap_for_the_ids_it_abandons() {
    let mut f = live(1..=3);
    let page = f.apply_rest("X", &rows(7..=8), from_id(4));
    assert_eq!((page.abandoned, page.gaps.clone()), (Some((4, 6)), vec![]));
    assert!(f.gaps(None).unwrap().is_empty());
}

#[test]
fn trade_times_earlier_than_a_lower_id_are_counted_as_regressions() {
    let mut f = flow(&[60_000], &[60_000], 5, &[]);
    let t = |id, time| trade("X", id, time, E8, E8, true);
    f.apply(&t(1, 1_000));
    f.apply(&t(2, 2_000));
    f.apply(&t(3, 2_000)); // same time: not earlier
    assert_eq!(f.stats.time_regressions, 0);
    f.apply(&t(4, 1_500)); // earlier than ids 2 and 3
    assert_eq!(f.stats.time_regressions, 1);
    f.apply(&t(4, 500)); // a duplicate arrival is not counted again
    f.apply(&t(10, 3_000));
    f.apply(&t(6, 2_500)); // inside the hole 5..=9, later than every lower id
    assert_eq!(f.stats.time_regressions, 1);
    f.apply(&t(8, 1_900)); // inside the hole, earlier than id 6
    f.apply(&t(0, 5_000)); // below every id: nothing lower
    assert_eq!(f.stats.time_regressions, 2);
    // Counted only: the windows hold every trade.
    let v = f.volume("X", Window::Sliding(0), Some(5_000)).unwrap();
    assert_eq!(v.totals.buy_count, 8);
}

#[test]
fn pending_checks_keep_windows_incomplete() {
    let mut f = flow(&[60_000], &[60_000], 5, &[]);
    f.apply_rest("X", &rows(1..=3), from_time(0));
    let complete = |f: &Flow| {
        let v = f.volume("X", Window::Aligned(0), Some(1_003)).unwrap();
        (v.complete, v.checking)
    };
    assert_eq!(complete(&f), (true, false));
    f.begin_check("X");
    f.begin_check("X");
    assert_eq!(complete(&f), (false, true));
    assert!(f
        .volumes(Window::Aligned(0), Some(1_003))
        .unwrap()
        .iter()
        .all(|v| !v.complete && v.checking));
    assert!(f.candles("X", 0, None).unwrap().iter().all(|v| !v.complete));
    f.end_check("X");
    assert_eq!(complete(&f), (false, true));
    f.end_check("X");
    assert_eq!(complete(&f), (true, false));
    // Ending more checks than were begun changes nothing; a new check counts again.
    f.end_check("X");
    f.end_check("Y");
    assert_eq!(complete(&f), (true, false));
    f.begin_check("X");
    assert_eq!(complete(&f), (false, true));
    // A check of a symbol without trades yet creates its state.
    f.begin_check("NEW");
    assert!(f.volume("NEW", Window::Aligned(0), Some(0)).unwrap().checking);
}

/// The ids in `from..=to` ranges, as a set.
fn ids_of(ranges: &[(u64, u64)]) -> std::collections::BTreeSet<u64> {
    ranges.iter().flat_map(|&(a, b)| a..=b).collect()
}

/// The holes between the lowest and the highest of `seen`, by brute force.
fn holes_of(seen: &std::collections::BTreeSet<u64>) -> std::collections::BTreeSet<u64> {
    match (seen.first(), seen.last()) {
        (Some(&lo), Some(&hi)) => (lo..=hi).filter(|i| !seen.contains(i)).collect(),
        _ => std::collections::BTreeSet::new(),
    }
}

proptest! {
    /// A page reports exactly the ids it leaves missing that were not known missing before it: the ids of the
    /// holes after the page (brute force) that were not in a hole before it, each once.
    #[test]
    fn page_gaps_are_the_new_holes_after_the_whole_page(
        live in prop::collection::btree_set(0u64..120, 0..40),
        page in prop::collection::btree_set(0u64..120, 0..60),
    ) {
        let mut f = flow(&[60_000], &[60_000], 5, &[]);
        for &id in &live {
            f.apply(&trade("X", id, 1_000 + id as i64, E8, E8, true));
        }
        let before = holes_of(&live);
        let trades: Vec<AggTrade> = page.iter().map(|&id| trade("X", id, 1_000 + id as i64, E8, E8, false)).collect();
        let out = f.apply_rest("X", &trades, PageQuery::default());
        let all: std::collections::BTreeSet<u64> = live.union(&page).copied().collect();
        let after = holes_of(&all);
        let want: std::collections::BTreeSet<u64> = after.difference(&before).copied().collect();
        prop_assert_eq!(ids_of(&out.gaps), want.clone());
        let reported: u64 = out.gaps.iter().map(|&(a, b)| b - a + 1).sum();
        prop_assert_eq!(reported, want.len() as u64, "reported twice: {:?}", out.gaps);
        prop_assert_eq!(out.counted, page.difference(&live).count());
        prop_assert_eq!(ids_of(&f.gaps(None).unwrap().iter().map(|g| (g.1, g.2)).collect::<Vec<_>>()), after);
    }
}

#[test]
fn aligned_history_is_allocated_once_at_its_full_size() {
    // One horizon of a second (a single one-bucket tier) and minute intervals with 5 kept: after the first closed
    // interval the symbol's memory is what it will ever be, through busy minutes, quiet spans and long silences.
    let mut f = flow(&[1_000], &[60_000], 5, &[]);
    let mut seen = Seen::default();
    apply(&mut f, &trade("X", 1, 0, E8, E8, true), &mut seen);
    apply(&mut f, &trade("X", 2, 60_000, E8, E8, true), &mut seen);
    let first = f.memory("X").unwrap();
    let (mut id, mut t) = (3, 60_000);
    for step in [1, 1, 2, 7, 1, 30, 1, 1, 3, 1, 1, 1, 1, 1, 100, 1] {
        t += step * 60_000;
        apply(&mut f, &trade("X", id, t, E8, E8, false), &mut seen);
        id += 1;
        assert_eq!(f.memory("X").unwrap(), first, "after a step of {step} minutes");
    }
    // The kept intervals are still the last five before the current one (the silence of 100 minutes left them
    // empty), and the one before the silence is gone.
    let v = f.volume("X", Window::Aligned(0), Some(t)).unwrap();
    assert_eq!(v.totals.sell_count, 1);
}
