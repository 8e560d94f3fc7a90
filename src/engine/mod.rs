//! The multi-symbol hub: takes batches of raw frames, routes decoded events to per-symbol state and returns what
//! the I/O shell must act on (fetch a snapshot, a gap, a control reply, a kept liquidation). Sans I/O: no sockets,
//! no clock.
//!
//! Books, flow and liquidations each return outcome values of their own; this module alone turns them into
//! [`Action`]s (see `action.rs`), and is the only one that knows the others.

mod action;
mod books;
mod checkpoint;

use rustc_hash::FxHashMap;

pub use action::{Action, BookTrace};
pub use books::SyncCounts;
pub use checkpoint::{config_text, CheckpointError, Draft, Drafter, FORMAT_VERSION, MAGIC};

use crate::book::{BookSync, Market};
use crate::decode::{
    self, BookTicker, DecodeError, Decoded, Decoder, DepthUpdate, DiffHead, Event, Level, Levels, Symbol, TradeType,
};
use crate::flow::{PageOutcome, PageQuery};
use crate::symbols::SymbolIndex;

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
    /// Event time `E` (ms) of the last event in the batch that carries one.
    pub last_event_time: Option<i64>,
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

/// Bytes held by the engine's state; see [`Engine::memory`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    pub flow: usize,
    pub liq: usize,
    pub books: usize,
}

impl Memory {
    pub fn total(&self) -> usize {
        self.flow + self.liq + self.books
    }
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
    /// Reusable buffers of the frame decoder (boxed: taken out and put back for every frame, one word each way).
    decoder: Option<Box<Decoder>>,
    trace_depth: Option<usize>,
    /// Event time of the last event routed that carries one.
    last_event_time: Option<i64>,
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
            decoder: Some(Box::default()),
            trace_depth: None,
            last_event_time: None,
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

    /// Starts a check of `symbol`'s trades: its flow windows are not complete until it ends (see
    /// [`crate::flow::Flow::begin_check`]).
    pub fn begin_check(&mut self, symbol: &str) {
        self.flow.begin_check(&symbol.to_ascii_uppercase());
    }

    /// Ends a check begun with [`Engine::begin_check`] (a no-op with none pending).
    pub fn end_check(&mut self, symbol: &str) {
        self.flow.end_check(&symbol.to_ascii_uppercase());
    }

    /// Decodes and applies one frame. A malformed frame is an error and changes nothing.
    pub fn apply_frame(&mut self, frame: &[u8], recv_ts_ns: i64, actions: &mut Vec<Action>) -> Result<(), DecodeError> {
        // The decoder's buffers are taken out for the call, so that routing may borrow the engine.
        let mut decoder = self.decoder.take().unwrap_or_default();
        self.stats.frames += 1;
        let result = match decoder.decode(frame) {
            Ok(Decoded::Diff { head, bids, asks }) => self.route_diff(head, bids, asks, recv_ts_ns, actions),
            Ok(Decoded::Event(event)) => {
                self.stats.events += 1;
                self.route(event, recv_ts_ns, actions);
                Ok(())
            }
            Ok(Decoded::Events(events)) => {
                // A futures diff without `pu` breaks the contract of its market: reject the frame before any state
                // changes.
                let missing_pu = |e: &Event| matches!(e, Event::Depth(d) if d.prev_final_id.is_none());
                if self.market.is_futures() && events.as_slice().iter().any(missing_pu) {
                    Err(MISSING_PU)
                } else {
                    for event in events {
                        self.stats.events += 1;
                        self.route(event, recv_ts_ns, actions);
                    }
                    Ok(())
                }
            }
            Err(e) => Err(e),
        };
        // The slot is empty (taken above): filling it drops nothing.
        self.decoder.get_or_insert(decoder);
        if result.is_err() {
            self.stats.malformed += 1;
        }
        result
    }

