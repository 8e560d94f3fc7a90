//! One side of an order book: price (e8 units) → quantity (e8 units).
//!
//! Nearly every diff touches levels near the top of the book, so a ladder keeps its best levels in a small sorted
//! array (`top`, best at the end) and every other level in a `BTreeMap` (`rest`). Every price in `rest` is worse
//! than every price in `top`; while `rest` is empty, a new worst level joins `top` if it has room, so a snapshot fills
//! `top` with its best levels. Costs: best level O(1); an update in `top` is a binary search plus a bounded shift (at most `top_cap`
//! entries, a constant); an update in `rest` is O(log n). `top` keeps between a quarter and all of `top_cap`
//! levels while `rest` has any: below a quarter it is refilled to half from `rest`, above `top_cap` its worst
//! quarter moves to `rest`, each in `O(top_cap · log n)` amortised over at least `top_cap / 4` updates. Top-k
//! reads are O(k).

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
            // Worse than every level and nothing deeper: the new worst level of a `top` with room.
            Some(_) if self.rest.is_empty() && self.top.len() < self.top_cap => {
                if qty != 0 {
                    self.top.insert(0, (price, qty));
                }
            }
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
        let side = self.side;
        let rank = |p: i64| if side == Side::Bid { p } else { -p };
        match self.top.binary_search_by(|&(p, _)| rank(p).cmp(&r)) {
            Ok(i) if qty == 0 => {
                self.top.remove(i);
                if self.top.len() < self.low_mark() && !self.rest.is_empty() {
                    self.refill();
                }
            }
            Ok(i) => self.top[i].1 = qty,
            Err(_) if qty == 0 => {}
            Err(i) => {
                self.top.insert(i, (price, qty));
                if self.top.len() > self.top_cap {
                    self.spill();
                }
            }
        }
    }

    /// Below this many levels `top` is refilled from `rest` (to twice as many).
    #[inline]
    fn low_mark(&self) -> usize {
        (self.top_cap / 4).max(1)
    }

    /// Moves the next best levels from `rest` to the worst end of `top`, filling it to half its capacity.
    fn refill(&mut self) {
        let n = (self.top_cap / 2)
            .max(1)
            .saturating_sub(self.top.len())
            .min(self.rest.len());
        let old = self.top.len();
        self.top.resize(old + n, (0, 0));
        self.top.copy_within(0..old, n);
        // Popped best first; `top` is ordered worst → best.
        for j in (0..n).rev() {
            let next = match self.side {
                Side::Bid => self.rest.pop_last(),
                Side::Ask => self.rest.pop_first(),
            };
            self.top[j] = next.expect("counted above");
        }
    }

    /// Moves the worst levels of a full `top` to `rest`, leaving it three quarters full.
    fn spill(&mut self) {
        let k = self.top.len() - (self.top_cap * 3 / 4).max(1);
        for (p, q) in self.top.drain(..k) {
            self.rest.insert(p, q);
        }
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
