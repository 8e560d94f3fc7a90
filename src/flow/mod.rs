//! Taker buy/sell flow: exact sliding and UTC-aligned windows per symbol, idempotent by aggregate trade id, with
//! gap detection.
//!
//! **Input.** `aggTrade` events (WebSocket) and REST `aggTrades` rows. Each aggregate trade id counts once per
//! symbol, however often it arrives. `m == false` is a taker buy, `m == true` a taker sell.
//!
//! **Sliding windows** ("15m") slide by event time `T` in steps of their edge resolution `r` ([`edge_step_s`]: 1 s
//! up to 15 minutes, 10 s up to 2 h 30 min, 1 min up to 15 h, coarser beyond): the window of horizon `H` at time
//! `now` holds the trades whose step `T / r` lies in `(now/r − H/r, now/r]`, i.e. trade times in `[start_ms,
//! end_ms)` with `end_ms = (now/r + 1)·r` and `start_ms = end_ms − H`. `now` defaults to the engine's clock, the
//! newest trade time counted for any symbol.
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
//! `(from_id, to_id)`, reported once in the outcome of the call that found it ([`TradeOutcome::gap`], or
//! [`PageOutcome::gaps`] for a REST page, judged after the whole page). A missing trade happened between
//! its neighbours' trade times, so a window (or interval) `[a, b)` is `complete` when the symbol's coverage starts
//! at or before `a` (the first counted trade's time + 1 ms, or the `from_time` of a start-time backfill) and no hole
//! overlaps it. Filling the ids makes it complete again; a hole marked abandoned makes it say `abandoned` (the
//! caller marks ids abandoned, or a REST page does itself: see [`PageQuery::from_id`]). While a check of the
//! symbol's trades is pending ([`Flow::begin_check`], e.g. the newest trades fetched after a reconnect), no window
//! of it is complete either. Nor is a window that reaches more than [`GRACE_MS`] past the engine's heard-until
//! clock ([`Flow::heard`], the newest event time seen in any frame): a window vouches for its trades up to its
//! evaluation time, or its end if that comes first, and nothing is known of time not heard.
//!
//! A **candle** (an aligned interval `[a, b)` as [`Flow::candles`] and [`Flow::closed_intervals`] give it) claims
//! more: every trade with a time before `b` has been counted. That is proven by the symbol's own trades — a counted
//! trade timed at or after `b` (with no hole before it inside the interval: every lower id is counted) — or by the
//! stream that delivered the symbol's newest trade having delivered an event timed at least [`PUSH_MS`] after `b`
//! (see `heard.rs`); never by another stream, nor by the caller's clock.
//!
//! **Out-of-order times.** Binance's ids follow trade time; a trade whose time is earlier than that of a lower id
//! counted before is counted in `time_regressions` (and in the windows like any other trade).
//!
//! **Late data.** A trade older than the clock lands in every window and interval that covers its `T`. Trades older
//! than the retention (the longest horizon, or the longest interval × (history + 1)) are counted as `expired`.

mod aligned;
mod checkpoint;
mod config;
mod heard;
mod ledger;
mod outcome;
mod query;
mod rest;
mod stats;
mod sums;
mod window;

pub use aligned::{Aligned, Interval};
pub use checkpoint::FlowRestore;
pub use config::{duration_name, parse_duration, FlowConfig, FlowError, Window};
pub use heard::{Streams, PUSH_MS};
pub use ledger::{Hole, Insert, Ledger, Span};
pub use outcome::{BigTrade, PageOutcome, PageQuery, TradeOutcome};
pub use query::{ClosedInterval, Volume, GRACE_MS};
pub use stats::FlowStats;
pub use sums::{Fill, Sums, Totals, MAX_BIG};
pub use window::{edge_step_s, Bucket, Shape, Tier, Windows, MAX_STEPS};

use crate::book::Market;
use crate::decode::{AggTrade, Symbol};
use crate::num;
use crate::symbols::SymbolIndex;
use config::{bad, shape_of};

/// A trade whose notional or quote value reaches this (1e14 quote units, e16) is refused as `overflow`: with it
/// no window of fewer than 10^8 such trades can overflow `i128`.
pub const MAX_TRADE_E16: i128 = 100_000_000_000_000 * num::NOTIONAL_ONE;

/// One symbol's flow state.
#[derive(Debug, Clone)]
pub struct SymbolFlow {
    pub windows: Windows,
    pub ledger: Ledger,
    /// Trades are known complete from this time (ms) on, gaps aside; `None` before the first trade.
    pub coverage: Option<i64>,
    /// COIN-M contract size (e8 USD).
    pub contract_size: i64,
    /// Checks of the symbol's trades pending (see [`Flow::begin_check`]).
    pub checks: u32,
    /// Slot (in [`Streams`]) of the stream that delivered the symbol's newest live trade; `None` before one.
    pub stream: Option<usize>,
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
    /// The engine's heard-until clock: the newest event time seen in any frame (fed by the engine with
    /// [`Flow::hear`]) or trade (ms).
    heard: Option<i64>,
    /// The same, per stream.
    streams: Streams,
    pub stats: FlowStats,
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
            heard: None,
            streams: Streams::default(),
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
        self.heard = None;
        self.streams = Streams::default();
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

