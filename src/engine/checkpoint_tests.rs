//! Checkpoints: a restored engine answers every query as the original and goes on alike; each refusal names its
//! reason and leaves the engine unchanged. Also: repeated liquidations count once, closed intervals, the grace rule.

use proptest::prelude::*;

use super::*;
use crate::flow::{FlowConfig, PageQuery, Window};

pub(super) const T0: i64 = 1_767_225_600_000;
const SYMS: [&str; 3] = ["AAAUSDT", "BBBUSDT", "CCCUSDT"];

fn agg(symbol: &str, id: u64, t: i64, price: &str, qty: &str, buy: bool) -> String {
    format!(
        r#"{{"e":"aggTrade","E":{t},"a":{id},"s":"{symbol}","p":"{price}","q":"{qty}","f":{id},"l":{id},"T":{t},"m":{}}}"#,
        !buy
    )
}

fn force_order(symbol: &str, sell: bool, t: i64, price: &str, z: &str) -> String {
    let side = if sell { "SELL" } else { "BUY" };
    format!(
        r#"{{"e":"forceOrder","E":{e},"o":{{"s":"{symbol}","S":"{side}","o":"LIMIT","f":"IOC","q":"{z}","p":"{price}","ap":"{price}","X":"FILLED","l":"{z}","z":"{z}","T":{t}}}}}"#,
        e = t + 3
    )
}

fn mark(symbol: &str, t: i64, price: &str) -> String {
    format!(r#"{{"e":"markPriceUpdate","E":{t},"s":"{symbol}","p":"{price}","i":"1","P":"1","r":"0","T":{t}}}"#)
}

pub(super) fn engine() -> Engine {
    let mut e = Engine::new(Market::UsdM, 100);
    e.flow
        .configure(FlowConfig {
            horizons_ms: vec![5_000, 60_000, 1_200_000],
            intervals_ms: vec![10_000, 60_000],
            history: 20,
            big_e16: vec![50 * crate::num::NOTIONAL_ONE],
        })
        .unwrap();
    e.liq
        .configure(crate::liq::LiqConfig {
            min_events: 1,
            ..crate::liq::LiqConfig::default()
        })
        .unwrap();
    e
}

/// One input step: a live trade, a REST page of trades, an abandoned range, a liquidation, a mark price.
#[derive(Debug, Clone)]
pub(super) enum Step {
    Trade {
        sym: usize,
        id: u64,
        dt: i64,
        qty: u32,
        buy: bool,
    },
    Page {
        sym: usize,
        ids: Vec<u64>,
    },
    Abandon {
        sym: usize,
        from: u64,
        len: u64,
    },
    Liq {
        sym: usize,
        sell: bool,
        dt: i64,
        price: u32,
        qty: u32,
    },
    Repeat {
        back: usize,
    },
    Mark {
        sym: usize,
        price: u32,
    },
}

pub(super) fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        6 => (0..3usize, 1..60u64, 0..3_000i64, 1..50u32, any::<bool>())
            .prop_map(|(sym, id, dt, qty, buy)| Step::Trade { sym, id, dt, qty, buy }),
        1 => (0..3usize, prop::collection::vec(1..60u64, 0..6)).prop_map(|(sym, ids)| Step::Page { sym, ids }),
        1 => (0..3usize, 1..60u64, 0..4u64).prop_map(|(sym, from, len)| Step::Abandon { sym, from, len }),
        2 => (0..3usize, any::<bool>(), 0..2_000i64, 90..110u32, 1..9u32)
            .prop_map(|(sym, sell, dt, price, qty)| Step::Liq { sym, sell, dt, price, qty }),
        1 => (0..8usize).prop_map(|back| Step::Repeat { back }),
        1 => (0..3usize, 90..110u32).prop_map(|(sym, price)| Step::Mark { sym, price }),
    ];
    prop::collection::vec(step, 1..80)
}

