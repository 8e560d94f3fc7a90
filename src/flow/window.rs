//! Per-symbol windows: buckets for the sliding horizons, one series ("tier") per edge resolution, and the
//! UTC-aligned intervals (see `aligned.rs`).
//!
//! A horizon's window moves by whole steps of its edge resolution ([`edge_step_s`]): 1 s up to 15 minutes, coarser
//! beyond, so that no horizon needs more than [`MAX_STEPS`] buckets. Horizons of the same resolution share a tier:
//! buckets of that step, kept sparse (only steps with a trade) in a deque sorted by step, spanning the tier's longest
//! horizon back from the symbol's clock (its newest trade time).
//!
//! Each horizon keeps running totals over the buckets inside it *before* the clock's step: a trade in the clock's
//! step is added to that step's bucket of each tier only (O(tiers)). When the clock enters a new step of a tier, the
//! bucket it left joins the totals of the tier's horizons and the buckets that leave a horizon are subtracted, each
//! once. A late trade finds its bucket by binary search (inserting it if that step had no trade yet) and is added to
//! the totals of the horizons it lies in.

use std::collections::VecDeque;

use super::aligned::{Aligned, Interval};
use super::sums::{Fill, Sums, Totals};

/// Most buckets a horizon needs: its edge resolution is the finest that keeps it within this many steps.
pub const MAX_STEPS: i64 = 900;
/// Edge resolutions, seconds, finest first.
const STEPS_S: [i64; 5] = [1, 10, 60, 600, 3_600];

/// Edge resolution (seconds) of a horizon of `h_s` seconds: the finest of 1 s, 10 s, 1 min, 10 min, 1 h that keeps
/// the horizon within [`MAX_STEPS`] steps, or, if that one does not divide the horizon, the coarsest finer one that
/// does (1 s always does). 1 s up to 15 min; 10 s up to 2 h 30 min; 1 min up to 15 h; 10 min up to 6 d 6 h.
pub fn edge_step_s(h_s: i64) -> i64 {
    let fit = STEPS_S
        .iter()
        .position(|&s| h_s / s <= MAX_STEPS)
        .unwrap_or(STEPS_S.len() - 1);
    STEPS_S[..=fit]
        .iter()
        .rev()
        .copied()
        .find(|&s| h_s % s == 0)
        .unwrap_or(1)
}

/// One step of trades of a tier.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bucket {
    /// Step index: `T / (step · 1000)`.
    pub unit: i64,
    pub sums: Sums,
}

/// The buckets of one edge resolution.
#[derive(Debug, Clone, Default)]
pub struct Tier {
    pub buckets: VecDeque<Bucket>,
}

/// Horizon and tier lengths and interval lengths, shared by every symbol.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Per horizon: its tier and its length in steps of that tier.
    pub horizon_tier: Vec<usize>,
    pub horizon_units: Vec<i64>,
    /// Per tier: its step (ms) and its span (its longest horizon, in steps).
    pub tier_step_ms: Vec<i64>,
    pub tier_span: Vec<i64>,
    pub intervals_ms: Vec<i64>,
    pub history: usize,
}

impl Shape {
    pub fn new(horizons_ms: &[i64], intervals_ms: &[i64], history: usize) -> Self {
        let mut s = Self {
            horizon_tier: Vec::new(),
            horizon_units: Vec::new(),
            tier_step_ms: Vec::new(),
            tier_span: Vec::new(),
            intervals_ms: intervals_ms.to_vec(),
            history,
        };
        for &h in horizons_ms {
            let step = edge_step_s(h / 1000) * 1000;
            let tier = s.tier_step_ms.iter().position(|&t| t == step).unwrap_or_else(|| {
                s.tier_step_ms.push(step);
                s.tier_span.push(0);
                s.tier_step_ms.len() - 1
            });
            s.horizon_tier.push(tier);
            s.horizon_units.push(h / step);
            s.tier_span[tier] = s.tier_span[tier].max(h / step);
        }
        s
    }

    /// Edge step (ms) of horizon `k`.
    pub fn edge_ms(&self, k: usize) -> i64 {
        self.tier_step_ms[self.horizon_tier[k]]
    }
}

/// The sliding and aligned state of one symbol.
#[derive(Debug, Clone, Default)]
pub struct Windows {
    /// Newest trade time counted (ms); `None` before the first trade.
    pub clock_ms: Option<i64>,
    pub tiers: Vec<Tier>,
    /// Per horizon: totals over its buckets before the clock's step (`(clock − h, clock)` in steps).
    pub totals: Vec<Totals>,
    /// Per horizon: index in its tier of its first bucket (the first with `unit > clock − h`).
    pub first: Vec<usize>,
    pub aligned: Vec<Aligned>,
}

