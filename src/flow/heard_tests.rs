//! Candles are complete only once every trade before their end is proven counted: by the symbol's own trades, or by
//! the stream that carries them — never by another stream, a REST page or an event of the same stream timed before
//! an aggregate trade still on its way.

use proptest::prelude::*;

use super::*;
use crate::decode::AggTrade;

const MIN: i64 = 60_000;

fn trade(symbol: &str, id: u64, time: i64, qty: i64) -> AggTrade {
    AggTrade {
        symbol: Symbol::new(symbol),
        event_time: Some(time), // as the simulator sends it: the event time of an aggregate is its trade time
        id,
        price: num::ONE,
        qty,
        normal_qty: None,
        first_trade_id: id,
        last_trade_id: id,
        time,
        buyer_maker: false,
    }
}

fn flow() -> Flow {
    let mut f = Flow::new(Market::UsdM);
    f.configure(FlowConfig {
        horizons_ms: vec![MIN],
        intervals_ms: vec![MIN],
        history: 10,
        big_e16: Vec::new(),
    })
    .unwrap();
    f
}

/// `(start_ms, complete, buy_count)` of `symbol`'s candles.
fn candles(f: &Flow, symbol: &str) -> Vec<(i64, bool, u64)> {
    let rows = f.candles(symbol, 0, None).unwrap();
    rows.iter()
        .map(|c| (c.start_ms, c.complete, c.totals.buy_count))
        .collect()
}

/// `(start_ms, complete)` of every closed interval of `symbol`.
fn closed(f: &Flow, symbol: &str) -> Vec<(i64, bool)> {
    let slot = f.symbols().iter().position(|s| s.as_str() == symbol).unwrap();
    let rows = f.closed_intervals(0, 0);
    rows.iter()
        .filter(|c| c.slot == slot)
        .map(|c| (c.volume.start_ms, c.volume.complete))
        .collect()
}

#[test]
fn a_candle_is_not_complete_while_its_last_trade_is_on_its_way() {
    let mut f = flow();
    f.select_stream(Some(1));
    f.apply(&trade("X", 1, MIN - 1_000, 1)); // coverage from before the interval [1 min, 2 min)
    f.apply(&trade("X", 2, MIN + 1_000, 1));
    f.apply(&trade("X", 3, 2 * MIN - 50, 1)); // the interval's last trade but one
                                              // Trade 4 (2 min - 30 ms) is an aggregate still open; the connection delivers a mark price at 2 min first.
    f.hear(2 * MIN);
    assert_eq!(closed(&f, "X"), vec![(0, false), (MIN, false)]);
    f.hear(2 * MIN + 999);
    assert_eq!(closed(&f, "X"), vec![(0, false), (MIN, false)]);
    f.apply(&trade("X", 4, 2 * MIN - 30, 1));
    assert_eq!(candles(&f, "X")[1], (MIN, false, 3));
    // A second after the end, the connection vouches for every trade of the interval.
    f.hear(2 * MIN + PUSH_MS);
    assert_eq!(closed(&f, "X"), vec![(0, false), (MIN, true)]);
    assert_eq!(candles(&f, "X")[1], (MIN, true, 3));
}

#[test]
fn a_trade_after_the_end_with_no_hole_before_it_proves_the_interval() {
    let mut f = flow();
    f.select_stream(Some(1));
    f.apply(&trade("X", 1, MIN - 1_000, 1));
    f.apply(&trade("X", 2, MIN + 1_000, 1));
    f.apply(&trade("X", 4, 2 * MIN, 1)); // at the end: the interval is over, but id 3 is missing
    assert_eq!(
        candles(&f, "X"),
        vec![(0, false, 1), (MIN, false, 1), (2 * MIN, false, 1)]
    );
    f.apply(&trade("X", 3, 2 * MIN - 1, 1));
    assert_eq!(
        candles(&f, "X"),
        vec![(0, false, 1), (MIN, true, 2), (2 * MIN, false, 1)]
    );
}

#[test]
fn another_stream_proves_nothing_of_a_symbols_trades() {
    let mut f = flow();
    f.select_stream(Some(1));
    f.apply(&trade("X", 1, MIN - 1_000, 1));
    f.apply(&trade("X", 2, MIN + 1_000, 1));
    f.select_stream(Some(2));
    f.apply(&trade("Y", 70, 10 * MIN, 1));
    f.hear(10 * MIN + 500);
    // Connection 2 is minutes ahead: X's interval has ended by the engine's clock, and is not complete.
    assert_eq!(closed(&f, "X"), vec![(0, false), (MIN, false)]);
    // The unnamed stream is a stream like another.
    f.select_stream(None);
    f.hear(11 * MIN);
    assert_eq!(closed(&f, "X"), vec![(0, false), (MIN, false)]);
    // X's own connection catches up.
    f.select_stream(Some(1));
    f.hear(2 * MIN + PUSH_MS - 1);
    assert_eq!(closed(&f, "X"), vec![(0, false), (MIN, false)]);
    f.hear(2 * MIN + PUSH_MS);
    assert_eq!(closed(&f, "X"), vec![(0, false), (MIN, true)]);
    // X moves to connection 3: from its first trade there, connection 3 speaks for it.
    f.select_stream(Some(3));
    f.apply(&trade("X", 3, 2 * MIN + 10, 1));
    f.select_stream(Some(1));
    f.hear(4 * MIN);
    assert_eq!(closed(&f, "X")[2], (2 * MIN, false));
    f.select_stream(Some(3));
    f.hear(3 * MIN + PUSH_MS);
    assert_eq!(closed(&f, "X")[2], (2 * MIN, true));
}

