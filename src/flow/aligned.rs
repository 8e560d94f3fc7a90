//! UTC-aligned intervals ("the current 15-minute candle"): the current interval and the `history` intervals before
//! it, each with its sums and the first and last aggregate trade ids counted in it.

use std::collections::VecDeque;

use super::sums::{Fill, Sums};

/// One aligned interval: its sums, and the lowest and highest aggregate trade ids counted in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub sums: Sums,
    /// Lowest id counted (`u64::MAX` while empty).
    pub first_id: u64,
    /// Highest id counted (0 while empty).
    pub last_id: u64,
}

impl Default for Interval {
    fn default() -> Self {
        Self {
            sums: Sums::default(),
            first_id: u64::MAX,
            last_id: 0,
        }
    }
}

impl Interval {
    #[inline]
    pub fn add_fill(&mut self, fill: &Fill) {
        self.sums.add_fill(fill);
        self.first_id = self.first_id.min(fill.id);
        self.last_id = self.last_id.max(fill.id);
    }

    /// `(first_id, last_id)`, or `None` without trades.
    pub fn ids(&self) -> Option<(u64, u64)> {
        (!self.sums.is_empty()).then_some((self.first_id, self.last_id))
    }
}

/// An aligned interval series: the current interval and the `history` intervals before it (contiguous, empty
/// intervals included), oldest first.
#[derive(Debug, Clone, Default)]
pub struct Aligned {
    /// Start (ms) of the current interval; `None` before the first trade.
    pub start: Option<i64>,
    pub current: Interval,
    pub history: VecDeque<Interval>,
}

impl Aligned {
    pub(super) fn add(&mut self, time: i64, fill: &Fill, interval: i64, keep: usize) {
        let start = time - time.rem_euclid(interval);
        let Some(cur) = self.start else {
            self.start = Some(start);
            self.current.add_fill(fill);
            return;
        };
        match start.cmp(&cur) {
            std::cmp::Ordering::Equal => self.current.add_fill(fill),
            std::cmp::Ordering::Greater => {
                let k = (start - cur) / interval;
                // The history is allocated once at its full size (`keep` intervals and the one just closed) and
                // never grows past it: a series' memory is flat from its first closed interval, not doubling up to
                // the next power of two over the `keep` intervals' time (60 h for 60 hourly intervals).
                if self.history.capacity() < keep + 1 {
                    let len = self.history.len();
                    self.history.reserve_exact((keep + 1).saturating_sub(len));
                }
                self.history.push_back(std::mem::take(&mut self.current));
                let empties = (k - 1).min(keep as i64) as usize;
                for _ in 0..empties {
                    if self.history.len() > keep {
                        self.history.pop_front();
                    }
                    self.history.push_back(Interval::default());
                }
                while self.history.len() > keep {
                    self.history.pop_front();
                }
                self.start = Some(start);
                self.current.add_fill(fill);
            }
            std::cmp::Ordering::Less => {
                let k = ((cur - start) / interval) as usize;
                // A late trade before the kept intervals (the series started after it): extend the history back,
                // as far as it is kept.
                while self.history.len() < k.min(keep) {
                    self.history.push_front(Interval::default());
                }
                if k > keep {
                    return;
                }
                let n = self.history.len();
                self.history[n - k].add_fill(fill);
            }
        }
    }

    /// The interval starting at `start` (ms, aligned): `Some` if kept (empty for an interval after the current one),
    /// `None` if older than the history.
    pub fn at(&self, start: i64, interval: i64) -> Option<Interval> {
        let Some(cur) = self.start else {
            return Some(Interval::default());
        };
        if start == cur {
            return Some(self.current);
        }
        if start > cur {
            return Some(Interval::default());
        }
        let k = ((cur - start) / interval) as usize;
        let n = self.history.len();
        (k <= n).then(|| self.history[n - k])
    }

    /// The kept intervals with their starts, oldest first (the current one last); empty before the first trade.
    pub fn rows(&self, interval: i64) -> impl Iterator<Item = (i64, &Interval)> + '_ {
        let kept = self.history.len() as i64;
        let cur = self.start.unwrap_or(0);
        let rows = if self.start.is_some() { kept as usize + 1 } else { 0 };
        self.history
            .iter()
            .chain(std::iter::once(&self.current))
            .take(rows)
            .enumerate()
            .map(move |(j, iv)| (cur - (kept - j as i64) * interval, iv))
    }
}
