//! A time-ordered log of liquidation notionals with running (prefix) sums per side.
//!
//! Each entry stores the cumulative notional and count of both sides up to and including itself, so the sum over
//! any time range is two binary searches and one subtraction: O(log n). Events nearly always arrive in time order
//! and are appended; a late event is inserted at its place and the running sums after it are shifted by its value
//! (O(distance from the end), small for the few-seconds lateness of a reconnect). Pruning from the front keeps the
//! last popped running sum as the base, so the sums stay valid without touching the remaining entries.

use std::collections::VecDeque;

use super::{LiqError, Side};

#[derive(Debug, Clone, Copy)]
struct Entry {
    time: i64,
    /// Caller's tag (the symbol slot in the all-symbol log).
    tag: u32,
    /// Running notional (e16) per side (`Side as usize`), inclusive of this entry.
    notional: [i128; 2],
    /// Running count per side, inclusive of this entry.
    count: [u64; 2],
}

/// Sum of notional (e16 units) and count over a range, per side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub notional: [i128; 2],
    pub count: [u64; 2],
}

impl Sums {
    /// Notional of one side, or of both when `side` is `None`.
    pub fn notional(&self, side: Option<Side>) -> i128 {
        side.map_or(self.notional[0] + self.notional[1], |s| self.notional[s as usize])
    }

    pub fn count(&self, side: Option<Side>) -> u64 {
        side.map_or(self.count[0] + self.count[1], |s| self.count[s as usize])
    }
}

#[derive(Debug, Clone, Default)]
pub struct TotalsLog {
    entries: VecDeque<Entry>,
    base: Sums,
}

impl TotalsLog {
    fn running(&self, i: usize) -> Sums {
        if i == 0 {
            self.base
        } else {
            let e = &self.entries[i - 1];
            Sums {
                notional: e.notional,
                count: e.count,
            }
        }
    }

    /// Index where an event at `time` goes: after every entry with the same or an earlier time.
    pub fn position(&self, time: i64) -> usize {
        // Nearly every event is the newest: append without a search.
        if self.entries.back().is_none_or(|e| e.time <= time) {
            return self.entries.len();
        }
        self.entries.partition_point(|e| e.time <= time)
    }

    /// Whether one more event of `notional` keeps every running sum in range (they only grow: `notional >= 0`).
    pub fn fits(&self, side: Side, notional: i128) -> bool {
        self.running(self.entries.len()).notional[side as usize]
            .checked_add(notional)
            .is_some()
    }

    /// Inserts one event; returns its index. On overflow ([`Self::fits`] is false) nothing changes.
    pub fn insert(&mut self, time: i64, tag: u32, side: Side, notional: i128) -> Result<usize, LiqError> {
        if !self.fits(side, notional) {
            return Err(LiqError::Overflow);
        }
        let s = side as usize;
        let pos = self.position(time);
        let mut prev = self.running(pos);
        prev.notional[s] += notional;
        prev.count[s] += 1;
        self.entries.insert(
            pos,
            Entry {
                time,
                tag,
                notional: prev.notional,
                count: prev.count,
            },
        );
        for e in self.entries.range_mut(pos + 1..) {
            e.notional[s] += notional;
            e.count[s] += 1;
        }
        Ok(pos)
    }

    /// Drops entries older than `cutoff` (time < cutoff), calling `dropped` with each one's tag; returns how many.
    pub fn prune(&mut self, cutoff: i64, mut dropped: impl FnMut(u32)) -> usize {
        let n = self.entries.partition_point(|e| e.time < cutoff);
        if n > 0 {
            self.base = self.running(n);
            self.entries.drain(..n).for_each(|e| dropped(e.tag));
        }
        n
    }

    /// Index range of the entries with `start <= time < end`.
    pub fn range(&self, start: i64, end: i64) -> (usize, usize) {
        let lo = self.entries.partition_point(|e| e.time < start);
        let hi = self.entries.partition_point(|e| e.time < end).max(lo);
        (lo, hi)
    }

    /// Notional and count of the events with `start <= time < end`, in O(log n).
    pub fn sum(&self, start: i64, end: i64) -> Sums {
        let (lo, hi) = self.range(start, end);
        let (a, b) = (self.running(lo), self.running(hi));
        Sums {
            notional: [b.notional[0] - a.notional[0], b.notional[1] - a.notional[1]],
            count: [b.count[0] - a.count[0], b.count[1] - a.count[1]],
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
    }

    /// Time of the oldest entry kept.
    pub fn first_time(&self) -> Option<i64> {
        self.entries.front().map(|e| e.time)
    }
}
