//! The multi-symbol hub: takes batches of raw frames, routes decoded events to per-symbol state and returns what
//! the I/O shell must act on (fetch a snapshot, a gap, a control reply). Sans I/O: no sockets, no clock.

use rustc_hash::FxHashMap;

use crate::book::{ApplyOutcome, BookSync, Market, OrderBook, SnapshotOutcome, SyncState};
use crate::decode::{
    self, BookTicker, ControlReply, DecodeError, DepthUpdate, Event, Fast, Level, Levels, Symbol, TradeType,
};
use crate::symbols::SymbolIndex;

/// Something the caller must act on or may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fetch a REST depth snapshot for this symbol and feed it with [`Engine::apply_snapshot`].
    SnapshotNeeded { symbol: Symbol },
    /// The book is synced at this update id.
    Synced { symbol: Symbol, last_update_id: u64 },
    /// The diff stream broke (or a diff crossed the book): the book was discarded; a snapshot is needed.
    Gap { symbol: Symbol, expected: u64, got: u64 },
    /// With tracing on: the book right after one applied diff (top levels, level counts, digest).
    BookTrace(Box<BookTrace>),
    /// A control-message reply from the server.
    Control(ControlReply),
    /// The server announced it is going away (spot `serverShutdown`).
    ServerShutdown { event_time: i64 },
    /// Aggregate trade ids `from_id..=to_id` of `symbol` are missing: backfill them (REST `aggTrades?fromId=`).
    TradeGap { symbol: Symbol, from_id: u64, to_id: u64 },
    /// A trade counted for the first time whose quote value reached the smallest big-trade threshold.
    BigTrade {
        symbol: Symbol,
        trade_id: u64,
        /// e8 units.
        price: i64,
        /// e8 units (contracts on COIN-M).
        qty: i64,
        /// Quote value, e16 units (see [`crate::flow`]).
        quote: i128,
        /// Taker buy.
        buy: bool,
        /// Trade time (ms).
        time: i64,
    },
}

/// The state of a book right after one applied diff; see [`Engine::set_trace_depth`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookTrace {
    pub symbol: Symbol,
    pub last_update_id: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub n_bids: usize,
    pub n_asks: usize,
    pub digest: String,
}

impl BookTrace {
    fn of(symbol: &Symbol, book: &OrderBook, depth: usize) -> Action {
        Action::BookTrace(Box::new(Self {
            symbol: symbol.clone(),
            last_update_id: book.last_update_id,
            bids: book.bids.top(depth),
            asks: book.asks.top(depth),
            n_bids: book.bids.len(),
            n_asks: book.asks.len(),
            digest: book.digest(),
        }))
    }
}

/// Engine-wide counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub frames: u64,
    pub events: u64,
    pub malformed: u64,
    pub depth_updates: u64,
    pub level_updates: u64,
    pub book_tickers: u64,
    pub partial_depth: u64,
    pub unknown: FxHashMap<String, u64>,
}

/// What one batch did.
#[derive(Debug, Default)]
pub struct BatchReport {
    pub frames: usize,
    pub events: usize,
    pub actions: Vec<Action>,
    /// `(index in the batch, error)` for each malformed frame; those frames changed nothing.
    pub errors: Vec<(usize, DecodeError)>,
}

/// Per-symbol state.
#[derive(Debug, Clone)]
pub struct SymbolState {
    pub book: BookSync,
    /// Latest best bid/ask pushed by the exchange.
    pub ticker: Option<BookTicker>,
    /// Receive time (caller's clock, ns) of the last event for this symbol.
    pub recv_ts_ns: i64,
}

/// A futures diff without `pu` breaks the contract of its market: the whole frame is rejected before any state
/// changes.
const MISSING_PU: DecodeError = DecodeError::MissingField {
    event: "futures depthUpdate",
    field: "pu",
};

/// Default number of diffs kept per symbol while waiting for a snapshot: 100 s of a `@100ms` stream. A snapshot only
/// needs the diffs from its own `lastUpdateId` on, which arrive while its request is on the wire (seconds), so older
/// diffs go first; a larger buffer would only hold memory (about 300 bytes a diff, per symbol, through a long ban).
pub const DEFAULT_BUFFER_LIMIT: usize = 1_000;

