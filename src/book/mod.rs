//! Integer-tick order books and the Binance sync state machines.

mod ladder;
mod sync;

pub use ladder::{Ladder, Side};
pub use sync::{ApplyOutcome, BookSync, Market, SnapshotOutcome, SyncState};

use sha2::{Digest, Sha256};

use crate::decode::Level;
use crate::num::{notional, write_e8};

/// Both sides of a book plus the id and time of the last applied update.
#[derive(Debug, Clone)]
pub struct OrderBook {
    pub bids: Ladder,
    pub asks: Ladder,
    /// Update id of the last applied diff (or of the snapshot).
    pub last_update_id: u64,
    /// Event time of the last applied diff (exchange ms), `None` right after a snapshot without `E`.
    pub event_time: Option<i64>,
    /// The lowest bid price the last snapshot listed, when that snapshot may have left out lower ones (it held as
    /// many bids as its `limit`): the book knows every bid at or above it, and only some below. `None`: all of them.
    pub bid_edge: Option<i64>,
    /// The highest ask price the last snapshot listed, when it may have left out higher ones (as `bid_edge`).
    pub ask_edge: Option<i64>,
}

impl Default for OrderBook {
    fn default() -> Self {
        Self::new()
    }
}

/// Sums over the levels within a band around the mid price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BandDepth {
    /// Σ bid quantity (e8 units).
    pub bid_qty: i128,
    /// Σ ask quantity (e8 units).
    pub ask_qty: i128,
    /// Σ bid price × quantity (e16 units).
    pub bid_notional: i128,
    /// Σ ask price × quantity (e16 units).
    pub ask_notional: i128,
    /// The book knows every level of the band (the band ends within both sides' edges).
    pub complete: bool,
}

