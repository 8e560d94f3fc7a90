//! Window queries: a symbol's sliding window or aligned interval at a time, every symbol's at once, and candles.

use super::config::{bad, duration_name, parse_duration};
use super::{Flow, FlowError, Interval, SymbolFlow, Totals, Window};
use crate::num;

/// The result of a window query, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Volume {
    pub totals: Totals,
    /// COIN-M contract size used for the quote volume (e8 USD), `None` elsewhere.
    pub contract_size: Option<i64>,
    /// The window holds trade times `[start_ms, end_ms)`.
    pub start_ms: i64,
    pub end_ms: i64,
    /// The `now` the window was evaluated at (ms).
    pub as_of: i64,
    /// Every trade of the window is known: trades are covered from before its start, no missing id range can fall
    /// inside it, and no check of the symbol's trades is pending.
    pub complete: bool,
    /// An abandoned id range (ids the exchange no longer serves) can fall inside the window.
    pub abandoned: bool,
    /// A check of the symbol's trades is pending (see [`Flow::begin_check`]): the window is not complete meanwhile.
    pub checking: bool,
}

impl Volume {
    /// Taker-buy and taker-sell quote volume (e16 units): notional, or contracts × contract size on COIN-M.
    pub fn quote(&self) -> (i128, i128) {
        match self.contract_size {
            Some(cs) => (
                self.totals.buy_base * i128::from(cs),
                self.totals.sell_base * i128::from(cs),
            ),
            None => (self.totals.buy_notional, self.totals.sell_notional),
        }
    }

    /// Volume-weighted average price (float), NaN without trades.
    pub fn vwap(&self) -> f64 {
        let base = self.totals.buy_base + self.totals.sell_base;
        if base == 0 {
            return f64::NAN;
        }
        num::e16_to_f64(self.totals.buy_notional + self.totals.sell_notional) / num::e8_wide_to_f64(base)
    }
}

/// One closed aligned interval of one symbol (see [`Flow::closed_intervals`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedInterval {
    /// The symbol's slot (index into [`Flow::symbols`]).
    pub slot: usize,
    pub volume: Volume,
    /// First and last aggregate trade ids counted in the interval; `None` without trades.
    pub ids: Option<(u64, u64)>,
}

/// How far past the engine's heard-until clock a window may reach and still be complete (ms): the lag of a live
/// feed, and the span a caller's clock may run ahead of the exchange's.
pub const GRACE_MS: i64 = 60_000;

/// `(complete, abandoned)` of the time range `[a, b)` ms for one symbol, as known up to `reach` (ms, inclusive),
/// with the engine's heard-until clock `heard`.
fn status(s: &SymbolFlow, a: i64, b: i64, reach: i64, heard: Option<i64>) -> (bool, bool) {
    let covered = s.coverage.is_some_and(|c| c <= a);
    let (open, abandoned) = s.ledger.overlap(a, b);
    // Nothing is known of the time after the newest event heard: a window reaching well past it is not complete.
    let heard = heard.is_some_and(|h| reach <= h.saturating_add(GRACE_MS));
    (covered && heard && !open && !abandoned && s.checks == 0, abandoned)
}

impl Flow {
    /// Parses `"15m"` (a configured horizon) or `"15m@aligned"` (a configured interval).
    pub fn parse_window(&self, name: &str) -> Result<Window, FlowError> {
        let (base, aligned) = match name.strip_suffix("@aligned") {
            Some(b) => (b, true),
            None => (name, false),
        };
        let ms = parse_duration(base)?;
        let (list, kind) = if aligned {
            (&self.config.intervals_ms, "aligned intervals")
        } else {
            (&self.config.horizons_ms, "horizons")
        };
        match list.iter().position(|&x| x == ms) {
            Some(k) if aligned => Ok(Window::Aligned(k)),
            Some(k) => Ok(Window::Sliding(k)),
            None => {
                let names: Vec<String> = list.iter().map(|&x| duration_name(x)).collect();
                bad(format!(
                    "window {name:?} is not configured; {kind}: {}",
                    names.join(", ")
                ))
            }
        }
    }