/// Feeds `steps` to every engine alike; `time` is the running event time, `liqs` the liquidation frames so far.
pub(super) fn feed(engines: &mut [&mut Engine], steps: &[Step], time: &mut i64, liqs: &mut Vec<String>) {
    for step in steps {
        let frame = match step {
            Step::Trade { sym, id, dt, qty, buy } => {
                *time += dt;
                Some(agg(SYMS[*sym], *id, *time, "10.5", &qty.to_string(), *buy))
            }
            Step::Liq {
                sym,
                sell,
                dt,
                price,
                qty,
            } => {
                *time += dt;
                let f = force_order(SYMS[*sym], *sell, *time, &price.to_string(), &qty.to_string());
                liqs.push(f.clone());
                Some(f)
            }
            Step::Repeat { back } => liqs.iter().rev().nth(*back).cloned(),
            Step::Mark { sym, price } => Some(mark(SYMS[*sym], *time, &price.to_string())),
            Step::Page { sym, ids } => {
                let rows: Vec<String> = ids
                    .iter()
                    .map(|&id| {
                        format!(
                            r#"{{"a":{id},"p":"10","q":"2","f":{id},"l":{id},"T":{},"m":true}}"#,
                            *time - 500
                        )
                    })
                    .collect();
                let body = format!("[{}]", rows.join(","));
                for e in engines.iter_mut() {
                    let query = PageQuery::default();
                    e.apply_agg_trades(SYMS[*sym], body.as_bytes(), query, &mut Vec::new())
                        .unwrap();
                }
                None
            }
            Step::Abandon { sym, from, len } => {
                for e in engines.iter_mut() {
                    let _ = e.flow.abandon_gap(SYMS[*sym], *from, from + len);
                }
                None
            }
        };
        if let Some(f) = frame {
            for e in engines.iter_mut() {
                e.apply_frame(f.as_bytes(), 0, &mut Vec::new()).unwrap();
            }
        }
    }
}

