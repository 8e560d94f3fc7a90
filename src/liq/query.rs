//! Questions to the liquidation store: totals, bucketed series, clusters.
//!
//! Time ranges are half-open `[start, end)` in ms. A look-back `L` ending at `now` is the range
//! `[now − L + 1, now + 1)`: events with `now − L < time ≤ now`.

use super::cluster::Bin;
use super::log::{Sums, TotalsLog};
use super::{LiqError, Liquidations, Side};

/// Largest number of buckets one series may have.
pub const MAX_BUCKETS: i64 = 1_000_000;

/// One price cluster of a symbol at a query time.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Bin index on the log-price grid.
    pub bin: i64,
    /// Lower and upper price edges of the bin.
    pub price_low: f64,
    pub price_high: f64,
    /// Notional-weighted mean price of the bin's events.
    pub price: f64,
    /// Side with the larger decayed notional (ties: the larger exact notional, then long).
    pub side: Side,
    pub count: u64,
    pub count_long: u64,
    pub count_short: u64,
    /// Exact notional, e16 units, per side `[long, short]`.
    pub notional: [i128; 2],
    /// Decayed notional (quote units) per side `[long, short]`.
    pub decayed: [f64; 2],
    /// This bin's share of the symbol's decayed notional over all its bins, in [0, 1].
    pub strength: f64,
    /// `(price − mark) / mark × 100`, when a mark price is known.
    pub distance_pct: Option<f64>,
    /// Latest event time in the bin (ms).
    pub last_time: i64,
}

impl Cluster {
    pub fn total_notional(&self) -> i128 {
        self.notional[0] + self.notional[1]
    }

    pub fn total_decayed(&self) -> f64 {
        self.decayed[0] + self.decayed[1]
    }
}

/// What a cluster query needs besides the bin: the decay factor to `now`, the symbol's decayed total, the mark.
struct View {
    factor: f64,
    total: f64,
    mark: Option<f64>,
}

/// Side with the larger decayed notional; ties go to the larger exact notional, then long.
fn dominant(decayed: [f64; 2], b: &Bin) -> Side {
    let long_wins = match decayed[0].partial_cmp(&decayed[1]) {
        Some(std::cmp::Ordering::Greater) => true,
        Some(std::cmp::Ordering::Less) => false,
        _ => b.notional[0] >= b.notional[1],
    };
    if long_wins {
        Side::Long
    } else {
        Side::Short
    }
}

