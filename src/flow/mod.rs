//! Taker buy/sell flow: exact sliding and UTC-aligned windows per symbol, idempotent by aggregate trade id, with
//! gap detection.
//!
//! **Input.** `aggTrade` events (WebSocket) and REST `aggTrades` rows. Each aggregate trade id counts once per
//! symbol, however often it arrives. `m == false` is a taker buy, `m == true` a taker sell.
//!
//! **Sliding windows** ("15m") slide by event time `T` at one-second resolution: the window of horizon `H` at time
//! `now` holds the trades whose second `T / 1000` lies in `(now/1000 − H/1000, now/1000]`, i.e. trade times in
//! `[start_ms, end_ms)` with `end_ms = (now/1000 + 1)·1000` and `start_ms = end_ms − H`. `now` defaults to the
//! engine's clock, the newest trade time counted for any symbol.
//!
//! **Aligned intervals** ("15m@aligned") are UTC-aligned like Binance klines: `[start, start + I)` with
//! `start = T − T mod I`. The current interval and the `history` intervals before it are kept per symbol.
//!
//! **Numbers.** Base quantities are summed in e8 units and notionals (price × quantity) in e16 units, in `i128`:
//! exact, and subtraction at the sliding edge never drifts. Quote volume is the notional on spot and USD-M. On
//! COIN-M, `q` counts contracts of a fixed USD size, so base volume is in contracts and quote volume is the USD
//! value `contracts × contract size` (100 USD for BTC contracts, 10 USD for the others unless set); VWAP is then
//! contract-weighted, Σ price × contracts / Σ contracts. (Binance's COIN-M kline `q` is the coin volume
//! Σ contracts × size / price, which is not an exact decimal and is not computed here.)
//!
//! **Completeness.** Ids are consecutive per symbol. A trade beyond the last counted id + 1 opens a hole
//! `(from_id, to_id)`, reported once as a [`crate::engine::Action::TradeGap`]. A missing trade happened between
//! its neighbours' trade times, so a window (or interval) `[a, b)` is `complete` when the symbol's coverage starts
//! at or before `a` (the first counted trade's time + 1 ms, or the `from_time` of a start-time backfill) and no hole
//! overlaps it. Filling the ids makes it complete again; a hole marked abandoned makes it say `abandoned`.
//!
//! **Late data.** A trade older than the clock lands in every window and interval that covers its `T`. Trades older
//! than the retention (the longest horizon, or the longest interval × (history + 1)) are counted as `expired`.

mod ledger;
mod sums;
mod window;

pub use ledger::{Hole, Insert, Ledger, Span};
pub use sums::{Fill, Sums, Totals, MAX_BIG};
pub use window::{Aligned, Bucket, Shape, Windows};

use crate::symbols::SymbolIndex;

use crate::book::Market;
use crate::decode::{AggTrade, Symbol};
use crate::engine::Action;
use crate::num;

/// A trade whose notional or quote value reaches this (1e14 quote units, e16) is refused as `overflow`: with it
/// no window of fewer than 10^8 such trades can overflow `i128`.
pub const MAX_TRADE_E16: i128 = 100_000_000_000_000 * num::NOTIONAL_ONE;

/// Why a query or a setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("{0}")]
    BadArgument(String),
    #[error("unknown symbol {0:?}")]
    UnknownSymbol(String),
}

