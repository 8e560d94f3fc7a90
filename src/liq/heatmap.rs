//! A price × time grid of liquidated notional per side, ready to plot.

use super::cluster::{bin_edge, bin_index};
use super::{LiqError, Liquidations};
use crate::num::e16_to_f64;

/// Largest number of cells one heatmap may have (2 sides × price bins × time bins).
pub const MAX_CELLS: i64 = 50_000_000;

/// Liquidated notional (quote units) on a log-price × time grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// `[side][price bin][time bin]`, flattened row-major; side 0 = long, 1 = short.
    pub grid: Vec<f64>,
    pub n_price: usize,
    pub n_time: usize,
    /// `n_price + 1` price edges, ascending; bin `i` is `[edges[i], edges[i+1])`.
    pub price_edges: Vec<f64>,
    /// Start (ms, aligned to multiples of the interval since the epoch) of each time bin.
    pub time_starts: Vec<i64>,
}

impl Liquidations {
    /// Heatmap of `symbol` over `[start, end)` with time bins of `interval_ms` (aligned like [`Self::series`]) and
    /// price bins of `bin_pct` percent on the log grid (default: the cluster bin width). The price axis spans the
    /// bins that hold an event. Each cell is the exact sum of its events, converted to `f64` once.
    pub fn heatmap(
        &self,
        symbol: &str,
        start: i64,
        end: i64,
        interval_ms: i64,
        bin_pct: Option<f64>,
    ) -> Result<Heatmap, LiqError> {
        if interval_ms <= 0 {
            return Err(LiqError::BadArgument(format!(
                "interval must be positive, got {interval_ms} ms"
            )));
        }
        let pct = bin_pct.unwrap_or(self.config.bin_pct);
        if !(pct.is_finite() && pct > 0.0 && pct <= 100.0) {
            return Err(LiqError::BadArgument(format!(
                "bin width must be within (0, 100] percent, got {pct}"
            )));
        }
        let step = (pct / 100.0).ln_1p();
        let empty = Heatmap {
            grid: Vec::new(),
            n_price: 0,
            n_time: 0,
            price_edges: Vec::new(),
            time_starts: Vec::new(),
        };
        if end <= start {
            return Ok(empty);
        }
        let first = start.div_euclid(interval_ms) * interval_ms;
        let n_time = (end - first + interval_ms - 1) / interval_ms;
        if n_time > super::query::MAX_BUCKETS {
            return Err(LiqError::BadArgument(format!(
                "{n_time} time bins is more than {}",
                super::query::MAX_BUCKETS
            )));
        }
        let events: Vec<_> = match self.state(symbol) {
            Some(st) => {
                let (lo, hi) = st.totals.range(start, end);
                st.events.range(lo..hi).collect()
            }
            None => Vec::new(),
        };
        let bins: Vec<i64> = events.iter().map(|e| bin_index(e.price, step)).collect();
        let (Some(&kmin), Some(&kmax)) = (bins.iter().min(), bins.iter().max()) else {
            let time_starts = (0..n_time).map(|b| first + b * interval_ms).collect();
            return Ok(Heatmap {
                n_time: n_time as usize,
                time_starts,
                ..empty
            });
        };
        let n_price = kmax - kmin + 1;
        if 2 * n_price.saturating_mul(n_time) > MAX_CELLS {
            return Err(LiqError::BadArgument(format!(
                "{n_price} price bins x {n_time} time bins x 2 sides is more than {MAX_CELLS} cells"
            )));
        }
        let (np, nt) = (n_price as usize, n_time as usize);
        let mut exact = vec![0i128; 2 * np * nt];
        for (e, &k) in events.iter().zip(&bins) {
            let t = ((e.time - first) / interval_ms) as usize;
            let p = (k - kmin) as usize;
            exact[(e.side as usize * np + p) * nt + t] += e.notional;
        }
        Ok(Heatmap {
            grid: exact.into_iter().map(e16_to_f64).collect(),
            n_price: np,
            n_time: nt,
            price_edges: (kmin..=kmax + 1).map(|k| bin_edge(k, step)).collect(),
            time_starts: (0..n_time).map(|b| first + b * interval_ms).collect(),
        })
    }
}
