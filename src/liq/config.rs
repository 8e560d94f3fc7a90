//! Settings of the liquidation store: retention, cluster bin width, decay, minimum cluster size.

use super::LiqError;

/// Settings of the store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiqConfig {
    /// Events older than the newest event time minus this are dropped (ms).
    pub retention_ms: i64,
    /// Cluster bin width, percent of price (0.25 = 0.25 %).
    pub bin_pct: f64,
    /// Decay time constant τ (ms); the half-life is τ·ln 2.
    pub tau_ms: f64,
    /// A bin is reported as a cluster once it holds at least this many events.
    pub min_events: u64,
}

impl Default for LiqConfig {
    fn default() -> Self {
        Self {
            retention_ms: 240 * 3_600_000,
            bin_pct: 0.25,
            tau_ms: 3_600_000.0,
            min_events: 2,
        }
    }
}

impl LiqConfig {
    pub(crate) fn log_step(&self) -> f64 {
        (self.bin_pct / 100.0).ln_1p()
    }

    pub(super) fn validate(&self) -> Result<(), LiqError> {
        let bad = |m: String| Err(LiqError::BadArgument(m));
        if self.retention_ms <= 0 {
            return bad(format!("retention must be positive, got {} ms", self.retention_ms));
        }
        if !(self.bin_pct.is_finite() && self.bin_pct > 0.0 && self.bin_pct <= 100.0) {
            return bad(format!(
                "bin width must be within (0, 100] percent, got {}",
                self.bin_pct
            ));
        }
        if !(self.tau_ms.is_finite() && self.tau_ms >= 1.0) {
            return bad(format!("time constant must be at least 1 ms, got {}", self.tau_ms));
        }
        if self.min_events == 0 {
            return bad("min_events must be at least 1".into());
        }
        Ok(())
    }
}
