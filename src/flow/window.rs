//! Per-symbol windows: one-second buckets for the sliding horizons, and the UTC-aligned intervals
//! (see `aligned.rs`).
//!
//! Buckets are kept sparse (only seconds with a trade) in a deque sorted by second, spanning the longest horizon
//! back from the symbol's clock (its newest trade time). Each horizon keeps running totals over the buckets inside
//! it; when the clock enters a new second the buckets that fall out of a horizon are subtracted once. A trade in
//! the clock's second is added to the last bucket and to every horizon: O(1). A late trade finds its bucket by
//! binary search (inserting it if that second had no trade yet).

use std::collections::VecDeque;

use super::aligned::{Aligned, Interval};
use super::sums::{Fill, Sums, Totals};

/// One second of trades.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bucket {
    /// Unix second (`T / 1000`).
    pub sec: i64,
    pub sums: Sums,
}

/// The sliding and aligned state of one symbol.
#[derive(Debug, Clone, Default)]
pub struct Windows {
    /// Newest trade time counted (ms); `None` before the first trade.
    pub clock_ms: Option<i64>,
    pub buckets: VecDeque<Bucket>,
    /// Per horizon: totals over the buckets inside it, for the window ending at the clock's second.
    pub totals: Vec<Totals>,
    /// Per horizon: index of its first bucket (the first with `sec > clock_sec − h`), `buckets.len()` if none.
    pub first: Vec<usize>,
    pub aligned: Vec<Aligned>,
}

/// Horizon lengths in seconds and interval lengths in ms, shared by every symbol.
#[derive(Debug, Clone)]
pub struct Shape {
    pub horizons_s: Vec<i64>,
    pub max_horizon_s: i64,
    pub intervals_ms: Vec<i64>,
    pub history: usize,
}

impl Windows {
    pub fn new(shape: &Shape) -> Self {
        Self {
            clock_ms: None,
            buckets: VecDeque::new(),
            totals: vec![Totals::default(); shape.horizons_s.len()],
            first: vec![0; shape.horizons_s.len()],
            aligned: vec![Aligned::default(); shape.intervals_ms.len()],
        }
    }

    /// Windows from their parts (as a checkpoint holds them), with the horizons' running totals rebuilt from the
    /// buckets; `None` unless the buckets are in order within the longest horizon back from the clock and there is
    /// one series per aligned interval.
    pub(super) fn from_parts(
        clock_ms: Option<i64>,
        buckets: Vec<Bucket>,
        aligned: Vec<Aligned>,
        shape: &Shape,
    ) -> Option<Self> {
        let in_order = buckets.windows(2).all(|w| w[0].sec < w[1].sec);
        let in_span = match clock_ms.map(|c| c.div_euclid(1000)) {
            None => buckets.is_empty(),
            Some(c) => buckets.iter().all(|b| b.sec <= c && b.sec > c - shape.max_horizon_s),
        };
        if !(in_order && in_span && aligned.len() == shape.intervals_ms.len()) {
            return None;
        }
        let mut w = Self {
            clock_ms,
            buckets: buckets.into(),
            aligned,
            ..Self::new(shape)
        };
        if let Some(c) = w.clock_sec() {
            for (k, &h) in shape.horizons_s.iter().enumerate() {
                let mut t = Totals::default();
                w.first[k] = w.buckets.partition_point(|b| b.sec <= c - h);
                for b in w.buckets.range(w.first[k]..) {
                    t.add(&b.sums);
                }
                w.totals[k] = t;
            }
        }
        Some(w)
    }

    fn clock_sec(&self) -> Option<i64> {
        self.clock_ms.map(|c| c.div_euclid(1000))
    }