impl OrderBook {
    pub fn new() -> Self {
        Self {
            bids: Ladder::new(Side::Bid),
            asks: Ladder::new(Side::Ask),
            last_update_id: 0,
            event_time: None,
            bid_edge: None,
            ask_edge: None,
        }
    }

    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.last_update_id = 0;
        self.event_time = None;
        self.bid_edge = None;
        self.ask_edge = None;
    }

    /// Replaces the book with a snapshot's levels. `limit`: the most levels a side of the snapshot could hold
    /// (`None`: the snapshot holds whole sides); a side that holds that many may have been cut, and its deepest
    /// price becomes the side's edge.
    pub fn load(&mut self, bids: &[Level], asks: &[Level], last_update_id: u64, limit: Option<usize>) {
        self.clear();
        self.apply_levels(bids, asks);
        self.last_update_id = last_update_id;
        let cut = |side: &[Level]| limit.is_some_and(|n| side.len() >= n);
        self.bid_edge = if cut(bids) {
            bids.iter().map(|l| l.0).min()
        } else {
            None
        };
        self.ask_edge = if cut(asks) {
            asks.iter().map(|l| l.0).max()
        } else {
            None
        };
    }

    /// The best bid the book knows for certain (`None` also when a cut side has none left above its edge).
    pub fn known_best_bid(&self) -> Option<Level> {
        self.bids.best().filter(|l| self.bid_edge.is_none_or(|e| l.0 >= e))
    }

    /// The best ask the book knows for certain (as [`Self::known_best_bid`]).
    pub fn known_best_ask(&self) -> Option<Level> {
        self.asks.best().filter(|l| self.ask_edge.is_none_or(|e| l.0 <= e))
    }

    /// The best `depth` bids the book knows for certain: those at or above its edge.
    pub fn known_bids(&self, depth: usize) -> Vec<Level> {
        let mut top = self.bids.top(depth);
        if let Some(edge) = self.bid_edge {
            top.retain(|l| l.0 >= edge);
        }
        top
    }

    /// The best `depth` asks the book knows for certain: those at or below its edge.
    pub fn known_asks(&self, depth: usize) -> Vec<Level> {
        let mut top = self.asks.top(depth);
        if let Some(edge) = self.ask_edge {
            top.retain(|l| l.0 <= edge);
        }
        top
    }

    /// Sets each level to its new absolute quantity (`0` removes).
    #[inline]
    pub fn apply_levels(&mut self, bids: &[Level], asks: &[Level]) {
        for &(p, q) in bids {
            self.bids.set(p, q);
        }
        for &(p, q) in asks {
            self.asks.set(p, q);
        }
    }

    /// Heap bytes held by both sides.
    pub fn heap_bytes(&self) -> usize {
        self.bids.heap_bytes() + self.asks.heap_bytes()
    }

    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }

    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }

    /// `true` if the best bid is at or above the best ask.
    pub fn is_crossed(&self) -> bool {
        matches!((self.bids.best(), self.asks.best()), (Some((b, _)), Some((a, _))) if b >= a)
    }

    /// Best ask − best bid (e8 units).
    pub fn spread(&self) -> Option<i64> {
        Some(self.asks.best()?.0 - self.bids.best()?.0)
    }

    /// Best bid + best ask: twice the mid price, kept exact (e8 units); of the levels known for certain.
    pub fn mid_x2(&self) -> Option<i128> {
        Some(i128::from(self.known_best_ask()?.0) + i128::from(self.known_best_bid()?.0))
    }

    /// Quantities and notionals of the levels within ±`ppb` parts-per-billion of the mid price (inclusive); the
    /// mid is that of the best levels known for certain, and `complete` says whether the band ends within the
    /// sides' edges (the levels beyond an edge that the book holds are summed all the same).
    /// The band edges are compared exactly in integers: a bid at price p counts when p·2·10⁹ ≥ (bid+ask)·(10⁹−ppb).
    pub fn band(&self, ppb: u32) -> Option<BandDepth> {
        const BILLION: i128 = 1_000_000_000;
        let mid2 = self.mid_x2()?;
        let ppb = i128::from(ppb.min(1_000_000_000));
        // Smallest bid price p with p·2e9 ≥ mid2·(1e9 − ppb); largest ask price with p·2e9 ≤ mid2·(1e9 + ppb).
        let lo_num = mid2 * (BILLION - ppb);
        let lo = (lo_num + 2 * BILLION - 1).div_euclid(2 * BILLION);
        let hi = (mid2 * (BILLION + ppb)).div_euclid(2 * BILLION);
        let (lo, hi) = (
            i64::try_from(lo).unwrap_or(i64::MAX),
            i64::try_from(hi).unwrap_or(i64::MAX),
        );
        let mut d = BandDepth {
            complete: self.bid_edge.is_none_or(|e| lo >= e) && self.ask_edge.is_none_or(|e| hi <= e),
            ..BandDepth::default()
        };
        for (p, q) in self.bids.within(lo) {
            d.bid_qty += i128::from(q);
            d.bid_notional += notional(p, q);
        }
        for (p, q) in self.asks.within(hi) {
            d.ask_qty += i128::from(q);
            d.ask_notional += notional(p, q);
        }
        Some(d)
    }

    /// Writes the canonical text form: `b,<price>,<qty>\n` per bid from the best down, then `a,…` per ask from
    /// the best up, decimals normalized (no exponent, no trailing zeros).
    pub fn write_canonical(&self, mut sink: impl FnMut(&str)) {
        let mut line = String::with_capacity(48);
        for (tag, ladder) in [("b,", &self.bids), ("a,", &self.asks)] {
            for (p, q) in ladder.levels() {
                line.clear();
                line.push_str(tag);
                write_e8(&mut line, p);
                line.push(',');
                write_e8(&mut line, q);
                line.push('\n');
                sink(&line);
            }
        }
    }

    /// Hex SHA-256 of the canonical text form: a checksum to compare books across tools and runs.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        self.write_canonical(|s| h.update(s.as_bytes()));
        let out = h.finalize();
        let mut hex = String::with_capacity(64);
        for b in out {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod edge_tests;