/// Every flow and liquidation query of `a` and `b` answers the same.
pub(super) fn same_answers(a: &Engine, b: &Engine) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.flow.symbols(), b.flow.symbols());
    prop_assert_eq!(a.flow.heard(), b.flow.heard());
    prop_assert_eq!(a.flow.clock(), b.flow.clock());
    prop_assert_eq!(a.flow.gaps(None).unwrap(), b.flow.gaps(None).unwrap());
    prop_assert_eq!(a.flow.last_trade_ids(), b.flow.last_trade_ids());
    let clock = a.flow.clock().unwrap_or(T0);
    let windows = [
        Window::Sliding(0),
        Window::Sliding(1),
        Window::Sliding(2),
        Window::Aligned(0),
        Window::Aligned(1),
    ];
    for w in windows {
        for now in [
            None,
            Some(clock - 3_000),
            Some(clock + 1),
            Some(clock + 45_000),
            Some(clock + 200_000),
        ] {
            prop_assert_eq!(
                a.flow.volumes(w, now).ok(),
                b.flow.volumes(w, now).ok(),
                "{:?} at {:?}",
                w,
                now
            );
        }
    }
    for sym in a.flow.symbols() {
        for k in 0..2 {
            prop_assert_eq!(
                a.flow.candles(sym, k, None).unwrap(),
                b.flow.candles(sym, k, None).unwrap()
            );
        }
    }
    for k in 0..2 {
        prop_assert_eq!(a.flow.closed_intervals(k, T0), b.flow.closed_intervals(k, T0));
    }
    let liq_now = a.liq.clock().unwrap_or(T0);
    prop_assert_eq!(a.liq.clock(), b.liq.clock());
    for sym in [None, Some(SYMS[0]), Some(SYMS[1]), Some(SYMS[2])] {
        prop_assert_eq!(a.liq.sums(sym, T0, liq_now + 1), b.liq.sums(sym, T0, liq_now + 1));
        prop_assert_eq!(
            a.liq.series(sym, T0, liq_now + 1, 7_000).unwrap(),
            b.liq.series(sym, T0, liq_now + 1, 7_000).unwrap()
        );
    }
    for sym in SYMS {
        prop_assert_eq!(a.liq.clusters(sym, None), b.liq.clusters(sym, None));
        prop_assert_eq!(
            a.liq.clusters(sym, Some(liq_now + 3_600_000)),
            b.liq.clusters(sym, Some(liq_now + 3_600_000))
        );
        prop_assert_eq!(a.liq.mark_price(sym), b.liq.mark_price(sym));
        prop_assert_eq!(
            a.liq.heatmap(sym, T0, liq_now + 1, 5_000, None).unwrap(),
            b.liq.heatmap(sym, T0, liq_now + 1, 5_000, None).unwrap()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    /// Any input, checkpointed and restored into a fresh engine: every query answers the same, the restored engine's
    /// checkpoint is the same bytes, and the same further input keeps both the same.
    #[test]
    fn a_restored_engine_answers_and_goes_on_as_the_original(before in steps(), after in steps()) {
        let mut original = engine();
        let (mut time, mut liqs) = (T0, Vec::new());
        feed(&mut [&mut original], &before, &mut time, &mut liqs);
        let data = original.checkpoint();
        let mut restored = engine();
        let symbols = restored.restore(&data).unwrap();
        let mut expected: Vec<Symbol> = original.flow.symbols().to_vec();
        let liq_only: Vec<Symbol> = original.liq.symbols().iter().filter(|s| !expected.contains(s)).cloned().collect();
        expected.extend(liq_only);
        prop_assert_eq!(symbols, expected);
        // Which stream carries a symbol's trades belongs to the process (its connections): not restored.
        original.flow.forget_streams();
        same_answers(&original, &restored)?;
        prop_assert!(restored.checkpoint() == data, "the restored engine's checkpoint differs");
        feed(&mut [&mut original, &mut restored], &after, &mut time, &mut liqs);
        same_answers(&original, &restored)?;
    }
}

fn busy_engine() -> Engine {
    let mut e = engine();
    let frames = [
        agg("AAAUSDT", 1, T0, "10", "1", true),
        agg("AAAUSDT", 2, T0 + 20_000, "11", "1", false),
        force_order("AAAUSDT", true, T0 + 1_000, "10", "3"),
    ];
    for f in frames {
        e.apply_frame(f.as_bytes(), 0, &mut Vec::new()).unwrap();
    }
    e
}

#[test]
fn each_refusal_names_its_reason_and_changes_nothing() {
    let data = busy_engine().checkpoint();
    let mut target = engine();
    target
        .apply_frame(agg("ZZZUSDT", 7, T0, "1", "1", true).as_bytes(), 0, &mut Vec::new())
        .unwrap();
    let before = target.checkpoint();
    let mut newer = data.clone();
    newer[8] = 3;
    let mut flipped = data.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"not\": \"a checkpoint\"}".to_vec(), "not_a_checkpoint"),
        (newer, "newer_version"),
        (flipped, "corrupt"),
        (data[..data.len() - 1].to_vec(), "corrupt"),
        (data[..40].to_vec(), "corrupt"),
    ];
    for (bytes, reason) in cases {
        let err = target.restore(&bytes).unwrap_err();
        assert_eq!(err.reason(), reason, "{err}");
        assert_eq!(target.checkpoint(), before, "{reason}: the engine changed");
    }
    let mut coin_m = Engine::new(Market::CoinM, 100);
    let err = coin_m.restore(&data).unwrap_err();
    assert_eq!(err.reason(), "market");
    assert!(err.to_string().contains("usdm"), "{err}");
    let mut other = Engine::new(Market::UsdM, 100);
    let err = other.restore(&data).unwrap_err();
    assert_eq!(err.reason(), "config");
    assert!(err.to_string().contains("horizons=5s,1m,20m"), "{err}");
    // A good one restores AAAUSDT beside ZZZUSDT, which is kept.
    assert_eq!(target.restore(&data).unwrap(), vec![Symbol::from("AAAUSDT")]);
    assert_eq!(target.flow.symbols().len(), 2);
    assert_eq!(target.flow.last_trade_ids()[1], ("AAAUSDT".into(), 2));
}

