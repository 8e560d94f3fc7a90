use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{Deep, Ladder, Side, LEAF};

/// Applies `ops` to the ladder and to a plain map, checking the best level after each and every level at the end.
fn apply_against_map(
    ladder: &mut Ladder,
    reference: &mut BTreeMap<i64, i64>,
    bid: bool,
    ops: impl IntoIterator<Item = (i64, i64)>,
) -> Result<(), TestCaseError> {
    for (p, q) in ops {
        ladder.set(p, q);
        if q == 0 {
            reference.remove(&p);
        } else {
            reference.insert(p, q);
        }
        let best = if bid {
            reference.iter().next_back()
        } else {
            reference.iter().next()
        };
        prop_assert_eq!(ladder.best(), best.map(|(&p, &q)| (p, q)));
    }
    let want: Vec<(i64, i64)> = if bid {
        reference.iter().rev().map(|(&p, &q)| (p, q)).collect()
    } else {
        reference.iter().map(|(&p, &q)| (p, q)).collect()
    };
    prop_assert_eq!(ladder.levels().collect::<Vec<_>>(), want);
    prop_assert_eq!(ladder.len(), reference.len());
    Ok(())
}

/// The leaves are non-empty, sorted, in order, within size, indexed by their best, and not too many.
fn check_shape(d: &Deep) -> Result<(), TestCaseError> {
    prop_assert_eq!(d.leaves.len(), d.bests.len());
    prop_assert_eq!(d.leaves.iter().map(Vec::len).sum::<usize>(), d.len);
    for (j, leaf) in d.leaves.iter().enumerate() {
        prop_assert!(!leaf.is_empty() && leaf.len() <= 2 * LEAF);
        prop_assert!(leaf.windows(2).all(|w| w[0].0 < w[1].0));
        prop_assert_eq!(d.bests[j], leaf[leaf.len() - 1].0);
        if j > 0 {
            prop_assert!(d.bests[j - 1] < leaf[0].0);
        }
    }
    prop_assert!(
        d.leaves.len() <= 4 * d.len / LEAF + 2,
        "{} leaves for {}",
        d.leaves.len(),
        d.len
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Leaves split, merge and empty while the levels stay exactly those of a plain map.
    #[test]
    fn deep_levels_equal_a_map(
        ops in prop::collection::vec(prop_oneof![8 => (0i64..1_500, 0i64..3).prop_map(Some), 1 => Just(None)], 0..4_000),
    ) {
        let mut d = Deep::default();
        let mut reference = BTreeMap::new();
        for (n, op) in ops.into_iter().enumerate() {
            if let Some((r, q)) = op {
                d.set(r, q);
                if q == 0 {
                    reference.remove(&r);
                } else {
                    reference.insert(r, q);
                }
            } else {
                prop_assert_eq!(d.pop_best(), reference.pop_last());
            }
            prop_assert_eq!(d.len(), reference.len());
            if n % 97 == 0 {
                check_shape(&d)?;
                prop_assert!(d.best_first().eq(reference.iter().rev().map(|(&r, &q)| (r, q))));
            }
        }
        check_shape(&d)?;
        prop_assert!(d.best_first().eq(reference.iter().rev().map(|(&r, &q)| (r, q))));
        // Spilled levels go in above everything held.
        let top = reference.keys().next_back().copied().unwrap_or(0);
        for k in 1..=300 {
            d.push_best(top + k, k);
            reference.insert(top + k, k);
        }
        check_shape(&d)?;
        prop_assert!(d.best_first().eq(reference.iter().rev().map(|(&r, &q)| (r, q))));
    }

    /// A ladder with the default top over a deep book (thousands of prices, as after a 1,000-level snapshot)
    /// equals a plain map.
    #[test]
    fn deep_ladder_matches_a_map(
        bid: bool,
        snapshot in prop::collection::btree_map(0i64..20_000, 1i64..5, 0..1_500),
        ops in prop::collection::vec((0i64..20_000, 0i64..3), 0..2_000),
    ) {
        let side = if bid { Side::Bid } else { Side::Ask };
        let mut ladder = Ladder::new(side);
        let mut reference = snapshot.clone();
        let mut levels: Vec<_> = snapshot.into_iter().collect();
        if bid {
            levels.reverse(); // best first, as a snapshot comes
        }
        for (p, q) in levels {
            ladder.set(p, q);
        }
        apply_against_map(&mut ladder, &mut reference, bid, ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Prices at the very top of the range and top capacities around the default: the ladder equals a plain map.
    #[test]
    fn extreme_prices_and_capacities_match_a_map(
        bid: bool,
        cap in prop_oneof![Just(2usize), Just(63), Just(64), Just(65), Just(100)],
        ops in prop::collection::vec((0i64..80, 0i64..3), 0..400),
    ) {
        let side = if bid { Side::Bid } else { Side::Ask };
        let mut ladder = Ladder::with_top_capacity(side, cap);
        let mut reference = BTreeMap::new();
        // Prices from i64::MAX down (and a few small ones), so both ends of the range are crossed.
        let ops = ops.into_iter().map(|(k, q)| (if k < 70 { i64::MAX - k } else { k }, q));
        apply_against_map(&mut ladder, &mut reference, bid, ops)?;
    }
}
