//! Frame bytes → typed events, without building Python objects or a JSON tree.
//!
//! A WebSocket frame is either a raw event object, a raw array of events (`!markPrice@arr`), a combined-stream
//! wrapper `{"stream": name, "data": payload}`, or a control reply (`{"result": null, "id": 1}`). Event objects
//! are recognised by their `e` field; the two Binance payloads without one (spot `bookTicker`, spot partial
//! depth) by their shape. Unknown event types decode to [`Event::Unknown`] so that callers count and skip them.
//! Malformed input is a [`DecodeError`] and produces no events at all.
//!
//! [`Decoder::decode`] is the one entry point for frames: Binance's exact layouts of the hot events (diffs, aggTrades,
//! book tickers) are matched as templates (`template/`), anything else is read key by key (`dispatch.rs`).

mod control;
mod decoder;
mod depth;
mod dispatch;
mod error;
mod json;
mod liq;
mod template;
mod trade;

pub use decoder::{Decoded, Decoder};
pub use depth::{decode_snapshot, BookTicker, DepthSnapshot, DepthUpdate, PartialDepth};
pub use error::DecodeError;
pub use json::{Level, Levels};
pub use liq::{contract_kind, ContractKind, ForceOrder, MarkPrice, OrderSide, OrderStatus};
pub use template::DiffHead;
pub use trade::{decode_agg_trades_body, AggTrade, Kline, Trade, TradeType};

/// Binance symbol names are short ASCII (UTF-8 on spot since 2025-12); stored inline up to 24 bytes.
pub type Symbol = compact_str::CompactString;

/// One decoded market-data event.
// Depth diffs are the hot path: their levels are stored inline, and boxing them would cost an allocation a frame.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `depthUpdate` diff (spot, USD-M, COIN-M).
    Depth(Box<DepthUpdate>),
    /// Partial book depth `<s>@depth<N>` (full top-N levels, not a diff).
    PartialDepth(Box<PartialDepth>),
    /// Best bid/ask with the book update id `u`.
    BookTicker(BookTicker),
    /// Reply to a `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` request, or a control error.
    Control(ControlReply),
    /// Spot `serverShutdown`: the server goes away soon; reconnect.
    ServerShutdown { event_time: i64 },
    /// Futures liquidation order `forceOrder` (per symbol or `!forceOrder@arr`).
    ForceOrder(ForceOrder),
    /// Futures `markPriceUpdate` (per symbol or one item of `!markPrice@arr`).
    MarkPrice(MarkPrice),
    /// `aggTrade` (spot, USD-M, COIN-M).
    AggTrade(AggTrade),
    /// `trade` (spot; USD-M with the trade type `X`).
    Trade(Trade),
    /// `kline` update.
    Kline(Kline),
    /// An event type tapeflow does not handle (counted and skipped by the engine).
    Unknown { kind: String },
}

impl Event {
    /// The exchange event time `E` (ms), for the events that carry one.
    pub fn event_time(&self) -> Option<i64> {
        match self {
            Self::Depth(d) => Some(d.event_time),
            Self::PartialDepth(p) => p.event_time,
            Self::BookTicker(t) => t.event_time,
            Self::ServerShutdown { event_time } => Some(*event_time),
            Self::ForceOrder(f) => Some(f.event_time),
            Self::MarkPrice(m) => Some(m.event_time),
            Self::AggTrade(t) => t.event_time,
            Self::Trade(t) => Some(t.event_time),
            Self::Kline(k) => Some(k.event_time),
            Self::Control(_) | Self::Unknown { .. } => None,
        }
    }
}

/// A control-message reply: `{"result": ..., "id": n}` or an error in either of Binance's two shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlReply {
    /// Request id, if the reply carries one.
    pub id: Option<i64>,
    /// The `result` value as raw JSON text (`null`, a list of stream names, `true`).
    pub result: Option<String>,
    /// `(code, msg)` for an error reply.
    pub error: Option<(i64, String)>,
}

#[cfg(test)]
mod tests;