pub struct Engine {
    market: Market,
    buffer_limit: usize,
    symbols: SymbolIndex,
    states: Vec<SymbolState>,
    scratch: Vec<Event>,
    /// Reusable level buffers of the diff fast path.
    levels: (Vec<Level>, Vec<Level>),
    trace_depth: Option<usize>,
    pub stats: EngineStats,
    /// Liquidations and mark prices of this engine's futures market (see [`crate::liq`]).
    pub liq: crate::liq::Liquidations,
    /// Taker buy/sell flow windows (see [`crate::flow`]).
    pub flow: crate::flow::Flow,
}

impl Engine {
    pub fn new(market: Market, buffer_limit: usize) -> Self {
        Self {
            market,
            buffer_limit,
            symbols: SymbolIndex::default(),
            states: Vec::new(),
            scratch: Vec::with_capacity(4),
            levels: (Vec::new(), Vec::new()),
            trace_depth: None,
            stats: EngineStats::default(),
            liq: crate::liq::Liquidations::new(crate::liq::contract_kind_of(market)),
            flow: crate::flow::Flow::new(market),
        }
    }

    pub fn market(&self) -> Market {
        self.market
    }

    /// Turns book tracing on (`Some(depth)`) or off: with it on, every applied diff adds an
    /// [`Action::BookTrace`] with the top `depth` levels and the digest of the whole book. For replays and
    /// audits; it costs a full-book hash per diff.
    pub fn set_trace_depth(&mut self, depth: Option<usize>) {
        self.trace_depth = depth;
    }

    /// Symbols seen so far, in order of first appearance.
    pub fn symbols(&self) -> &[Symbol] {
        self.symbols.names()
    }

    pub fn state(&self, symbol: &str) -> Option<&SymbolState> {
        self.symbols.get(symbol).map(|i| &self.states[i])
    }

    fn slot(&mut self, symbol: &str) -> usize {
        let (i, new) = self.symbols.slot(symbol);
        self.push_state(i, new)
    }

    /// [`Engine::slot`] of a name given as ASCII bytes.
    fn slot_ascii(&mut self, symbol: &[u8]) -> usize {
        let (i, new) = self.symbols.slot_ascii(symbol);
        self.push_state(i, new)
    }

    /// Adds the state of slot `i` if it is `new`; returns `i`.
    #[inline]
    fn push_state(&mut self, i: usize, new: bool) -> usize {
        if !new {
            return i;
        }
        self.states.push(SymbolState {
            book: BookSync::new(self.market, self.buffer_limit),
            ticker: None,
            recv_ts_ns: 0,
        });
        i
    }

    /// Starts tracking a symbol before any of its frames arrive: its book, and its flow windows (which then report
    /// zero volume, incomplete, until trades arrive).
    pub fn track(&mut self, symbol: &str) {
        let symbol = symbol.to_ascii_uppercase();
        self.slot(&symbol);
        self.flow.track(&symbol);
    }

