//! Price clusters of liquidations with exponential time decay.
//!
//! Prices fall into bins of a log-price grid: bin `k` holds prices in `[(1+w)^k, (1+w)^(k+1))` where `w` is the
//! bin width as a fraction (0.25 % → 0.0025). The bin of a price depends on the price alone, never on which events
//! came first.
//!
//! Decay: an event of notional `n` at time `t` weighs `n · exp(−(now − t)/τ)` at time `now`. Each bin keeps, per side,
//! `V = Σ n_i · exp((t_i − anchor)/τ)` against one anchor time shared by the symbol's bins, so that adding an event
//! is one `exp` (O(1)) and a query multiplies every bin by the same factor `exp(−(now − anchor)/τ)`. `V` grows with
//! `exp((t − anchor)/τ)`; before that exponent passes [`REANCHOR_AT`] every bin is rescaled to a new anchor (one
//! pass over the bins, rare), so nothing overflows. Bins that decay below `f64::MIN_POSITIVE` become 0.

use std::collections::BTreeMap;

use super::Liquidation;
use crate::num::NOTIONAL_ONE;

/// Largest exponent `(t − anchor)/τ` kept before re-anchoring: `exp(300)` ≈ 1.9e130 leaves room for notionals up
/// to 1e170 before `f64` overflows.
const REANCHOR_AT: f64 = 300.0;

/// One price bin of a symbol.
#[derive(Debug, Clone, Default)]
pub struct Bin {
    pub count: [u64; 2],
    /// Exact notional per side, e16 units.
    pub notional: [i128; 2],
    /// Anchored decayed notional per side (quote units); see the module docs.
    pub scaled: [f64; 2],
    /// Σ notional × price (quote units × price), for the notional-weighted price level.
    pub weighted_price: f64,
    /// Σ notional (quote units) matching `weighted_price`.
    pub weight: f64,
    /// Latest event time in the bin (ms).
    pub last_time: i64,
    /// Price edges of the bin, computed once when it is created.
    pub low: f64,
    pub high: f64,
}

impl Bin {
    pub fn total_count(&self) -> u64 {
        self.count[0] + self.count[1]
    }
}

/// The bins of one symbol.
#[derive(Debug, Clone, Default)]
pub struct Bins {
    pub bins: BTreeMap<i64, Bin>,
    /// Anchor time (ms) of every bin's `scaled` values.
    pub anchor: Option<i64>,
}

/// Bin index of a price (e8 units) on the log grid with `log_step = ln(1 + w)`.
pub fn bin_index(price_e8: i64, log_step: f64) -> i64 {
    let p = price_e8 as f64 / 1e8;
    (p.ln() / log_step).floor() as i64
}

/// Lower edge of bin `k`.
pub fn bin_edge(k: i64, log_step: f64) -> f64 {
    (k as f64 * log_step).exp()
}

/// The notional as a float for the decayed weights: rounded twice, which is immaterial there (the decay factor is
/// inexact). Figures shown go through [`crate::num::e16_to_f64`], the nearest float to the exact value.
pub fn weight_quote(notional_e16: i128) -> f64 {
    notional_e16 as f64 / NOTIONAL_ONE as f64
}

impl Bins {
    /// Adds (`sign = 1`) or removes (`sign = -1`) one event, on the grid of step `log_step`.
    pub fn add(&mut self, event: &Liquidation, log_step: f64, tau_ms: f64, sign: i8) {
        let k = bin_index(event.price, log_step);
        let Liquidation {
            time,
            side,
            price,
            notional,
            ..
        } = *event;
        let anchor = *self.anchor.get_or_insert(time);
        if sign > 0 && (time - anchor) as f64 / tau_ms > REANCHOR_AT {
            self.reanchor(time, tau_ms);
        }
        let anchor = self.anchor.unwrap_or(time);
        let quote = weight_quote(notional);
        let weight = quote * ((time - anchor) as f64 / tau_ms).exp();
        let s = side as usize;
        let price = price as f64 / 1e8;
        if sign > 0 {
            let bin = self.bins.entry(k).or_insert_with(|| Bin {
                low: bin_edge(k, log_step),
                high: bin_edge(k + 1, log_step),
                ..Bin::default()
            });
            bin.count[s] += 1;
            bin.notional[s] += notional;
            bin.scaled[s] += weight;
            bin.weighted_price += quote * price;
            bin.weight += quote;
            bin.last_time = bin.last_time.max(time);
        } else if let Some(bin) = self.bins.get_mut(&k) {
            bin.count[s] = bin.count[s].saturating_sub(1);
            bin.notional[s] -= notional;
            bin.scaled[s] = (bin.scaled[s] - weight).max(0.0);
            bin.weighted_price -= quote * price;
            bin.weight -= quote;
            if bin.total_count() == 0 {
                self.bins.remove(&k);
            }
        }
    }

    /// Moves the anchor to `time`, rescaling every bin.
    fn reanchor(&mut self, time: i64, tau_ms: f64) {
        let anchor = self.anchor.unwrap_or(time);
        let f = (-((time - anchor) as f64) / tau_ms).exp();
        for bin in self.bins.values_mut() {
            bin.scaled[0] *= f;
            bin.scaled[1] *= f;
        }
        self.anchor = Some(time);
    }

    /// The factor turning `scaled` values into decayed notionals at `now`.
    pub fn factor(&self, now: i64, tau_ms: f64) -> f64 {
        let anchor = self.anchor.unwrap_or(now);
        // A query earlier than the anchor extrapolates backwards; clamp so it cannot reach infinity.
        (((anchor - now) as f64 / tau_ms).min(REANCHOR_AT)).exp()
    }
}