fn bad<T>(m: String) -> Result<T, FlowError> {
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
    fn validate(&mut self) -> Result<(), FlowError> {
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

    fn retention_ms(&self) -> i64 {
        let aligned = self
            .intervals_ms
            .iter()
            .max()
            .map_or(0, |&i| i * (self.history as i64 + 1));
        self.horizons_ms.iter().copied().max().unwrap_or(0).max(aligned)
    }
}

/// Counters of what the flow engine counted and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Aggregate trades counted (first arrival of each id).
    pub aggtrades: u64,
    /// Arrivals of an id counted before.
    pub duplicates: u64,
    /// Counted trades older than their symbol's newest trade.
    pub late: u64,
    /// Trades older than the retention: not counted.
    pub expired: u64,
    /// Trades with an implausible notional (see [`MAX_TRADE_E16`]): not counted.
    pub overflow: u64,
    /// Holes opened (each reported once as a trade gap).
    pub gaps: u64,
    /// Holes closed completely by later trades.
    pub gaps_filled: u64,
    /// Trades counted whose quote value reached the smallest big-trade threshold.
    pub big_trades: u64,
    /// `trade` events of type MARKET (or spot trades).
    pub trades_market: u64,
    /// `trade` events of another type (`INSURANCE_FUND`, `ADL`, `NA`, unknown): not market flow.
    pub trades_other: u64,
    pub klines: u64,
    pub rest_bodies: u64,
    pub rest_trades: u64,
}

/// One symbol's flow state.
#[derive(Debug, Clone)]
pub struct SymbolFlow {
    pub windows: Windows,
    pub ledger: Ledger,
    /// Trades are known complete from this time (ms) on, gaps aside; `None` before the first trade.
    pub coverage: Option<i64>,
    /// COIN-M contract size (e8 USD).
    pub contract_size: i64,
}

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
    pub complete: bool,
    pub abandoned: bool,
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

/// `(complete, abandoned)` of the time range `[a, b)` ms for one symbol.
fn status(s: &SymbolFlow, a: i64, b: i64) -> (bool, bool) {
    let covered = s.coverage.is_some_and(|c| c <= a);
    let (open, abandoned) = s.ledger.overlap(a, b);
    (covered && !open && !abandoned, abandoned)
}

/// The flow engine of one market.
#[derive(Debug, Clone)]
pub struct Flow {
    config: FlowConfig,
    shape: Shape,
    retention_ms: i64,
    coin_m: bool,
    symbols: SymbolIndex,
    states: Vec<SymbolFlow>,
    /// Newest trade time counted for any symbol (ms).
    clock: Option<i64>,
    pub stats: FlowStats,
}

fn shape_of(c: &FlowConfig) -> Shape {
    let horizons_s: Vec<i64> = c.horizons_ms.iter().map(|h| h / 1000).collect();
    Shape {
        max_horizon_s: horizons_s.iter().copied().max().unwrap_or(0),
        horizons_s,
        intervals_ms: c.intervals_ms.clone(),
        history: c.history,
    }
}

/// Binance's COIN-M contract sizes: 100 USD for BTC contracts, 10 USD for the others (e8 units).
pub fn default_contract_size(symbol: &str) -> i64 {
    if symbol.starts_with("BTCUSD") {
        100 * num::ONE
    } else {
        10 * num::ONE
    }
}

impl Flow {
    pub fn new(market: Market) -> Self {
        let config = FlowConfig::default();
        Self {
            shape: shape_of(&config),
            retention_ms: config.retention_ms(),
            config,
            coin_m: market == Market::CoinM,
            symbols: SymbolIndex::default(),
            states: Vec::new(),
            clock: None,
            stats: FlowStats::default(),
        }
    }

    /// Replaces the settings; every symbol's flow state is discarded.
    pub fn configure(&mut self, mut config: FlowConfig) -> Result<(), FlowError> {
        config.validate()?;
        self.shape = shape_of(&config);
        self.retention_ms = config.retention_ms();
        self.config = config;
        self.symbols.clear();
        self.states.clear();
        self.clock = None;
        self.stats = FlowStats::default();
        Ok(())
    }

    pub fn config(&self) -> &FlowConfig {
        &self.config
    }

    /// Newest trade time counted for any symbol (ms).
    pub fn clock(&self) -> Option<i64> {
        self.clock
    }

    /// Symbols with flow state, in order of first appearance.
    pub fn symbols(&self) -> &[Symbol] {
        self.symbols.names()
    }

    pub fn state(&self, symbol: &str) -> Option<&SymbolFlow> {
        self.symbols.get(symbol).map(|i| &self.states[i])
    }