impl Windows {
    pub fn new(shape: &Shape) -> Self {
        Self {
            clock_ms: None,
            tiers: vec![Tier::default(); shape.tier_step_ms.len()],
            totals: vec![Totals::default(); shape.horizon_units.len()],
            first: vec![0; shape.horizon_units.len()],
            aligned: vec![Aligned::default(); shape.intervals_ms.len()],
        }
    }

    /// Adds a trade at `time` (ms). Returns `true` if the clock entered a new second.
    #[inline]
    pub fn add(&mut self, time: i64, fill: &Fill, shape: &Shape) -> bool {
        let old = self.clock_ms;
        if old.is_none_or(|c| time > c) {
            self.clock_ms = Some(time);
        }
        let clock = self.clock_ms.unwrap_or(time);
        for (j, &step) in shape.tier_step_ms.iter().enumerate() {
            let unit = time.div_euclid(step);
            let clock_unit = clock.div_euclid(step);
            if let Some(old) = old {
                let old_unit = old.div_euclid(step);
                if clock_unit > old_unit {
                    self.advance(j, old_unit, clock_unit, shape);
                }
            }
            if unit <= clock_unit - shape.tier_span[j] {
                continue;
            }
            let limit = shape.tier_span[j] as usize + 1;
            self.bucket_mut(j, unit, clock_unit, limit, shape).add_fill(fill);
            if unit < clock_unit {
                for k in (0..self.totals.len()).filter(|&k| shape.horizon_tier[k] == j) {
                    if unit > clock_unit - shape.horizon_units[k] {
                        self.totals[k].add_fill(fill);
                    }
                }
            }
        }
        for (a, &interval) in self.aligned.iter_mut().zip(&shape.intervals_ms) {
            a.add(time, fill, interval, shape.history);
        }
        old.is_none_or(|c| clock.div_euclid(1000) > c.div_euclid(1000))
    }

    /// The bucket of step `unit` in tier `j`, inserted if missing (growing the deque by at most `limit` buckets).
    #[inline]
    fn bucket_mut(&mut self, j: usize, unit: i64, clock_unit: i64, limit: usize, shape: &Shape) -> &mut Sums {
        if self.tiers[j].buckets.back().is_some_and(|b| b.unit == unit) {
            return &mut self.tiers[j].buckets.back_mut().expect("a bucket").sums;
        }
        let buckets = &mut self.tiers[j].buckets;
        if buckets.len() == buckets.capacity() {
            // Grow by doubling, but never past the tier's span: a busy symbol holds exactly what it needs.
            let want = (buckets.len() * 2).clamp(4, limit.max(4));
            buckets.reserve_exact(want.saturating_sub(buckets.len()).max(1));
        }
        let p = if buckets.back().is_none_or(|b| b.unit < unit) {
            buckets.len()
        } else {
            buckets.partition_point(|b| b.unit < unit)
        };
        if buckets.get(p).is_none_or(|b| b.unit != unit) {
            buckets.insert(
                p,
                Bucket {
                    unit,
                    sums: Sums::default(),
                },
            );
            // Horizons of the tier that start after this step now begin one bucket later.
            for k in (0..self.first.len()).filter(|&k| shape.horizon_tier[k] == j) {
                if unit <= clock_unit - shape.horizon_units[k] {
                    self.first[k] += 1;
                }
            }
        }
        &mut self.tiers[j].buckets[p].sums
    }

    /// Moves tier `j`'s clock from step `old` to `new`: the bucket of `old` joins the totals, and every horizon of
    /// the tier drops the buckets that leave it.
    fn advance(&mut self, j: usize, old: i64, new: i64, shape: &Shape) {
        let buckets = &self.tiers[j].buckets;
        let left = buckets.back().filter(|b| b.unit == old).map(|b| b.sums);
        for k in (0..self.totals.len()).filter(|&k| shape.horizon_tier[k] == j) {
            let mut t = self.totals[k];
            if let Some(s) = &left {
                t.add(s);
            }
            self.first[k] = subtract_before(buckets, &mut t, self.first[k], new - shape.horizon_units[k] + 1);
            self.totals[k] = t;
        }
        let keep_from = new - shape.tier_span[j] + 1;
        let buckets = &mut self.tiers[j].buckets;
        let mut dropped = 0;
        while buckets.front().is_some_and(|b| b.unit < keep_from) {
            buckets.pop_front();
            dropped += 1;
        }
        for k in (0..self.first.len()).filter(|&k| shape.horizon_tier[k] == j) {
            self.first[k] -= dropped;
        }
    }

