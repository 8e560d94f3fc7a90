//! Settings of the flow windows: horizons, aligned intervals, history and big-trade thresholds; duration names.

use super::sums::MAX_BIG;
use super::window::Shape;

/// Why a query or a setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("{0}")]
    BadArgument(String),
    #[error("unknown symbol {0:?}")]
    UnknownSymbol(String),
}

pub(super) fn bad<T>(m: String) -> Result<T, FlowError> {
    Err(FlowError::BadArgument(m))
}

/// Parses a duration such as `"30s"`, `"15m"`, `"4h"`, `"1d"` into ms.
pub fn parse_duration(s: &str) -> Result<i64, FlowError> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| FlowError::BadArgument(format!("bad duration {s:?}: expected e.g. '15m'")))?;
    let unit_ms = match unit {
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return bad(format!("bad duration {s:?}: the unit must be s, m, h or d")),
    };
    match n.checked_mul(unit_ms) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => bad(format!("bad duration {s:?}")),
    }
}

/// Formats ms as the shortest duration name (`900000` → `"15m"`).
pub fn duration_name(ms: i64) -> String {
    for (unit, len) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)] {
        if ms % len == 0 {
            return format!("{}{unit}", ms / len);
        }
    }
    format!("{}s", ms / 1000)
}

/// Which window a query asks for: a sliding horizon or an aligned interval (index into the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Sliding(usize),
    Aligned(usize),
}

/// Settings of the flow windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowConfig {
    /// Sliding horizons (ms, whole seconds).
    pub horizons_ms: Vec<i64>,
    /// Aligned intervals (ms, whole seconds, dividing a day).
    pub intervals_ms: Vec<i64>,
    /// Completed aligned intervals kept per interval.
    pub history: usize,
    /// Big-trade thresholds (quote units, e16), at most [`MAX_BIG`].
    pub big_e16: Vec<i128>,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            horizons_ms: vec![60_000, 300_000, 900_000, 3_600_000, 14_400_000],
            intervals_ms: vec![60_000, 300_000, 900_000, 3_600_000],
            history: 60,
            big_e16: Vec::new(),
        }
    }
}

impl FlowConfig {
    pub(super) fn validate(&mut self) -> Result<(), FlowError> {
        for &h in &self.horizons_ms {
            if h <= 0 || h % 1000 != 0 || h > 7 * 86_400_000 {
                return bad(format!("horizon {h} ms must be whole seconds, at most 7 days"));
            }
        }
        for &i in &self.intervals_ms {
            if i <= 0 || i % 1000 != 0 || 86_400_000 % i != 0 {
                return bad(format!("interval {i} ms must be whole seconds and divide a day"));
            }
        }
        for list in [&self.horizons_ms, &self.intervals_ms] {
            if let Some(w) = list
                .iter()
                .enumerate()
                .find_map(|(k, w)| list[..k].contains(w).then_some(w))
            {
                return bad(format!("duplicate window of {w} ms"));
            }
        }
        if self.history == 0 || self.history > 100_000 {
            return bad(format!("history must be within 1..=100000, got {}", self.history));
        }
        if self.big_e16.len() > MAX_BIG {
            return bad(format!("at most {MAX_BIG} big-trade thresholds"));
        }
        if self.big_e16.iter().any(|&b| b <= 0) {
            return bad("big-trade thresholds must be positive".into());
        }
        self.big_e16.sort_unstable();
        Ok(())
    }

    pub(super) fn retention_ms(&self) -> i64 {
        let aligned = self
            .intervals_ms
            .iter()
            .max()
            .map_or(0, |&i| i * (self.history as i64 + 1));
        self.horizons_ms.iter().copied().max().unwrap_or(0).max(aligned)
    }
}

pub(super) fn shape_of(c: &FlowConfig) -> Shape {
    Shape::new(&c.horizons_ms, &c.intervals_ms, c.history)
}