impl View {
    fn strength(&self, decayed: f64) -> f64 {
        if self.total > 0.0 {
            (decayed / self.total).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    fn cluster(&self, k: i64, b: &Bin) -> Cluster {
        let decayed = [b.scaled[0] * self.factor, b.scaled[1] * self.factor];
        let price = if b.weight > 0.0 {
            b.weighted_price / b.weight
        } else {
            b.low
        };
        Cluster {
            bin: k,
            price_low: b.low,
            price_high: b.high,
            price,
            side: dominant(decayed, b),
            count: b.total_count(),
            count_long: b.count[0],
            count_short: b.count[1],
            notional: b.notional,
            decayed,
            strength: self.strength(decayed[0] + decayed[1]),
            distance_pct: self.mark.map(|m| (price - m) / m * 100.0),
            last_time: b.last_time,
        }
    }
}

/// `[now − lookback + 1, now + 1)`.
pub fn lookback_range(now: i64, lookback_ms: i64) -> Result<(i64, i64), LiqError> {
    if lookback_ms <= 0 {
        return Err(LiqError::BadArgument(format!(
            "look-back must be positive, got {lookback_ms} ms"
        )));
    }
    Ok((now.saturating_sub(lookback_ms).saturating_add(1), now.saturating_add(1)))
}

impl Liquidations {
    fn log_of(&self, symbol: Option<&str>) -> Option<&TotalsLog> {
        match symbol {
            None => Some(&self.all),
            Some(s) => self.state(s).map(|st| &st.totals),
        }
    }

    /// Notional and count per side of `symbol` (all symbols when `None`) with `start <= time < end`. O(log n).
    /// A symbol never seen has zero sums.
    pub fn sums(&self, symbol: Option<&str>, start: i64, end: i64) -> Sums {
        self.log_of(symbol).map(|l| l.sum(start, end)).unwrap_or_default()
    }

    /// Bucketed series over `[start, end)`: buckets are aligned to multiples of `interval_ms` since the Unix epoch
    /// (UTC), and each counts its part of the range, so the first and last may be partial and the series sums to
    /// [`Self::sums`] of the range. Returns the bucket starts and their sums. O(buckets · log n).
    pub fn series(
        &self,
        symbol: Option<&str>,
        start: i64,
        end: i64,
        interval_ms: i64,
    ) -> Result<(Vec<i64>, Vec<Sums>), LiqError> {
        if interval_ms <= 0 {
            return Err(LiqError::BadArgument(format!(
                "interval must be positive, got {interval_ms} ms"
            )));
        }
        if end <= start {
            return Ok((Vec::new(), Vec::new()));
        }
        let first = start.div_euclid(interval_ms) * interval_ms;
        let n = (end - first + interval_ms - 1) / interval_ms;
        if n > MAX_BUCKETS {
            return Err(LiqError::BadArgument(format!(
                "{n} buckets is more than the limit of {MAX_BUCKETS}"
            )));
        }
        let log = self.log_of(symbol);
        let mut starts = Vec::with_capacity(n as usize);
        let mut sums = Vec::with_capacity(n as usize);
        for b in 0..n {
            let s = first + b * interval_ms;
            starts.push(s);
            sums.push(
                log.map(|l| l.sum(s.max(start), (s + interval_ms).min(end)))
                    .unwrap_or_default(),
            );
        }
        Ok((starts, sums))
    }

    /// Every bin of `symbol` holding at least `min_events` events, by price, decayed to `now` (default: the
    /// store's clock). Strength = the bin's decayed notional / the sum over all the symbol's bins.
    pub fn clusters(&self, symbol: &str, now: Option<i64>) -> Vec<Cluster> {
        let Some(view) = self.view(symbol, now) else {
            return Vec::new();
        };
        let st = self.state(symbol).expect("view implies state");
        let min = self.config.min_events;
        let mut out = Vec::with_capacity(st.bins.bins.len());
        out.extend(
            st.bins
                .bins
                .iter()
                .filter(|(_, b)| b.total_count() >= min)
                .map(|(&k, b)| view.cluster(k, b)),
        );
        out
    }

    /// The cluster with the largest decayed notional among those with `strength >= min_strength` and, if `side` is
    /// given, that dominant side. One pass over the bins, building only the answer.
    pub fn best_cluster(
        &self,
        symbol: &str,
        min_strength: f64,
        side: Option<Side>,
        now: Option<i64>,
    ) -> Option<Cluster> {
        let view = self.view(symbol, now)?;
        let st = self.state(symbol)?;
        let min = self.config.min_events;
        let mut best: Option<(f64, i64, &Bin)> = None;
        for (&k, b) in &st.bins.bins {
            if b.total_count() < min {
                continue;
            }
            let d = [b.scaled[0] * view.factor, b.scaled[1] * view.factor];
            let total = d[0] + d[1];
            if view.strength(total) < min_strength || side.is_some_and(|s| dominant(d, b) != s) {
                continue;
            }
            if best.is_none_or(|(t, _, _)| total > t) {
                best = Some((total, k, b));
            }
        }
        best.map(|(_, k, b)| view.cluster(k, b))
    }

    fn view(&self, symbol: &str, now: Option<i64>) -> Option<View> {
        let st = self.state(symbol)?;
        let now = now.or(self.clock)?;
        let factor = st.bins.factor(now, self.config.tau_ms);
        let total = st.bins.bins.values().map(|b| b.scaled[0] + b.scaled[1]).sum::<f64>() * factor;
        Some(View {
            factor,
            total,
            mark: st.mark.map(|(p, _)| p as f64 / 1e8),
        })
    }

    /// Decayed notional (quote units) of `symbol` at `now` per side, over all bins.
    pub fn decayed_total(&self, symbol: &str, now: i64) -> [f64; 2] {
        let Some(st) = self.state(symbol) else {
            return [0.0; 2];
        };
        let f = st.bins.factor(now, self.config.tau_ms);
        st.bins
            .bins
            .values()
            .fold([0.0; 2], |acc, b| [acc[0] + b.scaled[0] * f, acc[1] + b.scaled[1] * f])
    }

    /// Exact notional per side kept in `symbol`'s bins (equals its total over the retention).
    pub fn binned_notional(&self, symbol: &str) -> [i128; 2] {
        let Some(st) = self.state(symbol) else {
            return [0; 2];
        };
        st.bins
            .bins
            .values()
            .fold([0; 2], |acc, b| [acc[0] + b.notional[0], acc[1] + b.notional[1]])
    }
}