    /// Adds a trade at `time` (ms). Returns `true` if the clock entered a new second.
    #[inline]
    pub fn add(&mut self, time: i64, fill: &Fill, shape: &Shape) -> bool {
        let sec = time.div_euclid(1000);
        let mut advanced = false;
        let clock_sec = match self.clock_ms {
            None => {
                self.clock_ms = Some(time);
                sec
            }
            Some(clock) => {
                let clock_sec = clock.div_euclid(1000);
                if time > clock {
                    self.clock_ms = Some(time);
                    if sec > clock_sec {
                        self.advance(sec, shape);
                        advanced = true;
                    }
                }
                clock_sec.max(sec)
            }
        };
        if shape.max_horizon_s > 0 && sec > clock_sec - shape.max_horizon_s {
            self.bucket_mut(sec, clock_sec, shape).add_fill(fill);
            for (t, &h) in self.totals.iter_mut().zip(&shape.horizons_s) {
                if sec > clock_sec - h {
                    t.add_fill(fill);
                }
            }
        }
        for (a, &interval) in self.aligned.iter_mut().zip(&shape.intervals_ms) {
            a.add(time, fill, interval, shape.history);
        }
        advanced
    }

    #[inline]
    fn bucket_mut(&mut self, sec: i64, clock_sec: i64, shape: &Shape) -> &mut Sums {
        match self.buckets.back() {
            Some(b) if b.sec == sec => {}
            Some(b) if b.sec > sec => {
                let p = self.buckets.partition_point(|b| b.sec < sec);
                if self.buckets[p].sec != sec {
                    self.buckets.insert(
                        p,
                        Bucket {
                            sec,
                            sums: Sums::default(),
                        },
                    );
                    // Horizons that start after this second now begin one bucket later.
                    for (first, &h) in self.first.iter_mut().zip(&shape.horizons_s) {
                        if sec <= clock_sec - h {
                            *first += 1;
                        }
                    }
                }
                return &mut self.buckets[p].sums;
            }
            _ => self.buckets.push_back(Bucket {
                sec,
                sums: Sums::default(),
            }),
        }
        &mut self.buckets.back_mut().expect("a bucket").sums
    }

    /// Moves the clock from second `old` to `new`: every horizon drops the buckets that leave it.
    fn advance(&mut self, new: i64, shape: &Shape) {
        for (k, &h) in shape.horizons_s.iter().enumerate() {
            let mut t = self.totals[k];
            self.first[k] = self.subtract_before(&mut t, self.first[k], new - h + 1);
            self.totals[k] = t;
        }
        let keep_from = new - shape.max_horizon_s + 1;
        let mut dropped = 0;
        while self.buckets.front().is_some_and(|b| b.sec < keep_from) {
            self.buckets.pop_front();
            dropped += 1;
        }
        for first in &mut self.first {
            *first -= dropped;
        }
    }

    /// Subtracts from `t` the buckets from index `p` on that lie before second `start`; returns the first index
    /// left.
    fn subtract_before(&self, t: &mut Totals, mut p: usize, start: i64) -> usize {
        while p < self.buckets.len() && self.buckets[p].sec < start {
            t.sub(&self.buckets[p].sums);
            p += 1;
        }
        p
    }

    /// Totals of horizon `k` for the window ending in second `now_sec`: the seconds `(now_sec − h, now_sec]`.
    /// `None` if that window reaches before the retained buckets.
    pub fn sliding(&self, k: usize, now_sec: i64, shape: &Shape) -> Option<Totals> {
        let h = shape.horizons_s[k];
        let Some(clock_sec) = self.clock_sec() else {
            return Some(Totals::default());
        };
        let start = now_sec - h + 1;
        if now_sec == clock_sec {
            return Some(self.totals[k]);
        }
        if now_sec > clock_sec {
            if start > clock_sec {
                return Some(Totals::default());
            }
            // The running totals minus the buckets that left the window since the clock's second.
            let mut t = self.totals[k];
            self.subtract_before(&mut t, self.first[k], start);
            return Some(t);
        }
        if start <= clock_sec - shape.max_horizon_s {
            return None;
        }
        let mut t = Totals::default();
        let mut p = self.buckets.partition_point(|b| b.sec < start);
        while p < self.buckets.len() && self.buckets[p].sec <= now_sec {
            t.add(&self.buckets[p].sums);
            p += 1;
        }
        Some(t)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.buckets.capacity() * size_of::<Bucket>()
            + self.totals.capacity() * size_of::<Totals>()
            + self.aligned.capacity() * size_of::<Aligned>()
            + self
                .aligned
                .iter()
                .map(|a| a.history.capacity() * size_of::<Interval>())
                .sum::<usize>()
    }
}
