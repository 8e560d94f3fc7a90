//! Frame bytes → typed events, without building Python objects or a JSON tree.
//!
//! A WebSocket frame is either a raw event object, a raw array of events (`!markPrice@arr`), a combined-stream
//! wrapper `{"stream": name, "data": payload}`, or a control reply (`{"result": null, "id": 1}`). Event objects
//! are recognised by their `e` field; the two Binance payloads without one (spot `bookTicker`, spot partial
//! depth) by their shape. Unknown event types decode to [`Event::Unknown`] so that callers count and skip them.
//! Malformed input is a [`DecodeError`] and produces no events at all.

mod depth;
mod error;
mod fast;
pub mod json;
mod liq;
mod trade;

pub use depth::{decode_snapshot, BookTicker, DepthSnapshot, DepthUpdate, PartialDepth};
pub use error::DecodeError;
pub use fast::{DiffHead, Fast};
pub use json::{Level, Levels};
pub use liq::{contract_kind, ContractKind, ForceOrder, MarkPrice, OrderSide, OrderStatus};
pub use trade::{decode_agg_trades_body, AggTrade, Kline, Trade, TradeType};

use json::{Peek, Reader};

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

/// Decodes one WebSocket frame, appending its events to `out`. On error nothing is appended.
pub fn decode_frame(frame: &[u8], out: &mut Vec<Event>) -> Result<(), DecodeError> {
    // Diffs, trades and book tickers in Binance's layout are matched as a whole (see `fast.rs`).
    let (mut bids, mut asks) = (Levels::new(), Levels::new());
    match fast::frame_parts(frame, &mut bids, &mut asks) {
        Fast::Diff(head) => out.push(Event::Depth(Box::new(head.into_update(bids, asks)))),
        Fast::Event(event) => out.push(event),
        Fast::Declined => return decode_frame_slow(frame, out),
    }
    Ok(())
}

/// Decodes a frame key by key (the path every frame the template paths decline takes; no template is tried).
pub(crate) fn decode_frame_general(frame: &[u8], out: &mut Vec<Event>) -> Result<(), DecodeError> {
    let mut r = Reader::new(frame);
    if r.peek()? == Peek::Array {
        return decode_payload(frame, None, out);
    }
    let first = r.open_object()?;
    if !matches!(first, Some(b"stream" | b"data")) {
        return decode_payload(frame, None, out);
    }
    let (mut stream, mut data) = (None, None);
    let mut key = first;
    while let Some(k) = key {
        match k {
            b"stream" => {
                stream = Some(std::str::from_utf8(r.raw_str("stream")?).unwrap_or_default());
            }
            b"data" => {
                // Binance sends `{"stream":..,"data":{..}}`: the payload runs to the frame's closing brace, so it is
                // decoded in place instead of being scanned twice. Any other layout takes the general path below.
                let start = r.value_start();
                // Only white space may follow the wrapper's closing brace.
                let last = frame.iter().rposition(|b| !json::is_ws(*b));
                if let (Some(name), Some(end)) = (stream, last) {
                    if end > start && frame[end] == b'}' {
                        let before = out.len();
                        if decode_payload(&frame[start..end], Some(name), out).is_ok() {
                            return Ok(());
                        }
                        out.truncate(before);
                    }
                }
                data = Some(r.raw_value()?);
            }
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    let data = data.ok_or(DecodeError::MissingField {
        event: "combined frame",
        field: "data",
    })?;
    decode_payload(data, stream, out)
}

/// Decodes a raw payload: one event object or an array of them.
fn decode_payload(payload: &[u8], stream: Option<&str>, out: &mut Vec<Event>) -> Result<(), DecodeError> {
    let mut r = Reader::new(payload);
    if r.peek()? == Peek::Array {
        let mut items = Vec::new();
        if r.open_array()? {
            loop {
                items.push(r.raw_value()?);
                if !r.array_step()? {
                    break;
                }
            }
        }
        for item in items {
            decode_object(item, stream, out)?;
        }
        return Ok(());
    }
    decode_object(payload, stream, out)
}

/// What the keys of an event object say about its type.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape<'j> {
    Typed(&'j [u8]),
    SpotBookTicker,
    SpotPartialDepth,
    Control,
    Other,
}

/// The shape of an object from its first key alone: Binance puts `e` first, spot bookTickers start with `u`,
/// spot partial depth with `lastUpdateId`, control replies with `result`, `error`, `code` or `id`.
fn quick_shape(obj: &[u8]) -> Result<Option<Shape<'_>>, DecodeError> {
    let mut r = Reader::new(obj);
    Ok(match r.open_object()? {
        Some(b"e") => Some(Shape::Typed(r.raw_str("e")?)),
        Some(b"u") => Some(Shape::SpotBookTicker),
        Some(b"lastUpdateId") => Some(Shape::SpotPartialDepth),
        Some(b"result" | b"error" | b"code" | b"id") => Some(Shape::Control),
        _ => None,
    })
}

/// The shape of an object from all its keys (for payloads in an unusual key order).
fn full_shape(obj: &[u8]) -> Result<Shape<'_>, DecodeError> {
    let mut r = Reader::new(obj);
    let mut key = r.open_object()?;
    let (mut has_u, mut has_last_id, mut has_control) = (false, false, false);
    while let Some(k) = key {
        match k {
            b"e" => return Ok(Shape::Typed(r.raw_str("e")?)),
            b"u" => has_u = true,
            b"lastUpdateId" => has_last_id = true,
            b"result" | b"error" | b"code" => has_control = true,
            _ => {}
        }
        r.skip()?;
        key = r.next_key()?;
    }
    Ok(if has_control {
        Shape::Control
    } else if has_u {
        Shape::SpotBookTicker
    } else if has_last_id {
        Shape::SpotPartialDepth
    } else {
        Shape::Other
    })
}