    fn slot(&mut self, symbol: &str) -> usize {
        let (i, new) = self.symbols.slot(symbol);
        if new {
            self.states.push(SymbolFlow {
                windows: Windows::new(&self.shape),
                ledger: Ledger::default(),
                coverage: None,
                contract_size: default_contract_size(symbol),
            });
        }
        i
    }

    /// Creates `symbol`'s flow state before its first trade (zero volume, incomplete until trades arrive).
    pub fn track(&mut self, symbol: &str) {
        self.slot(symbol);
    }

    /// Sets a COIN-M contract size (e8 USD) for `symbol`; quote volumes use it from now on.
    pub fn set_contract_size(&mut self, symbol: &str, size: i64) -> Result<(), FlowError> {
        if size <= 0 {
            return bad(format!("contract size must be positive, got {size}"));
        }
        let i = self.slot(symbol);
        self.states[i].contract_size = size;
        Ok(())
    }

    /// Counts one aggregate trade of `t.symbol` (a no-op for an id counted before).
    #[inline]
    pub fn apply(&mut self, t: &AggTrade, actions: &mut Vec<Action>) {
        let i = self.slot(&t.symbol);
        self.apply_at(i, t, actions);
    }

    fn apply_at(&mut self, i: usize, t: &AggTrade, actions: &mut Vec<Action>) {
        let state = &mut self.states[i];
        let clock = state.windows.clock_ms;
        if clock.is_some_and(|c| t.time < c - self.retention_ms) {
            self.stats.expired += 1;
            return;
        }
        let notional = num::notional(t.price, t.qty);
        let quote = if self.coin_m {
            num::notional(t.qty, state.contract_size)
        } else {
            notional
        };
        if notional >= MAX_TRADE_E16 || quote >= MAX_TRADE_E16 {
            self.stats.overflow += 1;
            return;
        }
        match state.ledger.insert(t.id, t.time) {
            Insert::Duplicate => {
                self.stats.duplicates += 1;
                return;
            }
            Insert::New { gap, filled, below } => {
                if let Some((from_id, to_id)) = gap {
                    self.stats.gaps += 1;
                    actions.push(Action::TradeGap {
                        symbol: self.symbols[i].clone(),
                        from_id,
                        to_id,
                    });
                }
                self.stats.gaps_filled += u64::from(filled);
                if below {
                    // Ids grow with time: trades after this one's time are either counted or in a known hole.
                    let from = t.time + 1;
                    state.coverage = Some(state.coverage.map_or(from, |c| c.min(from)));
                }
            }
        }
        self.stats.aggtrades += 1;
        if clock.is_some_and(|c| t.time < c) {
            self.stats.late += 1;
        }
        let big = self.config.big_e16.iter().take_while(|&&b| quote >= b).count();
        let fill = Fill {
            base: t.qty,
            notional,
            buy: t.taker_buy(),
            big,
        };
        if state.windows.add(t.time, &fill, &self.shape) {
            let t_min = state.windows.clock_ms.unwrap_or(t.time) - self.retention_ms;
            if let Some(floor) = state.ledger.prune(t_min) {
                state.coverage = Some(state.coverage.map_or(floor, |c| c.max(floor)));
            }
        }
        self.clock = Some(self.clock.map_or(t.time, |c| c.max(t.time)));
        if big > 0 {
            self.stats.big_trades += 1;
            actions.push(Action::BigTrade {
                symbol: self.symbols[i].clone(),
                trade_id: t.id,
                price: t.price,
                qty: t.qty,
                quote,
                buy: t.taker_buy(),
                time: t.time,
            });
        }
    }

    /// Counts the rows of a REST `aggTrades` body for `symbol`. With `from_time`, the rows are the exchange's
    /// complete list of trades from that time on, so the symbol's coverage starts there.
    pub fn apply_rest(&mut self, symbol: &str, trades: &[AggTrade], from_time: Option<i64>, actions: &mut Vec<Action>) {
        let i = self.slot(symbol);
        self.stats.rest_bodies += 1;
        self.stats.rest_trades += trades.len() as u64;
        for t in trades {
            self.apply_at(i, t, actions);
        }
        if let Some(from) = from_time {
            let state = &mut self.states[i];
            // A start-time body that connects to nothing yet still establishes coverage: the trades before the
            // first counted id are then a hole, reported when they are not in the body.
            state.coverage = Some(state.coverage.map_or(from, |c| c.min(from)));
        }
    }