#[test]
fn the_same_liquidation_counts_once_however_often_it_arrives() {
    let a = force_order("AAAUSDT", true, T0, "100", "2");
    let b = force_order("AAAUSDT", false, T0, "100", "2");
    let c = force_order("BBBUSDT", true, T0 + 5, "7", "1");
    let mut once = engine();
    let report = once.apply_frames([a.as_bytes(), b.as_bytes(), c.as_bytes()], 0);
    assert_eq!(report.actions.len(), 3);
    // Two connections: every frame twice, interleaved; then the journal re-applied after a restart.
    let mut twice = engine();
    let frames = [&a, &b, &a, &c, &b, &c, &a, &b, &c];
    let report = twice.apply_frames(frames.iter().map(|f| f.as_bytes()), 0);
    assert_eq!(report.actions.len(), 3, "no action for a repeat");
    assert_eq!(twice.liq.stats.duplicates, 6);
    assert_eq!(twice.liq.stats.kept, 3);
    for sym in [None, Some("AAAUSDT"), Some("BBBUSDT")] {
        assert_eq!(twice.liq.sums(sym, T0, T0 + 10), once.liq.sums(sym, T0, T0 + 10));
    }
    // The event time is not part of the content: the same order pushed again with another `E` is a repeat.
    let later_e = a.replace(&format!("\"E\":{}", T0 + 3), &format!("\"E\":{}", T0 + 900));
    assert_ne!(later_e, a);
    twice.apply_frame(later_e.as_bytes(), 0, &mut Vec::new()).unwrap();
    assert_eq!(twice.liq.stats.duplicates, 7);
    // Another quantity at the same time is another liquidation.
    let other = force_order("AAAUSDT", true, T0, "100", "3");
    twice.apply_frame(other.as_bytes(), 0, &mut Vec::new()).unwrap();
    assert_eq!(twice.liq.stats.kept, 4);
}

#[test]
fn closed_intervals_are_the_ended_candles_with_their_first_and_last_ids() {
    let mut e = engine();
    let trades = [(5, 1_000), (3, 2_000), (4, 12_500), (9, 15_000), (12, 31_000)];
    for (id, dt) in trades {
        e.apply_frame(
            agg("AAAUSDT", id, T0 + dt, "10", "1", true).as_bytes(),
            0,
            &mut Vec::new(),
        )
        .unwrap();
    }
    // Heard until T0 + 31 s: the 10 s intervals from T0 to T0 + 30 s have ended, the one at T0 + 30 s has not.
    let rows = e.flow.closed_intervals(0, T0);
    let starts: Vec<i64> = rows.iter().map(|r| r.volume.start_ms - T0).collect();
    assert_eq!(starts, vec![0, 10_000, 20_000]);
    let ids: Vec<Option<(u64, u64)>> = rows.iter().map(|r| r.ids).collect();
    assert_eq!(ids, vec![Some((3, 5)), Some((4, 9)), None]);
    let candles = e.flow.candles("AAAUSDT", 0, None).unwrap();
    for (r, c) in rows.iter().zip(&candles) {
        assert_eq!(r.volume, *c);
    }
    assert_eq!(e.flow.closed_intervals(0, T0 + 10_001).len(), 1);
    // A mark price heard at T0 + 40 s closes the interval at T0 + 30 s.
    e.apply_frame(mark("AAAUSDT", T0 + 40_000, "10").as_bytes(), 0, &mut Vec::new())
        .unwrap();
    assert_eq!(e.flow.closed_intervals(0, T0 + 30_000)[0].ids, Some((12, 12)));
}

#[test]
fn windows_reaching_past_the_grace_after_anything_heard_are_not_complete() {
    let mut e = busy_engine();
    let now = T0 + 20_000;
    let complete = |e: &Engine, now: i64| {
        e.flow
            .volume("AAAUSDT", Window::Sliding(0), Some(now))
            .unwrap()
            .complete
    };
    assert!(complete(&e, now + 60_000));
    assert!(!complete(&e, now + 60_001), "a minute past the newest event heard");
    assert!(!complete(&e, now + 340 * 86_400_000), "a clock 340 days ahead");
    // Any stream moves the heard-until clock: a mark price at now + 10 min.
    e.apply_frame(mark("AAAUSDT", now + 600_000, "10").as_bytes(), 0, &mut Vec::new())
        .unwrap();
    assert!(complete(&e, now + 600_000));
    // An aligned interval vouches for its trades up to `now`, and a candle up to its end.
    assert!(
        e.flow
            .volume("AAAUSDT", Window::Aligned(1), Some(now + 600_000))
            .unwrap()
            .complete
    );
    let candles = e.flow.candles("AAAUSDT", 0, None).unwrap();
    assert_eq!(candles.len(), 3);
    assert!(candles.iter().all(|c| c.complete == (c.start_ms != T0)), "{candles:?}");
}