    fn volume_at(&self, i: usize, window: Window, now: i64) -> Result<Volume, FlowError> {
        let s = &self.states[i];
        let (totals, start, end) = match window {
            Window::Sliding(k) => {
                let step = self.shape.edge_ms(k);
                let end = (now.div_euclid(step) + 1) * step;
                let start = end - self.config.horizons_ms[k];
                let totals = s.windows.sliding(k, now, &self.shape).ok_or_else(|| {
                    FlowError::BadArgument(format!(
                        "the window ending at {now} reaches before the retained trades of {}",
                        self.symbols[i]
                    ))
                })?;
                (totals, start, end)
            }
            Window::Aligned(k) => {
                let interval = self.config.intervals_ms[k];
                let start = now - now.rem_euclid(interval);
                let iv = s.windows.aligned[k].at(start, interval).ok_or_else(|| {
                    FlowError::BadArgument(format!(
                        "the interval starting at {start} is older than the kept history of {}",
                        self.symbols[i]
                    ))
                })?;
                (Totals::of(&iv.sums), start, start + interval)
            }
        };
        Ok(self.volume_of(s, totals, start, end, now))
    }

    /// A window's answer: its totals and span, and whether every trade in the span is known.
    fn volume_of(&self, s: &SymbolFlow, totals: Totals, start: i64, end: i64, as_of: i64) -> Volume {
        // A window vouches for its trades up to its evaluation time, or its end if that comes first.
        let reach = as_of.min(end - 1);
        let (complete, abandoned) = status(s, start, end, reach, self.heard);
        Volume {
            totals,
            contract_size: self.coin_m.then_some(s.contract_size),
            start_ms: start,
            end_ms: end,
            as_of,
            complete,
            abandoned,
            checking: s.checks > 0,
        }
    }

    /// One symbol's window at `now` (default: the engine clock).
    pub fn volume(&self, symbol: &str, window: Window, now: Option<i64>) -> Result<Volume, FlowError> {
        let i = self.index_of(symbol)?;
        self.volume_at(i, window, now.or(self.clock).unwrap_or(0))
    }

    /// Every symbol's window at `now` (default: the engine clock), in the order of [`Flow::symbols`].
    pub fn volumes(&self, window: Window, now: Option<i64>) -> Result<Vec<Volume>, FlowError> {
        let now = now.or(self.clock).unwrap_or(0);
        (0..self.states.len()).map(|i| self.volume_at(i, window, now)).collect()
    }

    /// The completed and current intervals of aligned interval `k`, oldest first (the last `count` if given).
    pub fn candles(&self, symbol: &str, k: usize, count: Option<usize>) -> Result<Vec<Volume>, FlowError> {
        let state = &self.states[self.index_of(symbol)?];
        let interval = self.config.intervals_ms[k];
        let rows: Vec<(i64, &Interval)> = state.windows.aligned[k].rows(interval).collect();
        let skip = rows.len() - count.unwrap_or(rows.len()).min(rows.len());
        Ok(rows[skip..]
            .iter()
            .map(|&(start, iv)| self.candle(state, start, iv, interval))
            .collect())
    }

    /// One aligned interval as a candle: its sums, complete once every trade before its end is proven counted.
    fn candle(&self, s: &SymbolFlow, start: i64, iv: &Interval, interval: i64) -> Volume {
        let end = start + interval;
        let mut candle = self.volume_of(s, Totals::of(&iv.sums), start, end, end);
        candle.complete &= self.delivered(s, end);
        candle
    }

    /// Whether every trade of the symbol with a time before `end` (ms) has reached the engine (counted, or in a known
    /// hole): a counted trade is timed at or after `end` (ids grow with time, so every trade before it has a lower
    /// id), or the stream that delivered the symbol's newest trade vouches for its trades before `end`
    /// ([`super::Streams::vouches`]). Another stream's events, however new, prove nothing of this symbol's trades.
    fn delivered(&self, s: &SymbolFlow, end: i64) -> bool {
        s.ledger.newest_time().is_some_and(|t| t >= end) || s.stream.is_some_and(|k| self.streams.vouches(k, end))
    }

    /// Every symbol's kept intervals of aligned interval `k` that start at or after `since_ms` and have ended by the
    /// engine's heard-until clock ([`Flow::heard`]): `(symbol slot, candle, (first_id, last_id))`, by symbol, oldest
    /// first. The same values as [`Flow::candles`].
    pub fn closed_intervals(&self, k: usize, since_ms: i64) -> Vec<ClosedInterval> {
        let interval = self.config.intervals_ms[k];
        let Some(heard) = self.heard else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, state) in self.states.iter().enumerate() {
            for (start, iv) in state.windows.aligned[k].rows(interval) {
                if start >= since_ms && start + interval <= heard {
                    out.push(ClosedInterval {
                        slot: i,
                        volume: self.candle(state, start, iv, interval),
                        ids: iv.ids(),
                    });
                }
            }
        }
        out
    }
}