#[test]
fn rest_rows_and_restored_clocks_move_no_stream() {
    let mut f = flow();
    f.select_stream(Some(1));
    f.apply(&trade("X", 1, MIN - 1_000, 1));
    f.apply(&trade("X", 2, MIN + 1_000, 1));
    // A REST page of another symbol, newer than anything streamed: X's interval ends by the engine's clock only.
    let page = [trade("Y", 9, 5 * MIN, 1)];
    f.apply_rest("Y", &page, PageQuery::default());
    assert_eq!(f.heard(), Some(5 * MIN));
    assert_eq!(closed(&f, "X"), vec![(0, false), (MIN, false)]);
    // A restored checkpoint's clocks neither.
    let mut w = crate::codec::Writer::default();
    let mut other = flow();
    other.hear(9 * MIN);
    other.write_checkpoint(&mut w);
    let parts = f.read_checkpoint(&mut crate::codec::Reader::new(&w.buf), 2).unwrap();
    f.restore(parts);
    assert_eq!(f.heard(), Some(9 * MIN));
    f.hear(MIN + 2_000); // the stream is still selected, and behind
    assert_eq!(
        f.streams().heard(f.state("X").unwrap().stream.unwrap()),
        Some(MIN + 2_000)
    );
    assert_eq!(closed(&f, "X"), vec![(0, false), (MIN, false)]);
    // X's own rows past the end prove the interval, however they came.
    let page = [trade("X", 3, 2 * MIN + 5, 1)];
    f.apply_rest("X", &page, PageQuery::default());
    assert_eq!(closed(&f, "X")[..2], [(0, false), (MIN, true)]);
}

/// Trades of one symbol with increasing ids and times (ms offsets), each pushed up to 150 ms after its time (an
/// aggregate closes after 100 ms, at a 50 ms step), with quantities.
fn tape() -> impl Strategy<Value = Vec<(i64, i64, i64)>> {
    prop::collection::vec((0i64..3_000, 0i64..=150, 1i64..100), 1..150)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Frames of one connection in the order it sends them — trades when their aggregate is pushed, a mark price
    /// every 50 ms, trades of another symbol — with another connection running minutes ahead: after every frame,
    /// a candle marked complete holds every trade of the tape in it, and at the end every candle after the first
    /// trade is complete.
    #[test]
    fn a_complete_candle_holds_every_trade_of_the_tape(steps in tape(), ahead in 0i64..600_000) {
        let mut t = 57 * MIN;
        let trades: Vec<(u64, i64, i64, i64)> = steps
            .iter()
            .enumerate()
            .map(|(i, &(dt, delay, q))| {
                t += dt;
                (i as u64 + 1, t, t + delay, q)
            })
            .collect();
        // (push time, kind: 0 mark price / 1 trade, index): marks go first at equal push times (the worst order).
        let last_push = trades.iter().map(|x| x.2).max().unwrap();
        let mut frames: Vec<(i64, u8, usize)> = trades.iter().enumerate().map(|(i, x)| (x.2, 1, i)).collect();
        frames.extend((57 * MIN / 50..=last_push / 50 + 40).map(|s| (s * 50, 0, 0)));
        frames.sort_unstable();
        let mut f = flow();
        f.track("X");
        let mut other = 0u64;
        for (push, kind, i) in frames {
            f.select_stream(Some(7));
            if kind == 1 {
                let (id, time, _, q) = trades[i];
                f.apply(&trade("X", id, time, q));
            } else {
                f.hear(push);
            }
            f.select_stream(Some(8));
            other += 1;
            f.apply(&trade("Y", other, push + ahead, 1));
            for c in f.candles("X", 0, None).unwrap() {
                if c.complete {
                    let want: i64 = trades.iter().filter(|x| x.1 >= c.start_ms && x.1 < c.end_ms).map(|x| x.3).sum();
                    prop_assert_eq!(c.totals.buy_base, i128::from(want), "candle {} after push {}", c.start_ms, push);
                }
            }
        }
        // Every candle is proven by a later trade, but the last one, by the mark prices 2 s after the last push.
        let (first, newest) = (trades[0].1, trades[trades.len() - 1].1);
        let marks = (last_push / 50 + 40) * 50;
        for c in f.candles("X", 0, None).unwrap() {
            let proven = newest >= c.end_ms || marks >= c.end_ms + PUSH_MS;
            prop_assert_eq!(c.complete, c.start_ms > first && proven, "candle {}", c.start_ms);
        }
    }
}
