use std::collections::BTreeMap;

use proptest::prelude::*;
use rstest::rstest;

use super::*;
use crate::decode::{DepthSnapshot, DepthUpdate};

type Side = BTreeMap<i64, i64>;

/// A diff with the given ids and levels (spot when `pu` is `None`).
fn diff(first: u64, last: u64, pu: Option<u64>, bids: &[(i64, i64)], asks: &[(i64, i64)]) -> DepthUpdate {
    DepthUpdate {
        symbol: "X".into(),
        event_time: 0,
        transact_time: None,
        first_id: first,
        final_id: last,
        prev_final_id: pu,
        bids: bids.iter().copied().collect(),
        asks: asks.iter().copied().collect(),
    }
}

fn snapshot(id: u64, bids: &[(i64, i64)], asks: &[(i64, i64)]) -> DepthSnapshot {
    DepthSnapshot {
        last_update_id: id,
        bids: bids.to_vec(),
        asks: asks.to_vec(),
        ..DepthSnapshot::default()
    }
}

fn sides(book: &OrderBook) -> (Side, Side) {
    (book.bids.levels().collect(), book.asks.levels().collect())
}

#[test]
fn ladder_caches_best_through_removals() {
    let mut bids = Ladder::new(super::Side::Bid);
    for (p, q) in [(10, 1), (12, 2), (11, 3)] {
        bids.set(p, q);
    }
    assert_eq!(bids.best(), Some((12, 2)));
    bids.set(12, 0);
    assert_eq!(bids.best(), Some((11, 3)));
    bids.set(99, 0); // removing an unknown level is a no-op
    assert_eq!(bids.top(5), vec![(11, 3), (10, 1)]);
    let mut asks = Ladder::new(super::Side::Ask);
    asks.set(5, 1);
    asks.set(4, 1);
    asks.set(4, 0);
    assert_eq!(asks.best(), Some((5, 1)));
}

proptest! {
    /// A ladder (with a tiny sorted top so that spills and refills happen constantly) equals a plain map.
    #[test]
    fn ladder_matches_a_map(cap in 2usize..6, bid: bool, ops in prop::collection::vec((0i64..40, 0i64..3), 0..300)) {
        let side = if bid { super::Side::Bid } else { super::Side::Ask };
        let mut ladder = Ladder::with_top_capacity(side, cap);
        let mut reference = Side::new();
        for (p, q) in ops {
            ladder.set(p, q);
            if q == 0 { reference.remove(&p); } else { reference.insert(p, q); }
            let mut want: Vec<(i64, i64)> = reference.iter().map(|(&p, &q)| (p, q)).collect();
            if bid { want.reverse(); }
            prop_assert_eq!(ladder.levels().collect::<Vec<_>>(), want.clone());
            prop_assert_eq!(ladder.best(), want.first().copied());
            prop_assert_eq!(ladder.len(), want.len());
            let bound = 20;
            let within: Vec<_> = want.iter().copied().filter(|&(p, _)| if bid { p >= bound } else { p <= bound }).collect();
            prop_assert_eq!(ladder.within(bound).collect::<Vec<_>>(), within);
        }
    }
}

#[test]
fn band_edges_are_inclusive_and_exact() {
    let mut book = OrderBook::new();
    // mid = 100; ±1 % covers [99, 101] exactly.
    book.load(&[(99, 1), (98, 5), (9_999, 0)], &[(101, 2), (102, 7)], 1, None);
    book.bids.set(99, 1);
    book.bids.set(9_999, 0);
    book.asks.set(101, 2);
    let mut book2 = OrderBook::new();
    book2.load(
        &[(9_900_000_000, 100_000_000), (9_800_000_000, 500_000_000)],
        &[(10_100_000_000, 200_000_000), (10_200_000_000, 700_000_000)],
        1,
        None,
    );
    let band = book2.band(10_000_000).unwrap(); // 1 % = 10^7 ppb
    assert_eq!((band.bid_qty, band.ask_qty), (100_000_000, 200_000_000));
    assert_eq!(band.bid_notional, 9_900_000_000 * 100_000_000);
    let wide = book2.band(20_000_000).unwrap();
    assert_eq!((wide.bid_qty, wide.ask_qty), (600_000_000, 900_000_000));
}