    /// The engine's heard-until clock (ms): the newest event time seen in any frame or trade. A window reaching more
    /// than [`GRACE_MS`] past it is not complete: nothing is known of that span.
    pub fn heard(&self) -> Option<i64> {
        self.heard
    }

    /// Records that the engine saw an event of time `t` (ms) on the current stream (see [`Flow::select_stream`]).
    #[inline]
    pub fn hear(&mut self, t: i64) {
        if self.heard.is_none_or(|h| t > h) {
            self.heard = Some(t);
        }
        self.streams.hear(t);
    }

    /// Makes `stream` (a connection's number; `None`: the unnamed stream of callers that name none, the default)
    /// the stream whose events and trades are heard next.
    pub fn select_stream(&mut self, stream: Option<u32>) {
        self.streams.select(stream);
    }

    /// The per-stream clocks.
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    /// Forgets which stream carries each symbol's trades, as a restored engine knows nothing of them.
    #[cfg(test)]
    pub(crate) fn forget_streams(&mut self) {
        for s in &mut self.states {
            s.stream = None;
        }
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
                checks: 0,
                stream: None,
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

    /// Counts one aggregate trade of `t.symbol` delivered by the current stream (a no-op for an id counted before);
    /// a new hole it shows is reported in the outcome.
    #[inline]
    pub fn apply(&mut self, t: &AggTrade) -> TradeOutcome {
        let i = self.slot(&t.symbol);
        let outcome = self.count(i, t);
        if let Some(k) = self.streams.current() {
            self.states[i].stream = Some(k);
        }
        self.stats.gaps += u64::from(outcome.gap.is_some());
        outcome
    }

    /// Counts one trade for symbol slot `i`; the caller decides when a hole it opened is reported.
    fn count(&mut self, i: usize, t: &AggTrade) -> TradeOutcome {
        let mut outcome = TradeOutcome::default();
        self.hear(t.event_time.map_or(t.time, |e| e.max(t.time)));
        let state = &mut self.states[i];
        let clock = state.windows.clock_ms;
        if clock.is_some_and(|c| t.time < c - self.retention_ms) {
            self.stats.expired += 1;
            return outcome;
        }
        let notional = num::notional(t.price, t.qty);
        let quote = if self.coin_m {
            num::notional(t.qty, state.contract_size)
        } else {
            notional
        };
        if notional >= MAX_TRADE_E16 || quote >= MAX_TRADE_E16 {
            self.stats.overflow += 1;
            return outcome;
        }
        match state.ledger.insert(t.id, t.time) {
            Insert::Duplicate => {
                self.stats.duplicates += 1;
                return outcome;
            }
            Insert::New {
                gap,
                filled,
                below,
                regressed,
            } => {
                outcome.gap = gap;
                self.stats.gaps_filled += u64::from(filled);
                self.stats.time_regressions += u64::from(regressed);
                if below {
                    // Ids grow with time: trades after this one's time are either counted or in a known hole.
                    let from = t.time + 1;
                    state.coverage = Some(state.coverage.map_or(from, |c| c.min(from)));
                }
            }
        }
        outcome.counted = true;
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
            id: t.id,
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
            outcome.big = Some(BigTrade {
                trade_id: t.id,
                price: t.price,
                qty: t.qty,
                quote,
                buy: t.taker_buy(),
                time: t.time,
            });
        }
        outcome
    }

    /// Starts a check of `symbol`'s trades (e.g. fetching its newest trades after a reconnect): its windows are
    /// not complete until every check begun has ended.
    pub fn begin_check(&mut self, symbol: &str) {
        let i = self.slot(symbol);
        self.states[i].checks += 1;
    }

    /// Ends a check begun with [`Flow::begin_check`] (a no-op with none pending).
    pub fn end_check(&mut self, symbol: &str) {
        if let Some(i) = self.symbols.get(symbol) {
            let checks = &mut self.states[i].checks;
            *checks = checks.saturating_sub(1);
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

    /// The highest aggregate trade id counted for every symbol that has one, in the order of [`Flow::symbols`].
    pub fn last_trade_ids(&self) -> Vec<(Symbol, u64)> {
        self.symbols
            .names()
            .iter()
            .zip(&self.states)
            .filter_map(|(name, s)| s.ledger.last_id().map(|id| (name.clone(), id)))
            .collect()
    }

    /// Bytes held for every symbol's flow state (see [`Flow::memory`]).
    pub fn heap_bytes(&self) -> usize {
        let per = |s: &SymbolFlow| s.windows.heap_bytes() + s.ledger.heap_bytes();
        self.states.capacity() * std::mem::size_of::<SymbolFlow>()
            + self.states.iter().map(per).sum::<usize>()
            + self.streams.heap_bytes()
    }

    /// Bytes held for `symbol`'s flow state (struct, buckets, intervals, id ledger).
    pub fn memory(&self, symbol: &str) -> Result<usize, FlowError> {
        let s = &self.states[self.index_of(symbol)?];
        Ok(std::mem::size_of::<SymbolFlow>() + s.windows.heap_bytes() + s.ledger.heap_bytes())
    }
}

#[cfg(test)]
mod heard_tests;
#[cfg(test)]
mod tests;
