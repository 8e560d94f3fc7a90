//! What the engine reports: the one place where the outcomes of books, flow and liquidations become actions.

use crate::book::{ApplyOutcome, OrderBook, SnapshotOutcome};
use crate::decode::{ControlReply, Level, Symbol};
use crate::flow::{BigTrade, PageOutcome, TradeOutcome};
use crate::liq::Liquidation;

/// Something the caller must act on or may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fetch a REST depth snapshot for this symbol and feed it with [`super::Engine::apply_snapshot`].
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
    BigTrade { symbol: Symbol, trade: BigTrade },
    /// A liquidation the store kept.
    Liquidation(Liquidation),
}

/// The state of a book right after one applied diff; see [`super::Engine::set_trace_depth`].
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
    pub(super) fn of(symbol: &Symbol, book: &OrderBook, depth: usize) -> Action {
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

/// A gap (or a crossed book) discards the book: it is reported, and a new snapshot is asked for.
fn gap(symbol: &Symbol, expected: u64, got: u64, actions: &mut Vec<Action>) {
    actions.push(Action::Gap {
        symbol: symbol.clone(),
        expected,
        got,
    });
    actions.push(Action::SnapshotNeeded { symbol: symbol.clone() });
}

/// The actions of one diff's outcome (`u`: the diff's final update id; `trace`: the traced book, if tracing).
pub(super) fn diff(symbol: &Symbol, u: u64, outcome: ApplyOutcome, trace: Option<Action>, actions: &mut Vec<Action>) {
    match outcome {
        ApplyOutcome::Applied => {
            if let Some(trace) = trace {
                actions.push(trace);
            }
        }
        ApplyOutcome::Stale | ApplyOutcome::Buffered { snapshot_needed: false } => {}
        ApplyOutcome::Buffered { snapshot_needed: true } => {
            actions.push(Action::SnapshotNeeded { symbol: symbol.clone() });
        }
        ApplyOutcome::Gap { expected, got } => gap(symbol, expected, got, actions),
        ApplyOutcome::Crossed => gap(symbol, u, u, actions),
    }
}

/// The actions of a snapshot's outcome.
pub(super) fn snapshot(symbol: Symbol, outcome: SnapshotOutcome, actions: &mut Vec<Action>) {
    match outcome {
        SnapshotOutcome::Synced { last_update_id, .. } => actions.push(Action::Synced { symbol, last_update_id }),
        SnapshotOutcome::TooOld { .. } => actions.push(Action::SnapshotNeeded { symbol }),
        SnapshotOutcome::Gap { expected, got } => gap(&symbol, expected, got, actions),
        SnapshotOutcome::Ignored => {}
    }
}

/// The actions of one counted trade: the hole it showed, then the big trade it was.
#[inline]
pub(super) fn trade(symbol: &Symbol, outcome: TradeOutcome, actions: &mut Vec<Action>) {
    if let Some((from_id, to_id)) = outcome.gap {
        actions.push(Action::TradeGap {
            symbol: symbol.clone(),
            from_id,
            to_id,
        });
    }
    if let Some(trade) = outcome.big {
        actions.push(Action::BigTrade {
            symbol: symbol.clone(),
            trade,
        });
    }
}

/// The actions of a REST trades page: its big trades in page order, then the holes it left missing.
pub(super) fn page(symbol: &Symbol, page: &PageOutcome, actions: &mut Vec<Action>) {
    for &trade in &page.big {
        actions.push(Action::BigTrade {
            symbol: symbol.clone(),
            trade,
        });
    }
    for &(from_id, to_id) in &page.gaps {
        actions.push(Action::TradeGap {
            symbol: symbol.clone(),
            from_id,
            to_id,
        });
    }
}