    /// Decodes and applies one frame. A malformed frame is an error and changes nothing.
    pub fn apply_frame(&mut self, frame: &[u8], recv_ts_ns: i64, actions: &mut Vec<Action>) -> Result<(), DecodeError> {
        // Diffs, trades and book tickers are most of the traffic: in Binance's exact layout they skip the generic
        // dispatch, and a diff for a synced book is applied straight from reusable level buffers.
        let (mut bids, mut asks) = std::mem::take(&mut self.levels);
        bids.clear();
        asks.clear();
        match decode::decode_frame_fast(frame, &mut bids, &mut asks) {
            Fast::Diff(h) => {
                self.stats.frames += 1;
                let result = if h.prev_final_id.is_none() && self.market.is_futures() {
                    self.stats.malformed += 1;
                    Err(MISSING_PU)
                } else {
                    self.stats.events += 1;
                    let i = self.depth_slot(h.symbol, bids.len() + asks.len(), recv_ts_ns);
                    let book = &mut self.states[i].book;
                    let outcome = book.apply_parts(h.first_id, h.final_id, h.prev_final_id, h.event_time, &bids, &asks);
                    let outcome = outcome.unwrap_or_else(|| {
                        book.apply(h.into_update(Levels::from_slice(&bids), Levels::from_slice(&asks)))
                    });
                    self.depth_outcome(i, h.final_id, outcome, actions);
                    Ok(())
                };
                self.levels = (bids, asks);
                return result;
            }
            Fast::Event(event) => {
                self.levels = (bids, asks);
                self.stats.frames += 1;
                self.stats.events += 1;
                self.route(event, recv_ts_ns, actions);
                return Ok(());
            }
            Fast::Declined => self.levels = (bids, asks),
        }
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        self.stats.frames += 1;
        let decoded = decode::decode_frame_slow(frame, &mut events);
        if let Err(e) = decoded {
            self.stats.malformed += 1;
            self.scratch = events;
            return Err(e);
        }
        // A futures diff without `pu` breaks the contract of its market; reject the frame before any state changes.
        if self.market.is_futures() {
            if let Some(Event::Depth(_)) = events
                .iter()
                .find(|e| matches!(e, Event::Depth(d) if d.prev_final_id.is_none()))
            {
                self.stats.malformed += 1;
                self.scratch = events;
                return Err(MISSING_PU);
            }
        }
        for event in events.drain(..) {
            self.stats.events += 1;
            self.route(event, recv_ts_ns, actions);
        }
        self.scratch = events;
        Ok(())
    }

