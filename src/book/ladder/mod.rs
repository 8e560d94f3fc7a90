//! One side of an order book: price (e8 units) → quantity (e8 units).
//!
//! Nearly every diff touches levels near the top of the book, so a ladder keeps its best levels in a small sorted
//! array (`top`, best at the end, by rank: the price for bids, its negation for asks) and every other level in
//! `rest`, a two-level B-tree with wide sorted leaves ([`Deep`]). Every price in `rest` is worse than every price in
//! `top`; while `rest` is empty, a new worst level joins `top` if it has room, so a snapshot fills `top` with its best
//! levels.
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

/// Shifts of at most this many levels (most of them: updates cluster at the best end of `top`) move one fixed-size
/// block, a few vector moves without a call or a branch on the length; longer ones call `copy_within`.
const SHORT_SHIFT: usize = 8;

#[derive(Debug, Clone)]
pub struct Ladder {
    side: Side,
    /// Best levels as `(rank, qty)`, sorted worst → best (the best is `top[top_len - 1]`), at most `top_cap` of
    /// them; the slice has `top_cap + 1 + SHORT_SHIFT` slots so that a short shift may move a whole block.
    top: Box<[Level]>,
    top_len: usize,
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
            top: vec![(0, 0); cap + 1 + SHORT_SHIFT].into_boxed_slice(),
            top_len: 0,
            rest: Deep::default(),
            top_cap: cap,
        }
    }

    /// Heap bytes held (the sorted top and the leaves of the rest).
    pub fn heap_bytes(&self) -> usize {
        let level = std::mem::size_of::<Level>();
        let rest = &self.rest;
        self.top.len() * level
            + rest.leaves.capacity() * std::mem::size_of::<Vec<Level>>()
            + rest.leaves.iter().map(|l| l.capacity() * level).sum::<usize>()
            + rest.bests.capacity() * std::mem::size_of::<i64>()
    }

    pub fn side(&self) -> Side {
        self.side
    }

    pub fn len(&self) -> usize {
        self.top_len + self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.top_len == 0
    }

    pub fn clear(&mut self) {
        self.top_len = 0;
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
        if self.top_len == 0 {
            // An empty top means an empty ladder.
            if qty != 0 {
                self.top[0] = (r, qty);
                self.top_len = 1;
            }
        } else if r >= self.top[0].0 {
            self.set_top(r, qty);
        } else if self.rest.is_empty() && self.top_len < self.top_cap {
            // Worse than every level and nothing deeper: the new worst level of a `top` with room.
            if qty != 0 {
                self.insert_top(0, r, qty);
            }
        } else {
            self.rest.set(r, qty);
        }
    }

    #[inline]
    fn set_top(&mut self, r: i64, qty: i64) {
        match self.top[..self.top_len].binary_search_by(|&(x, _)| x.cmp(&r)) {
            Ok(i) if qty == 0 => {
                self.remove_top(i);
                if self.top_len < self.low_mark() && !self.rest.is_empty() {
                    self.refill();
                }
            }
            Ok(i) => self.top[i].1 = qty,
            Err(_) if qty == 0 => {}
            Err(i) => {
                self.insert_top(i, r, qty);
                if self.top_len > self.top_cap {
                    self.spill();
                }
            }
        }
    }

    /// Inserts `(r, qty)` at index `i` of `top` (room for one more is always there).
    #[inline]
    fn insert_top(&mut self, i: usize, r: i64, qty: i64) {
        let len = self.top_len;
        if len - i <= SHORT_SHIFT {
            // A fixed count, so that the loop unrolls into moves instead of becoming a call to `memmove`.
            let block = &mut self.top[i..=i + SHORT_SHIFT];
            for j in (0..SHORT_SHIFT).rev() {
                block[j + 1] = block[j];
            }
        } else {
            self.top.copy_within(i..len, i + 1);
        }
        self.top[i] = (r, qty);
        self.top_len = len + 1;
    }

    /// Removes index `i` of `top`.
    #[inline]
    fn remove_top(&mut self, i: usize) {
        let len = self.top_len;
        if len - i <= SHORT_SHIFT {
            let block = &mut self.top[i..=i + SHORT_SHIFT];
            for j in 0..SHORT_SHIFT {
                block[j] = block[j + 1];
            }
        } else {
            self.top.copy_within(i + 1..len, i);
        }
        self.top_len = len - 1;
    }

    /// Below this many levels `top` is refilled from `rest` (to twice as many).
    #[inline]
    fn low_mark(&self) -> usize {
        (self.top_cap / 4).max(1)
    }

    /// Moves the next best levels from `rest` to the worst end of `top`, filling it to half its capacity.
    fn refill(&mut self) {
        let old = self.top_len;
        let n = (self.top_cap / 2).max(1).saturating_sub(old).min(self.rest.len());
        self.top.copy_within(0..old, n);
        // Popped best first; `top` is ordered worst → best.
        for j in (0..n).rev() {
            self.top[j] = self.rest.pop_best().expect("counted above");
        }
        self.top_len = old + n;
    }

    /// Moves the worst levels of a full `top` to `rest`, leaving it three quarters full.
    fn spill(&mut self) {
        let len = self.top_len;
        let k = len - (self.top_cap * 3 / 4).max(1);
        // Worst first: each is better than every level `rest` holds.
        for &(r, q) in &self.top[..k] {
            self.rest.push_best(r, q);
        }
        self.top.copy_within(k..len, 0);
        self.top_len = len - k;
    }

    /// The best level, O(1).
    #[inline]
    pub fn best(&self) -> Option<Level> {
        let &(r, q) = self.top[..self.top_len].last()?;
        Some((self.rank(r), q))
    }

    /// Levels from the best outwards.
    pub fn levels(&self) -> impl Iterator<Item = Level> + '_ {
        let top = self.top[..self.top_len].iter().rev().copied();
        top.chain(self.rest.best_first()).map(|(r, q)| (self.rank(r), q))
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