#[test]
fn digest_of_empty_and_known_books() {
    let mut book = OrderBook::new();
    // SHA-256 of the empty string.
    assert_eq!(
        book.digest(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    book.load(&[(280_000_000_000, 150_000_000)], &[(280_010_000_000, 1)], 1, None);
    let mut text = String::new();
    book.write_canonical(|s| text.push_str(s));
    assert_eq!(text, "b,2800,1.5\na,2800.1,0.00000001\n");
}

#[rstest]
#[case::spot_boundary(Market::Spot, 10, SnapshotOutcome::Synced { last_update_id: 13, applied: 1 })]
#[case::spot_inside(Market::Spot, 12, SnapshotOutcome::Synced { last_update_id: 13, applied: 1 })]
#[case::spot_too_old(Market::Spot, 8, SnapshotOutcome::TooOld { last_update_id: 8, first_buffered: 11 })]
#[case::futures_connects(Market::UsdM, 12, SnapshotOutcome::Synced { last_update_id: 13, applied: 1 })]
#[case::futures_pu_boundary(Market::UsdM, 9, SnapshotOutcome::Synced { last_update_id: 13, applied: 1 })]
#[case::futures_too_old(Market::UsdM, 8, SnapshotOutcome::TooOld { last_update_id: 8, first_buffered: 11 })]
fn snapshot_rules(#[case] market: Market, #[case] lid: u64, #[case] want: SnapshotOutcome) {
    let mut s = BookSync::new(market, 100);
    let pu = market.is_futures().then_some(9);
    assert_eq!(
        s.apply(diff(11, 13, pu, &[(5, 1)], &[])),
        ApplyOutcome::Buffered { snapshot_needed: true }
    );
    assert_eq!(s.apply_snapshot(&snapshot(lid, &[(4, 1)], &[(9, 1)])), want);
}

#[test]
fn spot_gap_discards_the_book_and_restarts() {
    let mut s = BookSync::new(Market::Spot, 100);
    s.apply(diff(11, 12, None, &[(5, 1)], &[]));
    assert!(matches!(
        s.apply_snapshot(&snapshot(11, &[(4, 1)], &[(9, 1)])),
        SnapshotOutcome::Synced { .. }
    ));
    assert_eq!(s.apply(diff(13, 14, None, &[(6, 1)], &[])), ApplyOutcome::Applied);
    assert_eq!(s.apply(diff(13, 14, None, &[(6, 9)], &[])), ApplyOutcome::Stale);
    assert_eq!(
        s.apply(diff(16, 17, None, &[], &[])),
        ApplyOutcome::Gap { expected: 15, got: 16 }
    );
    assert_eq!(s.state(), SyncState::Gap);
    assert!(s.book().bids.is_empty(), "a gap discards the levels");
    // The diff that revealed the gap is kept: a snapshot at 16 connects to it.
    assert!(matches!(
        s.apply_snapshot(&snapshot(16, &[], &[(9, 1)])),
        SnapshotOutcome::Synced { last_update_id: 17, .. }
    ));
}

#[test]
fn futures_checks_pu_on_every_event() {
    let mut s = BookSync::new(Market::UsdM, 100);
    s.apply(diff(100, 105, Some(90), &[(5, 1)], &[]));
    assert!(matches!(
        s.apply_snapshot(&snapshot(103, &[], &[(9, 1)])),
        SnapshotOutcome::Synced {
            last_update_id: 105,
            ..
        }
    ));
    assert_eq!(s.apply(diff(108, 110, Some(105), &[], &[])), ApplyOutcome::Applied);
    assert_eq!(
        s.apply(diff(108, 110, Some(105), &[], &[])),
        ApplyOutcome::Stale,
        "a duplicate is stale, not a gap"
    );
    assert_eq!(
        s.apply(diff(115, 120, Some(112), &[], &[])),
        ApplyOutcome::Gap {
            expected: 110,
            got: 112
        }
    );
}

#[test]
fn futures_first_event_must_straddle_the_snapshot() {
    let mut s = BookSync::new(Market::CoinM, 100);
    s.apply(diff(100, 105, Some(90), &[], &[]));
    // Snapshot newer than everything buffered: the next live diff must straddle it.
    assert!(matches!(
        s.apply_snapshot(&snapshot(107, &[(1, 1)], &[(9, 1)])),
        SnapshotOutcome::Synced {
            last_update_id: 107,
            applied: 0
        }
    ));
    assert_eq!(s.apply(diff(106, 106, Some(105), &[], &[])), ApplyOutcome::Stale);
    assert_eq!(
        s.apply(diff(109, 112, Some(106), &[], &[])),
        ApplyOutcome::Gap {
            expected: 107,
            got: 109
        }
    );
}

#[test]
fn crossing_diff_is_a_gap() {
    let mut s = BookSync::new(Market::Spot, 100);
    s.apply(diff(2, 2, None, &[], &[]));
    s.apply_snapshot(&snapshot(1, &[(5, 1)], &[(9, 1)]));
    assert_eq!(s.apply(diff(3, 3, None, &[(10, 1)], &[])), ApplyOutcome::Crossed);
    assert_eq!(s.state(), SyncState::Gap);
}

#[test]
fn bounded_buffer_drops_oldest() {
    let mut s = BookSync::new(Market::Spot, 2);
    for i in 1..=3 {
        s.apply(diff(i, i, None, &[], &[]));
    }
    assert_eq!(s.buffered(), 2);
    assert_eq!(s.stats.buffer_overflow, 1);
    // A snapshot at 0 is now too old: diff 1 was dropped.
    assert!(matches!(
        s.apply_snapshot(&snapshot(0, &[], &[])),
        SnapshotOutcome::TooOld { .. }
    ));
    // A snapshot taken after the dropped diffs needs only what is kept: the book syncs and follows.
    let mut s = BookSync::new(Market::Spot, 2);
    for i in 1..=5 {
        s.apply(diff(i, i, None, &[(i as i64, 1)], &[]));
    }
    assert!(matches!(
        s.apply_snapshot(&snapshot(3, &[(1, 1)], &[(100, 1)])),
        SnapshotOutcome::Synced { .. }
    ));
    assert_eq!(s.state(), SyncState::Synced);
    assert_eq!(s.book().last_update_id, 5);
    assert_eq!(s.book().bids.top(3), vec![(5, 1), (4, 1), (1, 1)]);
}

/// A generated market: the true book after every diff, keyed by the diff's final id.
struct History {
    diffs: Vec<DepthUpdate>,
    books: Vec<(u64, Side, Side)>,
}

/// One generated step: (id skip, id width, level changes as `(is_bid, price, qty)`).
type Step = (u8, u8, Vec<(bool, u8, u8)>);

fn history(market: Market, steps: &[Step]) -> History {
    let (mut bids, mut asks) = (Side::new(), Side::new());
    let mut prev_u = 1000;
    let mut diffs = Vec::new();
    let mut books = vec![(prev_u, bids.clone(), asks.clone())];
    for (skip, width, changes) in steps {
        // Spot ids are contiguous; futures ids jump and chain through `pu`.
        let first = if market.is_futures() {
            prev_u + 1 + u64::from(*skip)
        } else {
            prev_u + 1
        };
        let last = first + u64::from(*width);
        let (mut b, mut a) = (Vec::new(), Vec::new());
        for &(is_bid, price, qty) in changes {
            // Bids live at prices 1..=40, asks at 41..=80: the true book never crosses.
            let (price, qty) = (i64::from(price % 40) + if is_bid { 1 } else { 41 }, i64::from(qty % 4));
            let (side, out) = if is_bid {
                (&mut bids, &mut b)
            } else {
                (&mut asks, &mut a)
            };
            if qty == 0 {
                side.remove(&price);
            } else {
                side.insert(price, qty);
            }
            out.push((price, qty));
        }
        diffs.push(diff(first, last, market.is_futures().then_some(prev_u), &b, &a));
        books.push((last, bids.clone(), asks.clone()));
        prev_u = last;
    }
    History { diffs, books }
}

fn market_strategy() -> impl Strategy<Value = Market> {
    prop_oneof![Just(Market::Spot), Just(Market::UsdM), Just(Market::CoinM)]
}

fn steps_strategy() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (
            0u8..4,
            0u8..3,
            prop::collection::vec((any::<bool>(), any::<u8>(), any::<u8>()), 0..5),
        ),
        5..60,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Safety: whatever is dropped, duplicated, reordered, or however stale the snapshots, a book that says SYNCED
    /// equals the true book at its update id.
    #[test]
    fn synced_book_always_equals_truth(
        market in market_strategy(),
        steps in steps_strategy(),
        start in 0usize..5,
        faults in prop::collection::vec(0u8..20, 60),
        snapshot_lags in prop::collection::vec((0usize..60, 0usize..8), 1..4),
        by_parts in any::<bool>(),
    ) {
        let h = history(market, &steps);
        let mut s = BookSync::new(market, 16);
        // The engine's fast path applies borrowed parts and falls back to the owned diff: both must be safe.
        let apply = |s: &mut BookSync, d: DepthUpdate| {
            if by_parts && s.apply_parts(d.first_id, d.final_id, d.prev_final_id, d.event_time, &d.bids, &d.asks).is_some() {
                return;
            }
            s.apply(d);
        };
        let mut delivered = start.min(h.diffs.len());
        let mut i = delivered;
        let mut pending_swap: Option<DepthUpdate> = None;
        let mut snaps = snapshot_lags.clone();
        snaps.sort_unstable();
        let check = |s: &BookSync| -> Result<(), TestCaseError> {
            if s.state() == SyncState::Synced {
                let id = s.book().last_update_id;
                let (_, b, a) = h.books.iter().find(|(u, _, _)| *u == id).expect("synced at a real id");
                prop_assert_eq!(&sides(s.book()), &(b.clone(), a.clone()));
                prop_assert!(!s.book().is_crossed());
            }
            Ok(())
        };
        while i < h.diffs.len() {
            let d = h.diffs[i].clone();
            match faults[i % faults.len()] {
                0 => {}                                   // dropped
                1 => { apply(&mut s, d.clone()); apply(&mut s, d); }  // duplicated
                2 if pending_swap.is_none() => pending_swap = Some(d), // delivered after the next one
                _ => {
                    apply(&mut s, d);
                    if let Some(late) = pending_swap.take() { check(&s)?; apply(&mut s, late); }
                }
            }
            check(&s)?;
            delivered = i;
            if let Some(&(at, lag)) = snaps.first() {
                if at <= i {
                    snaps.remove(0);
                    let j = delivered.saturating_sub(lag) + 1; // books[j] is after diff j-1
                    let (u, b, a) = &h.books[j.min(h.books.len() - 1)];
                    let bv: Vec<_> = b.iter().map(|(&p, &q)| (p, q)).collect();
                    let av: Vec<_> = a.iter().map(|(&p, &q)| (p, q)).collect();
                    s.apply_snapshot(&snapshot(*u, &bv, &av));
                    check(&s)?;
                }
            }
            i += 1;
        }
    }

    /// Liveness: with a clean stream and a snapshot no older than the first buffered diff, the book syncs and
    /// follows the truth to the end.
    #[test]
    fn clean_stream_syncs_and_follows(market in market_strategy(), steps in steps_strategy(), start in 0usize..5, at in 0usize..5, ahead in 0usize..3) {
        let h = history(market, &steps);
        let start = start.min(h.diffs.len() - 1);
        let at = (start + at).min(h.diffs.len() - 1);
        let mut s = BookSync::new(market, 1000);
        for d in &h.diffs[start..=at] {
            s.apply(d.clone());
        }
        // The snapshot reflects the book somewhere between the first buffered diff and a little past the last.
        let j = (start + ahead).min(h.books.len() - 1);
        let (u, b, a) = &h.books[j];
        let bv: Vec<_> = b.iter().map(|(&p, &q)| (p, q)).collect();
        let av: Vec<_> = a.iter().map(|(&p, &q)| (p, q)).collect();
        let outcome = s.apply_snapshot(&snapshot(*u, &bv, &av));
        prop_assert!(matches!(outcome, SnapshotOutcome::Synced { .. }), "{:?}", outcome);
        for d in &h.diffs[at + 1..] {
            s.apply(d.clone());
        }
        prop_assert_eq!(s.state(), SyncState::Synced);
        let (u, b, a) = h.books.last().unwrap();
        prop_assert_eq!(s.book().last_update_id, *u);
        prop_assert_eq!(sides(s.book()), (b.clone(), a.clone()));
    }
}