    /// Applies a batch of frames; malformed frames are reported in the result and skipped.
    pub fn apply_frames<'a>(&mut self, frames: impl IntoIterator<Item = &'a [u8]>, recv_ts_ns: i64) -> BatchReport {
        let mut report = BatchReport::default();
        let events_before = self.stats.events;
        for (i, frame) in frames.into_iter().enumerate() {
            report.frames += 1;
            if let Err(e) = self.apply_frame(frame, recv_ts_ns, &mut report.actions) {
                report.errors.push((i, e));
            }
        }
        report.events = (self.stats.events - events_before) as usize;
        report
    }

    fn route_depth(&mut self, d: DepthUpdate, recv_ts_ns: i64, actions: &mut Vec<Action>) {
        let i = self.depth_slot(d.symbol.as_bytes(), d.bids.len() + d.asks.len(), recv_ts_ns);
        let u = d.final_id;
        let outcome = self.states[i].book.apply(d);
        self.depth_outcome(i, u, outcome, actions);
    }

    /// Counts a diff of `levels` level updates for `symbol` received at `recv_ts_ns`; returns the symbol's slot.
    fn depth_slot(&mut self, symbol: &[u8], levels: usize, recv_ts_ns: i64) -> usize {
        self.stats.depth_updates += 1;
        self.stats.level_updates += levels as u64;
        let i = self.slot_ascii(symbol);
        self.states[i].recv_ts_ns = recv_ts_ns;
        i
    }

    /// The actions of one diff's outcome for symbol slot `i` (`u`: the diff's final update id).
    fn depth_outcome(&self, i: usize, u: u64, outcome: ApplyOutcome, actions: &mut Vec<Action>) {
        let symbol = &self.symbols[i];
        match outcome {
            ApplyOutcome::Applied => {
                if let Some(depth) = self.trace_depth {
                    actions.push(BookTrace::of(symbol, self.states[i].book.book(), depth));
                }
            }
            ApplyOutcome::Stale => {}
            ApplyOutcome::Buffered { snapshot_needed } => {
                if snapshot_needed {
                    actions.push(Action::SnapshotNeeded { symbol: symbol.clone() });
                }
            }
            ApplyOutcome::Gap { expected, got } => {
                actions.push(Action::Gap {
                    symbol: symbol.clone(),
                    expected,
                    got,
                });
                actions.push(Action::SnapshotNeeded { symbol: symbol.clone() });
            }
            ApplyOutcome::Crossed => {
                actions.push(Action::Gap {
                    symbol: symbol.clone(),
                    expected: u,
                    got: u,
                });
                actions.push(Action::SnapshotNeeded { symbol: symbol.clone() });
            }
        }
    }

    fn route(&mut self, event: Event, recv_ts_ns: i64, actions: &mut Vec<Action>) {
        match event {
            Event::Depth(d) => self.route_depth(*d, recv_ts_ns, actions),
            Event::BookTicker(t) => {
                self.stats.book_tickers += 1;
                let i = self.slot(&t.symbol);
                self.states[i].recv_ts_ns = recv_ts_ns;
                self.states[i].ticker = Some(t);
            }
            Event::PartialDepth(_) => self.stats.partial_depth += 1,
            Event::Control(c) => actions.push(Action::Control(c)),
            Event::ServerShutdown { event_time } => {
                actions.push(Action::ServerShutdown { event_time });
            }
            Event::ForceOrder(f) => drop(self.liq.apply_force_order(&f)),
            Event::MarkPrice(m) => self.liq.apply_mark_price(&m),
            Event::AggTrade(t) => self.flow.apply(&t, actions),
            Event::Trade(t) => {
                // Windows count aggregate trades (one id space, backfillable by id); `trade` events are counted
                // by type only, so that subscribing to both never counts a fill twice.
                if t.kind == TradeType::Market {
                    self.flow.stats.trades_market += 1;
                } else {
                    self.flow.stats.trades_other += 1;
                }
            }
            Event::Kline(_) => self.flow.stats.klines += 1,
            Event::Unknown { kind } => *self.stats.unknown.entry(kind).or_insert(0) += 1,
        }
    }

    /// Feeds a REST `aggTrades` reply body for `symbol` (see [`crate::flow::Flow::apply_rest`]). A malformed body
    /// is an error and changes nothing.
    pub fn apply_agg_trades(
        &mut self,
        symbol: &str,
        body: &[u8],
        from_time: Option<i64>,
        actions: &mut Vec<Action>,
    ) -> Result<usize, DecodeError> {
        let symbol = symbol.to_ascii_uppercase();
        let trades = decode::decode_agg_trades_body(body, &symbol)?;
        self.flow.apply_rest(&symbol, &trades, from_time, actions);
        Ok(trades.len())
    }

    /// Feeds a REST depth snapshot body for `symbol`. A malformed body is an error and changes nothing.
    pub fn apply_snapshot(
        &mut self,
        symbol: &str,
        body: &[u8],
        actions: &mut Vec<Action>,
    ) -> Result<SnapshotOutcome, DecodeError> {
        let snap = decode::decode_snapshot(body)?;
        let symbol = symbol.to_ascii_uppercase();
        let i = self.slot(&symbol);
        let symbol = self.symbols[i].clone();
        let outcome = match self.trace_depth {
            Some(depth) => {
                let mut trace = |book: &OrderBook| actions.push(BookTrace::of(&symbol, book, depth));
                self.states[i].book.apply_snapshot_traced(&snap, &mut trace)
            }
            None => self.states[i].book.apply_snapshot(&snap),
        };
        match outcome {
            SnapshotOutcome::Synced { last_update_id, .. } => actions.push(Action::Synced { symbol, last_update_id }),
            SnapshotOutcome::TooOld { .. } => actions.push(Action::SnapshotNeeded { symbol }),
            SnapshotOutcome::Gap { expected, got } => {
                actions.push(Action::Gap {
                    symbol: symbol.clone(),
                    expected,
                    got,
                });
                actions.push(Action::SnapshotNeeded { symbol });
            }
            SnapshotOutcome::Ignored => {}
        }
        Ok(outcome)
    }

    /// Sync state of a symbol's book (`None` if the symbol was never seen).
    pub fn sync_state(&self, symbol: &str) -> Option<SyncState> {
        self.state(symbol).map(|s| s.book.state())
    }

    /// Forgets an outstanding snapshot request (the fetch failed), so the next diff asks again.
    pub fn snapshot_failed(&mut self, symbol: &str) {
        if let Some(i) = self.symbols.get(symbol) {
            self.states[i].book.clear_snapshot_request();
        }
    }

    /// Discards every book, as after a reconnect of the depth connection.
    pub fn reset_books(&mut self) {
        for s in &mut self.states {
            s.book.reset();
        }
    }

    /// Discards one symbol's book.
    pub fn reset_book(&mut self, symbol: &str) {
        if let Some(i) = self.symbols.get(symbol) {
            self.states[i].book.reset();
        }
    }
}

#[cfg(test)]
mod tests;