    /// Applies a batch of frames; malformed frames are reported in the result and skipped.
    pub fn apply_frames<'a>(&mut self, frames: impl IntoIterator<Item = &'a [u8]>, recv_ts_ns: i64) -> BatchReport {
        self.apply_frames_from(None, frames, recv_ts_ns)
    }

    /// Applies a batch of frames delivered by `stream` (a connection's number, in the order it delivered them;
    /// `None`: the unnamed stream). The flow engine calls a symbol's candle complete on the word of the stream that
    /// carries its trades (see [`crate::flow::Streams`]).
    pub fn apply_frames_from<'a>(
        &mut self,
        stream: Option<u32>,
        frames: impl IntoIterator<Item = &'a [u8]>,
        recv_ts_ns: i64,
    ) -> BatchReport {
        self.flow.select_stream(stream);
        let report = self.apply_batch(frames, recv_ts_ns);
        self.flow.select_stream(None);
        report
    }

    fn apply_batch<'a>(&mut self, frames: impl IntoIterator<Item = &'a [u8]>, recv_ts_ns: i64) -> BatchReport {
        let mut report = BatchReport::default();
        let events_before = self.stats.events;
        self.last_event_time = None;
        for (i, frame) in frames.into_iter().enumerate() {
            report.frames += 1;
            if let Err(e) = self.apply_frame(frame, recv_ts_ns, &mut report.actions) {
                report.errors.push((i, e));
            }
        }
        report.events = (self.stats.events - events_before) as usize;
        report.last_event_time = self.last_event_time;
        report
    }

    /// Applies a diff decoded on the template path: straight from the decoder's level buffers when the book is
    /// synced, as an owned diff otherwise.
    fn route_diff(
        &mut self,
        h: DiffHead<'_>,
        bids: &[Level],
        asks: &[Level],
        recv_ts_ns: i64,
        actions: &mut Vec<Action>,
    ) -> Result<(), DecodeError> {
        if h.prev_final_id.is_none() && self.market.is_futures() {
            return Err(MISSING_PU);
        }
        self.stats.events += 1;
        self.last_event_time = Some(h.event_time);
        self.flow.hear(h.event_time);
        let i = self.depth_slot(h.symbol, bids.len() + asks.len(), recv_ts_ns);
        let book = &mut self.states[i].book;
        let outcome = book.apply_parts(h.first_id, h.final_id, h.prev_final_id, h.event_time, bids, asks);
        let outcome =
            outcome.unwrap_or_else(|| book.apply(h.into_update(Levels::from_slice(bids), Levels::from_slice(asks))));
        self.depth_outcome(i, h.final_id, outcome, actions);
        Ok(())
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
    fn depth_outcome(&self, i: usize, u: u64, outcome: crate::book::ApplyOutcome, actions: &mut Vec<Action>) {
        let symbol = &self.symbols[i];
        let trace = match (outcome, self.trace_depth) {
            (crate::book::ApplyOutcome::Applied, Some(depth)) => {
                Some(BookTrace::of(symbol, self.states[i].book.book(), depth))
            }
            _ => None,
        };
        action::diff(symbol, u, outcome, trace, actions);
    }

    fn route(&mut self, event: Event, recv_ts_ns: i64, actions: &mut Vec<Action>) {
        if let Some(t) = event.event_time() {
            self.last_event_time = Some(t);
            self.flow.hear(t);
        }
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
            Event::ForceOrder(f) => actions.extend(self.liq.apply_force_order(&f).map(Action::Liquidation)),
            Event::MarkPrice(m) => self.liq.apply_mark_price(&m),
            Event::AggTrade(t) => {
                let outcome = self.flow.apply(&t);
                action::trade(&t.symbol, outcome, actions);
            }
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

    /// Feeds a REST `aggTrades` reply body for `symbol`, the answer to `query` (see
    /// [`crate::flow::Flow::apply_rest`]). A malformed body is an error and changes nothing.
    pub fn apply_agg_trades(
        &mut self,
        symbol: &str,
        body: &[u8],
        query: PageQuery,
        actions: &mut Vec<Action>,
    ) -> Result<PageOutcome, DecodeError> {
        let symbol = Symbol::from(symbol.to_ascii_uppercase());
        let trades = decode::decode_agg_trades_body(body, &symbol)?;
        let page = self.flow.apply_rest(&symbol, &trades, query);
        action::page(&symbol, &page, actions);
        Ok(page)
    }

    /// Bytes held by the flow windows, the liquidation store and the books (with their buffered diffs), as counted
    /// by each: the capacity of their buffers, not the allocator's overhead.
    pub fn memory(&self) -> Memory {
        let books = self.states.capacity() * std::mem::size_of::<SymbolState>()
            + self.states.iter().map(|s| s.book.heap_bytes()).sum::<usize>();
        Memory {
            flow: self.flow.heap_bytes(),
            liq: self.liq.heap_bytes(),
            books,
        }
    }
}

#[cfg(test)]
mod tests;