    /// Totals of horizon `k` for the window ending in the step of `now` (ms): the steps `(now − h, now]`. `None` if
    /// that window reaches before the retained buckets.
    pub fn sliding(&self, k: usize, now: i64, shape: &Shape) -> Option<Totals> {
        let (j, h) = (shape.horizon_tier[k], shape.horizon_units[k]);
        let step = shape.tier_step_ms[j];
        let Some(clock_unit) = self.clock_ms.map(|c| c.div_euclid(step)) else {
            return Some(Totals::default());
        };
        let buckets = &self.tiers[j].buckets;
        let now_unit = now.div_euclid(step);
        let start = now_unit - h + 1;
        if now_unit >= clock_unit {
            if start > clock_unit {
                return Some(Totals::default());
            }
            // The running totals with the clock's step, minus the buckets that left the window since.
            let mut t = self.totals[k];
            if let Some(b) = buckets.back().filter(|b| b.unit == clock_unit) {
                t.add(&b.sums);
            }
            subtract_before(buckets, &mut t, self.first[k], start);
            return Some(t);
        }
        if start <= clock_unit - shape.tier_span[j] {
            return None;
        }
        let mut sum = Totals::default();
        let from = buckets.partition_point(|b| b.unit < start);
        for b in buckets.range(from..).take_while(|b| b.unit <= now_unit) {
            sum.add(&b.sums);
        }
        Some(sum)
    }

    /// Windows from their parts (as a checkpoint holds them), with the horizons' running totals rebuilt from the
    /// buckets; `None` unless each tier's buckets are in order within its span back from the clock and there is one
    /// series per aligned interval.
    pub(super) fn from_parts(
        clock_ms: Option<i64>,
        tiers: Vec<Vec<Bucket>>,
        aligned: Vec<Aligned>,
        shape: &Shape,
    ) -> Option<Self> {
        if tiers.len() != shape.tier_step_ms.len() || aligned.len() != shape.intervals_ms.len() {
            return None;
        }
        for (j, buckets) in tiers.iter().enumerate() {
            let in_order = buckets.windows(2).all(|w| w[0].unit < w[1].unit);
            let in_span = match clock_ms.map(|c| c.div_euclid(shape.tier_step_ms[j])) {
                None => buckets.is_empty(),
                Some(c) => buckets.iter().all(|b| b.unit <= c && b.unit > c - shape.tier_span[j]),
            };
            if !(in_order && in_span) {
                return None;
            }
        }
        let mut w = Self {
            clock_ms,
            tiers: tiers.into_iter().map(|b| Tier { buckets: b.into() }).collect(),
            aligned,
            ..Self::new(shape)
        };
        if let Some(clock) = clock_ms {
            for k in 0..shape.horizon_units.len() {
                let j = shape.horizon_tier[k];
                let c = clock.div_euclid(shape.tier_step_ms[j]);
                let buckets = &w.tiers[j].buckets;
                w.first[k] = buckets.partition_point(|b| b.unit <= c - shape.horizon_units[k]);
                let mut t = Totals::default();
                for b in buckets.range(w.first[k]..).filter(|b| b.unit < c) {
                    t.add(&b.sums);
                }
                w.totals[k] = t;
            }
        }
        Some(w)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.tiers.capacity() * size_of::<Tier>()
            + self
                .tiers
                .iter()
                .map(|t| t.buckets.capacity() * size_of::<Bucket>())
                .sum::<usize>()
            + self.totals.capacity() * size_of::<Totals>()
            + self.first.capacity() * size_of::<usize>()
            + self.aligned.capacity() * size_of::<Aligned>()
            + self
                .aligned
                .iter()
                .map(|a| a.history.capacity() * size_of::<Interval>())
                .sum::<usize>()
    }
}

/// Subtracts from `t` the buckets from index `p` on that lie before step `start`; returns the first index left.
fn subtract_before(buckets: &VecDeque<Bucket>, t: &mut Totals, mut p: usize, start: i64) -> usize {
    while p < buckets.len() && buckets[p].unit < start {
        t.sub(&buckets[p].sums);
        p += 1;
    }
    p
}