    fn index_of(&self, symbol: &str) -> Result<usize, FlowError> {
        self.symbols
            .get(symbol)
            .ok_or_else(|| FlowError::UnknownSymbol(symbol.to_owned()))
    }

    /// Marks `from_id..=to_id` of `symbol` as impossible to fill.
    pub fn abandon_gap(&mut self, symbol: &str, from_id: u64, to_id: u64) -> Result<(), FlowError> {
        if from_id > to_id {
            return bad(format!("from_id {from_id} is after to_id {to_id}"));
        }
        let i = self.index_of(symbol)?;
        self.states[i].ledger.abandon(from_id, to_id);
        Ok(())
    }

    /// Open (not filled, not abandoned) gaps of one symbol or of all, as `(symbol, from_id, to_id)`.
    pub fn gaps(&self, symbol: Option<&str>) -> Result<Vec<(Symbol, u64, u64)>, FlowError> {
        let mut out = Vec::new();
        let indices: Vec<usize> = match symbol {
            Some(s) => vec![self.index_of(s)?],
            None => (0..self.states.len()).collect(),
        };
        for i in indices {
            for (a, b) in self.states[i].ledger.open_gaps() {
                out.push((self.symbols[i].clone(), a, b));
            }
        }
        Ok(out)
    }

    /// Highest aggregate trade id counted for `symbol`.
    pub fn last_trade_id(&self, symbol: &str) -> Result<Option<u64>, FlowError> {
        Ok(self.states[self.index_of(symbol)?].ledger.last_id())
    }

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
                let now_sec = now.div_euclid(1000);
                let end = (now_sec + 1) * 1000;
                let start = end - self.config.horizons_ms[k];
                let totals = s.windows.sliding(k, now_sec, &self.shape).ok_or_else(|| {
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
                let sums = s.windows.aligned[k].at(start, interval).ok_or_else(|| {
                    FlowError::BadArgument(format!(
                        "the interval starting at {start} is older than the kept history of {}",
                        self.symbols[i]
                    ))
                })?;
                (Totals::of(&sums), start, start + interval)
            }
        };
        Ok(self.volume_of(s, totals, start, end, now))
    }

    /// A window's answer: its totals and span, and whether every trade in the span is known.
    fn volume_of(&self, s: &SymbolFlow, totals: Totals, start: i64, end: i64, as_of: i64) -> Volume {
        let (complete, abandoned) = status(s, start, end);
        Volume {
            totals,
            contract_size: self.coin_m.then_some(s.contract_size),
            start_ms: start,
            end_ms: end,
            as_of,
            complete,
            abandoned,
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
        let series = &state.windows.aligned[k];
        let interval = self.config.intervals_ms[k];
        let Some(cur) = series.start else {
            return Ok(Vec::new());
        };
        let kept = series.history.len();
        let take = count.unwrap_or(kept + 1).min(kept + 1);
        let rows = series
            .history
            .iter()
            .chain(std::iter::once(&series.current))
            .enumerate()
            .skip(kept + 1 - take);
        Ok(rows
            .map(|(j, sums)| {
                let start = cur - (kept - j) as i64 * interval;
                self.volume_of(state, Totals::of(sums), start, start + interval, start + interval)
            })
            .collect())
    }

    /// Bytes held for `symbol`'s flow state (struct, buckets, intervals, id ledger).
    pub fn memory(&self, symbol: &str) -> Result<usize, FlowError> {
        let s = &self.states[self.index_of(symbol)?];
        Ok(std::mem::size_of::<SymbolFlow>() + s.windows.heap_bytes() + s.ledger.heap_bytes())
    }
}

#[cfg(test)]
mod tests;