/// `@depth5`, `@depth10@100ms`, … are partial-depth streams (full top-N levels); `@depth`, `@depth@100ms` diffs.
fn is_partial_depth_stream(stream: &[u8]) -> bool {
    stream
        .split(|&b| b == b'@')
        .nth(1)
        .is_some_and(|p| p.len() > 5 && p.starts_with(b"depth"))
}

/// A frame in Binance's exact layout decoded on the template fast paths (see `fast.rs`): a diff with its levels
/// appended to `bids` and `asks`, or a combined aggTrade or bookTicker event. [`Fast::Declined`] for anything else,
/// which [`decode_frame_slow`] then handles (the buffers may then hold part of the levels).
pub fn decode_frame_fast<'a>(frame: &'a [u8], bids: &mut Vec<Level>, asks: &mut Vec<Level>) -> Fast<'a> {
    fast::frame_parts(frame, bids, asks)
}

/// [`decode_frame`] without the template paths, for a frame [`decode_frame_fast`] declined.
pub fn decode_frame_slow(frame: &[u8], out: &mut Vec<Event>) -> Result<(), DecodeError> {
    let before = out.len();
    let result = decode_frame_general(frame, out);
    if result.is_err() {
        out.truncate(before);
    }
    result
}

fn decode_object(obj: &[u8], stream: Option<&str>, out: &mut Vec<Event>) -> Result<(), DecodeError> {
    let before = out.len();
    if let Some(shape) = quick_shape(obj)? {
        match decode_shape(shape, obj, stream, out) {
            Ok(()) => return Ok(()),
            Err(e) => {
                out.truncate(before);
                // The first key misled only if the keys say something else; otherwise the error stands.
                if full_shape(obj)? == shape {
                    return Err(e);
                }
            }
        }
    }
    decode_shape(full_shape(obj)?, obj, stream, out)
}

fn decode_shape(shape: Shape<'_>, obj: &[u8], stream: Option<&str>, out: &mut Vec<Event>) -> Result<(), DecodeError> {
    match shape {
        Shape::Typed(kind) => match kind {
            b"depthUpdate" if stream.is_some_and(|s| is_partial_depth_stream(s.as_bytes())) => {
                out.push(Event::PartialDepth(Box::new(depth::decode_futures_partial(obj)?)));
            }
            b"depthUpdate" => out.push(Event::Depth(Box::new(depth::decode_depth_update_general(obj)?))),
            b"bookTicker" => out.push(Event::BookTicker(depth::decode_book_ticker(obj)?)),
            b"serverShutdown" => out.push(decode_server_shutdown(obj)?),
            b"forceOrder" => out.push(Event::ForceOrder(liq::decode_force_order(obj)?)),
            b"markPriceUpdate" => out.push(Event::MarkPrice(liq::decode_mark_price(obj)?)),
            b"aggTrade" => out.push(Event::AggTrade(trade::decode_agg_trade_general(obj)?)),
            b"trade" => out.push(Event::Trade(trade::decode_trade(obj)?)),
            b"kline" => out.push(Event::Kline(trade::decode_kline(obj)?)),
            other => {
                validate(obj)?;
                out.push(Event::Unknown {
                    kind: String::from_utf8_lossy(other).into_owned(),
                });
            }
        },
        Shape::SpotBookTicker => out.push(Event::BookTicker(depth::decode_book_ticker(obj)?)),
        Shape::SpotPartialDepth => out.push(Event::PartialDepth(Box::new(depth::decode_spot_partial(obj, stream)?))),
        Shape::Control => out.push(Event::Control(decode_control(obj)?)),
        Shape::Other => {
            validate(obj)?;
            out.push(Event::Unknown { kind: String::new() });
        }
    }
    Ok(())
}

/// Full JSON validation of an object that is otherwise not decoded (unknown event types).
fn validate(obj: &[u8]) -> Result<(), DecodeError> {
    let mut r = Reader::new(obj);
    r.skip()?;
    r.finish()
}

fn decode_server_shutdown(obj: &[u8]) -> Result<Event, DecodeError> {
    let mut r = Reader::new(obj);
    let mut key = r.open_object()?;
    let mut event_time = None;
    while let Some(k) = key {
        match k {
            b"E" => event_time = Some(r.int("E")?),
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    let event_time = event_time.ok_or(DecodeError::MissingField {
        event: "serverShutdown",
        field: "E",
    })?;
    Ok(Event::ServerShutdown { event_time })
}

fn decode_control(obj: &[u8]) -> Result<ControlReply, DecodeError> {
    let mut r = Reader::new(obj);
    let mut key = r.open_object()?;
    let mut reply = ControlReply {
        id: None,
        result: None,
        error: None,
    };
    let (mut code, mut msg) = (None, None);
    while let Some(k) = key {
        match k {
            b"id" => {
                // Spot ids may be strings or null; keep integers, ignore the rest.
                if r.peek()?.is_num() {
                    reply.id = Some(r.int("id")?);
                } else {
                    r.skip()?;
                }
            }
            b"result" => reply.result = Some(String::from_utf8_lossy(r.raw_value()?).into_owned()),
            b"code" => code = Some(r.int("code")?),
            b"msg" => msg = Some(r.string("msg")?),
            // Spot nests errors: {"error": {"code": 2, "msg": "..."}, "id": 2}.
            b"error" => {
                let inner = r.raw_value()?;
                let nested = decode_control(inner)?;
                reply.error = nested.error;
            }
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    if let Some(code) = code {
        reply.error = Some((code, msg.unwrap_or_default()));
    }
    Ok(reply)
}

#[cfg(test)]
mod tests;
