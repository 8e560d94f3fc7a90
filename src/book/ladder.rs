//! One side of an order book: price (e8 units) → quantity (e8 units), best level cached.

use std::collections::BTreeMap;

use crate::decode::Level;

/// Bids are read from the highest price down, asks from the lowest up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Bid,
    Ask,
}

/// A price ladder. Updates are O(log n); the best level is cached so reading it is O(1); top-k is O(log n + k).
#[derive(Debug, Clone)]
pub struct Ladder {
    side: Side,
    levels: BTreeMap<i64, i64>,
    best: Option<Level>,
}

impl Ladder {
    pub fn new(side: Side) -> Self {
        Self { side, levels: BTreeMap::new(), best: None }
    }

    pub fn side(&self) -> Side {
        self.side
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    pub fn clear(&mut self) {
        self.levels.clear();
        self.best = None;
    }

    /// Sets a level to an absolute quantity; `0` removes it (removing an unknown level is a no-op).
    #[inline]
    pub fn set(&mut self, price: i64, qty: i64) {
        if qty == 0 {
            if self.levels.remove(&price).is_some() && self.best.is_some_and(|(p, _)| p == price) {
                self.best = self.scan_best();
            }
            return;
        }
        self.levels.insert(price, qty);
        match self.best {
            Some((p, _)) if p == price => self.best = Some((price, qty)),
            Some((p, _)) if !self.better(price, p) => {}
            _ => self.best = Some((price, qty)),
        }
    }

    /// `true` if price `a` is better than `b` on this side.
    #[inline]
    pub fn better(&self, a: i64, b: i64) -> bool {
        match self.side {
            Side::Bid => a > b,
            Side::Ask => a < b,
        }
    }

    fn scan_best(&self) -> Option<Level> {
        let kv = match self.side {
            Side::Bid => self.levels.last_key_value(),
            Side::Ask => self.levels.first_key_value(),
        };
        kv.map(|(&p, &q)| (p, q))
    }

    /// The best level, O(1).
    #[inline]
    pub fn best(&self) -> Option<Level> {
        self.best
    }

    /// Levels from the best outwards.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Level> + '_> {
        let it = self.levels.iter().map(|(&p, &q)| (p, q));
        match self.side {
            Side::Bid => Box::new(it.rev()),
            Side::Ask => Box::new(it),
        }
    }

    /// The best `k` levels, best first.
    pub fn top(&self, k: usize) -> Vec<Level> {
        self.iter().take(k).collect()
    }

    /// Levels at `bound` or better (bids: price ≥ bound; asks: price ≤ bound), best first.
    pub fn within(&self, bound: i64) -> Box<dyn Iterator<Item = Level> + '_> {
        match self.side {
            Side::Bid => Box::new(self.levels.range(bound..).rev().map(|(&p, &q)| (p, q))),
            Side::Ask => Box::new(self.levels.range(..=bound).map(|(&p, &q)| (p, q))),
        }
    }
}
