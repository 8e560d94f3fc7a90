//! One side of an order book: price (e8 units) → quantity (e8 units).
//!
//! Nearly every diff touches levels near the top of the book, so a ladder keeps its best levels in a small sorted
//! array (`top`, best at the end) and every other level in a `BTreeMap` (`rest`). Every price in `rest` is worse
//! than every price in `top`. Costs: best level O(1); an update in `top` is a binary search plus a bounded shift
//! (at most `top_cap` entries, a constant); an update in `rest` is O(log n); when `top` runs empty it is refilled
//! with the next `top_cap / 2` levels from `rest` in `O(top_cap · log n)`, amortised over at least that many
//! removals. Top-k reads are O(k).

use std::collections::BTreeMap;

use crate::decode::Level;

/// Bids are read from the highest price down, asks from the lowest up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Bid,
    Ask,
}

/// Default number of best levels kept in the sorted array.
pub const TOP_CAPACITY: usize = 64;

#[derive(Debug, Clone)]
pub struct Ladder {
    side: Side,
    /// Best levels, sorted worst → best (the best is `top.last()`), at most `top_cap` long.
    top: Vec<Level>,
    /// All other levels.
    rest: BTreeMap<i64, i64>,
    top_cap: usize,
}

impl Ladder {
    pub fn new(side: Side) -> Self {
        Self::with_top_capacity(side, TOP_CAPACITY)
    }

    /// A ladder keeping `cap` (≥ 2) best levels in its sorted array; small values exercise refills in tests.
    pub fn with_top_capacity(side: Side, cap: usize) -> Self {
        let cap = cap.max(2);
        Self {
            side,
            top: Vec::with_capacity(cap + 1),
            rest: BTreeMap::new(),
            top_cap: cap,
        }
    }

    pub fn side(&self) -> Side {
        self.side
    }

    pub fn len(&self) -> usize {
        self.top.len() + self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.top.is_empty()
    }

    pub fn clear(&mut self) {
        self.top.clear();
        self.rest.clear();
    }

    /// Higher rank = better price on this side.
    #[inline]
    fn rank(&self, price: i64) -> i64 {
        match self.side {
            Side::Bid => price,
            Side::Ask => -price,
        }
    }

    /// `true` if price `a` is better than `b` on this side.
    #[inline]
    pub fn better(&self, a: i64, b: i64) -> bool {
        self.rank(a) > self.rank(b)
    }

    /// Sets a level to an absolute quantity; `0` removes it (removing an unknown level is a no-op).
    #[inline]
    pub fn set(&mut self, price: i64, qty: i64) {
        let r = self.rank(price);
        match self.top.first() {
            Some(&(worst, _)) if r >= self.rank(worst) => self.set_top(price, r, qty),
            Some(_) => {
                if qty == 0 {
                    self.rest.remove(&price);
                } else {
                    self.rest.insert(price, qty);
                }
            }
            // An empty top means an empty ladder.
            None => {
                if qty != 0 {
                    self.top.push((price, qty));
                }
            }
        }
    }

    #[inline]
    fn set_top(&mut self, price: i64, r: i64, qty: i64) {
        // Search from the best end: most updates are at or near the best level.
        let side = self.side;
        let rank = |p: i64| if side == Side::Bid { p } else { -p };
        match self.top.binary_search_by(|&(p, _)| rank(p).cmp(&r)) {
            Ok(i) if qty == 0 => {
                self.top.remove(i);
                if self.top.is_empty() {
                    self.refill();
                }
            }
            Ok(i) => self.top[i].1 = qty,
            Err(_) if qty == 0 => {}
            Err(i) => {
                self.top.insert(i, (price, qty));
                if self.top.len() > self.top_cap {
                    let (p, q) = self.top.remove(0);
                    self.rest.insert(p, q);
                }
            }
        }
    }

    /// Moves the next best levels from `rest` into the empty `top`.
    fn refill(&mut self) {
        let n = (self.top_cap / 2).max(1).min(self.rest.len());
        for _ in 0..n {
            let next = match self.side {
                Side::Bid => self.rest.pop_last(),
                Side::Ask => self.rest.pop_first(),
            };
            if let Some(level) = next {
                self.top.push(level);
            }
        }
        // Popped best first; `top` is ordered worst → best.
        self.top.reverse();
    }

    /// The best level, O(1).
    #[inline]
    pub fn best(&self) -> Option<Level> {
        self.top.last().copied()
    }

    /// Levels from the best outwards.
    pub fn levels(&self) -> impl Iterator<Item = Level> + '_ {
        let rest: Box<dyn Iterator<Item = Level> + '_> = match self.side {
            Side::Bid => Box::new(self.rest.iter().rev().map(|(&p, &q)| (p, q))),
            Side::Ask => Box::new(self.rest.iter().map(|(&p, &q)| (p, q))),
        };
        self.top.iter().rev().copied().chain(rest)
    }

    /// The best `k` levels, best first.
    pub fn top(&self, k: usize) -> Vec<Level> {
        self.levels().take(k).collect()
    }

    /// Levels at `bound` or better (bids: price ≥ bound; asks: price ≤ bound), best first.
    pub fn within(&self, bound: i64) -> impl Iterator<Item = Level> + '_ {
        let r = self.rank(bound);
        self.levels().take_while(move |&(p, _)| self.rank(p) >= r)
    }
}
