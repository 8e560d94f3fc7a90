//! One side of an order book: price (e8 units) → quantity (e8 units).
//!
//! Nearly every diff touches levels near the top of the book, so a ladder keeps its best levels in a small sorted
//! array (`top`, best at the end) and every other level in `rest`, a two-level B-tree with wide sorted leaves
//! ([`Deep`]). Every price in `rest` is worse than every price in `top`; while `rest` is empty, a new worst level
//! joins `top` if it has room, so a snapshot fills `top` with its best levels.
//!
//! Costs: best level O(1); an update in `top` is a binary search plus a bounded shift (at most `top_cap` entries, a
//! constant); an update in `rest` is O(log n) plus a bounded shift. `top` keeps between a quarter and all of
//! `top_cap` levels while `rest` has any: below a quarter it is refilled to half from `rest`, above `top_cap` its
//! worst quarter moves to `rest`, each in `O(top_cap · log n)` amortised over at least `top_cap / 4` updates. Top-k
//! reads are O(k).

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
    rest: Deep,
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
            rest: Deep::default(),
            top_cap: cap,
        }
    }

    /// Heap bytes held (the sorted top and the leaves of the rest).
    pub fn heap_bytes(&self) -> usize {
        let level = std::mem::size_of::<Level>();
        let rest = &self.rest;
        self.top.capacity() * level
            + rest.leaves.capacity() * std::mem::size_of::<Vec<Level>>()
            + rest.leaves.iter().map(|l| l.capacity() * level).sum::<usize>()
            + rest.bests.capacity() * std::mem::size_of::<i64>()
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

    /// Higher rank = better price on this side (its own inverse: the price of rank `r` is `rank(r)`).
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
                self.rest.set(r, qty);
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
            let (r, q) = self.rest.pop_best().expect("counted above");
            self.top[j] = (self.rank(r), q);
        }
    }

    /// Moves the worst levels of a full `top` to `rest`, leaving it three quarters full.
    fn spill(&mut self) {
        let k = self.top.len() - (self.top_cap * 3 / 4).max(1);
        // Worst first: each is better than every level `rest` holds.
        for j in 0..k {
            let (p, q) = self.top[j];
            self.rest.push_best(self.rank(p), q);
        }
        self.top.drain(..k);
    }

    /// The best level, O(1).
    #[inline]
    pub fn best(&self) -> Option<Level> {
        self.top.last().copied()
    }

    /// Levels from the best outwards.
    pub fn levels(&self) -> impl Iterator<Item = Level> + '_ {
        let rest = self.rest.best_first().map(|(r, q)| (self.rank(r), q));
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

/// The levels of a side below its sorted top, by rank (higher = better), in sorted leaves of at most `2 · LEAF`
/// levels: leaves and the levels in each are ordered worst → best, and `bests[j]` is the rank of leaf `j`'s best
/// level. A B-tree of height two: finding a level is a binary search over `bests` and one in a leaf; a change moves
/// at most one leaf's levels (a constant) and, when a leaf splits or empties, the leaf handles. Leaves that shrink
/// below `LEAF / 4` merge with a neighbour, so there are at most about `4n / LEAF` of them.
#[derive(Debug, Clone, Default)]
struct Deep {
    leaves: Vec<Vec<Level>>,
    bests: Vec<i64>,
    len: usize,
}

const LEAF: usize = 64;

impl Deep {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn clear(&mut self) {
        self.leaves.clear();
        self.bests.clear();
        self.len = 0;
    }

    /// Sets the level of rank `r` to `qty` (`0` removes it).
    fn set(&mut self, r: i64, qty: i64) {
        if self.leaves.is_empty() {
            if qty != 0 {
                self.leaves.push(vec![(r, qty)]);
                self.bests.push(r);
                self.len = 1;
            }
            return;
        }
        // The first leaf whose best reaches `r`, or the last (a rank above every level goes there).
        let j = self.bests.partition_point(|&b| b < r).min(self.leaves.len() - 1);
        let leaf = &mut self.leaves[j];
        match leaf.binary_search_by(|&(x, _)| x.cmp(&r)) {
            Ok(i) if qty == 0 => {
                leaf.remove(i);
                self.len -= 1;
                if let Some(&(best, _)) = leaf.last() {
                    self.bests[j] = best;
                    if leaf.len() < LEAF / 4 {
                        self.merge(j);
                    }
                } else {
                    self.leaves.remove(j);
                    self.bests.remove(j);
                }
            }
            Ok(i) => leaf[i].1 = qty,
            Err(_) if qty == 0 => {}
            Err(i) => {
                leaf.insert(i, (r, qty));
                self.len += 1;
                if i + 1 == leaf.len() {
                    self.bests[j] = r;
                }
                if leaf.len() > 2 * LEAF {
                    let upper = leaf.split_off(LEAF);
                    self.bests[j] = leaf[LEAF - 1].0;
                    self.bests.insert(j + 1, upper[upper.len() - 1].0);
                    self.leaves.insert(j + 1, upper);
                }
            }
        }
    }

    /// Joins the small leaf `j` with a neighbour when both fit in one leaf.
    fn merge(&mut self, j: usize) {
        let fits = |a: usize, b: usize| self.leaves[a].len() + self.leaves[b].len() <= 2 * LEAF;
        let pair = if j + 1 < self.leaves.len() && fits(j, j + 1) {
            j
        } else if j > 0 && fits(j - 1, j) {
            j - 1
        } else {
            return;
        };
        let better = self.leaves.remove(pair + 1);
        self.bests.remove(pair);
        self.leaves[pair].extend(better);
    }

    /// Removes and returns the best level.
    fn pop_best(&mut self) -> Option<Level> {
        let leaf = self.leaves.last_mut()?;
        let level = leaf.pop()?;
        self.len -= 1;
        if let Some(&(best, _)) = leaf.last() {
            *self.bests.last_mut().expect("a leaf") = best;
        } else {
            self.leaves.pop();
            self.bests.pop();
        }
        Some(level)
    }

    /// Adds a level ranked above every level held.
    fn push_best(&mut self, r: i64, qty: i64) {
        match self.leaves.last_mut() {
            Some(leaf) if leaf.len() < 2 * LEAF => {
                leaf.push((r, qty));
                *self.bests.last_mut().expect("a leaf") = r;
            }
            _ => {
                self.leaves.push(vec![(r, qty)]);
                self.bests.push(r);
            }
        }
        self.len += 1;
    }

    /// `(rank, qty)` from the best down.
    fn best_first(&self) -> impl Iterator<Item = Level> + '_ {
        self.leaves.iter().rev().flat_map(|leaf| leaf.iter().rev().copied())
    }
}

#[cfg(test)]
mod tests;
