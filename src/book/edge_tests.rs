//! Books loaded from cut snapshots: what they claim to know equals a book loaded in full, whatever diffs follow.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// A whole book: bids at prices 1..=100, asks at 101..=200 (never crossed), as maps price → quantity.
type Whole = (BTreeMap<i64, i64>, BTreeMap<i64, i64>);

fn whole_strategy() -> impl Strategy<Value = Whole> {
    (
        prop::collection::btree_map(1i64..=100, 1i64..5, 0..40),
        prop::collection::btree_map(101i64..=200, 1i64..5, 0..40),
    )
}

/// Diffs: a price anywhere on a side and its new quantity (0 removes).
fn diffs_strategy() -> impl Strategy<Value = Vec<(bool, i64, i64)>> {
    prop::collection::vec((any::<bool>(), 1i64..=100, 0i64..4), 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn a_cut_book_knows_exactly_what_it_says(whole in whole_strategy(), limit in 1usize..25, diffs in diffs_strategy()) {
        let (bids, asks) = whole;
        let all_bids: Vec<Level> = bids.iter().rev().map(|(&p, &q)| (p, q)).collect();
        let all_asks: Vec<Level> = asks.iter().map(|(&p, &q)| (p, q)).collect();
        let mut truth = OrderBook::new();
        truth.load(&all_bids, &all_asks, 1, None);
        let mut cut = OrderBook::new();
        let (top_bids, top_asks) = (&all_bids[..all_bids.len().min(limit)], &all_asks[..all_asks.len().min(limit)]);
        cut.load(top_bids, top_asks, 1, Some(limit));
        for (bid, at, qty) in diffs {
            let (bids, asks): (&[Level], &[Level]) = if bid { (&[(at, qty)], &[]) } else { (&[], &[(at + 100, qty)]) };
            truth.apply_levels(bids, asks);
            cut.apply_levels(bids, asks);
        }
        for depth in 1..30 {
            let (known, all) = (cut.known_bids(depth), truth.bids.top(depth));
            prop_assert!(all.starts_with(&known), "bids {known:?} not the top of {all:?}");
            if known.len() == depth || cut.bid_edge.is_none() {
                prop_assert_eq!(&known, &all);
            }
            let (known, all) = (cut.known_asks(depth), truth.asks.top(depth));
            prop_assert!(all.starts_with(&known), "asks {known:?} not the top of {all:?}");
            if known.len() == depth || cut.ask_edge.is_none() {
                prop_assert_eq!(&known, &all);
            }
        }
        if let Some(best) = cut.known_best_bid() {
            prop_assert_eq!(Some(best), truth.best_bid());
        }
        if let Some(best) = cut.known_best_ask() {
            prop_assert_eq!(Some(best), truth.best_ask());
        }
        for ppb in [1_000_000u32, 50_000_000, 200_000_000, 600_000_000] {
            if let Some(band) = cut.band(ppb).filter(|b| b.complete) {
                prop_assert_eq!(Some(band), truth.band(ppb));
            }
        }
    }
}

#[test]
fn a_snapshot_shorter_than_its_limit_holds_whole_sides() {
    let mut book = OrderBook::new();
    book.load(&[(99, 1), (98, 2)], &[(101, 1), (102, 1), (103, 1)], 7, Some(3));
    assert_eq!((book.bid_edge, book.ask_edge), (None, Some(103)));
    book.asks.set(104, 5); // beyond the edge: held, but not known to be the next level
    assert_eq!(book.known_asks(5), vec![(101, 1), (102, 1), (103, 1)]);
    assert_eq!(book.known_bids(5), vec![(99, 1), (98, 2)]);
    book.load(&[(99, 1)], &[(101, 1)], 8, None);
    assert_eq!((book.bid_edge, book.ask_edge), (None, None));
}
