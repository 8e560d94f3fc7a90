//! Template decoding of `depthUpdate` diffs in the exact layout Binance sends.
//!
//! Diffs are most of the traffic, and Binance always writes them with the same keys in the same order and no white
//! space: spot `e,E,s,U,u,b,a`, USD-M `e,E,T,s,U,u,pu,b,a`, COIN-M `e,E,T,s,ps,U,u,pu,b,a`. Matching that layout
//! byte by byte costs far less than reading keys generically. Any deviation — another key order, white space, an
//! escape, a number outside the fast range — returns `None` and the general decoder takes over, so this path only
//! ever accepts input the general decoder accepts, with the same result (checked by property tests).
//!
//! `aggTrade` has the same treatment: spot `e,E,s,a,p,q,f,l,T,m,M`, USD-M `e,E,s,a,p,q,nq,f,l,T,m` (older USD-M and
//! COIN-M put `a` before `s`), and `bookTicker` in each market's key order. [`frame_parts`] is the one way in, used
//! by [`super::Decoder`] before the general decoder.

mod cursor;

use super::depth::{BookTicker, DepthUpdate};
use super::json::{is_ws, LevelSink, Levels};
use super::trade::AggTrade;
use super::{dispatch, Event, Symbol};
use cursor::Cursor;

/// The fields of a diff other than its levels, the symbol borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffHead<'a> {
    /// Plain ASCII (checked).
    pub symbol: &'a [u8],
    pub event_time: i64,
    pub transact_time: Option<i64>,
    pub first_id: u64,
    pub final_id: u64,
    pub prev_final_id: Option<u64>,
}

impl DiffHead<'_> {
    /// The owned diff with these levels.
    pub fn into_update(self, bids: Levels, asks: Levels) -> DepthUpdate {
        DepthUpdate {
            symbol: Symbol::from_utf8_lossy(self.symbol),
            event_time: self.event_time,
            transact_time: self.transact_time,
            first_id: self.first_id,
            final_id: self.final_id,
            prev_final_id: self.prev_final_id,
            bids,
            asks,
        }
    }
}

/// A whole frame holding one diff in Binance's layout — combined `{"stream":"<s>@depth..","data":{..}}` or raw —
/// decoded without the generic frame and shape dispatch, or `None` (the general decoder then takes the frame).
/// Accepts only what the general decoder decodes to a single [`super::Event::Depth`], with the same result.
#[cfg(test)]
pub(crate) fn depth_frame(frame: &[u8]) -> Option<DepthUpdate> {
    let (mut bids, mut asks) = (Levels::new(), Levels::new());
    match frame_parts(frame, &mut bids, &mut asks, &mut true) {
        Template::Diff(head) => Some(head.into_update(bids, asks)),
        Template::Event(_) | Template::Declined => None,
    }
}

/// What the template paths make of a frame.
pub(super) enum Template<'a> {
    /// A diff; its levels are in the caller's buffers.
    Diff(DiffHead<'a>),
    /// A combined `aggTrade` or `bookTicker` frame.
    Event(Event),
    /// Anything else: the general decoder's turn (level buffers may hold part of a diff's levels).
    Declined,
}

const DEPTH_PAYLOAD: &[u8] = b"{\"e\":\"depthUpdate\",";
const AGG_TRADE_PAYLOAD: &[u8] = b"{\"e\":\"aggTrade\",";

/// Every template path for one frame, the combined-stream wrapper read once: a diff with its levels appended to
/// `bids` and `asks`, or an aggTrade or bookTicker event, each raw or combined. Whatever it returns, the general
/// decoder returns too (property tests compare them); anything else is [`Template::Declined`]. `short_levels` is the
/// level reader's guess of the next list's shape (see `Cursor::levels`), kept from one frame to the next.
pub(super) fn frame_parts<'a, S: LevelSink>(
    frame: &'a [u8],
    bids: &mut S,
    asks: &mut S,
    short_levels: &mut bool,
) -> Template<'a> {
    let (stream, payload) = if frame.starts_with(COMBINED) {
        match combined(frame) {
            Some((stream, payload)) => (Some(stream), payload),
            None => return Template::Declined,
        }
    } else {
        (None, frame)
    };
    let event = if payload.starts_with(DEPTH_PAYLOAD) {
        if stream.is_some_and(dispatch::is_partial_depth_stream) {
            return Template::Declined;
        }
        return depth_update_parts(payload, bids, asks, short_levels).map_or(Template::Declined, Template::Diff);
    } else if payload.starts_with(AGG_TRADE_PAYLOAD) {
        agg_trade(payload).map(Event::AggTrade)
    } else {
        book_ticker(payload).map(Event::BookTicker)
    };
    event.map_or(Template::Declined, Template::Event)
}

const COMBINED: &[u8] = b"{\"stream\":\"";

/// The stream name and payload of a combined-stream frame `{"stream":"<name>","data":{..}}` laid out as Binance
/// sends it, with an object payload: the payload runs to the frame's closing brace (only white space may follow
/// it), as on the general path. `None` for anything else.
fn combined(frame: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut c = Cursor { s: frame, i: 0 };
    c.lit(COMBINED)?;
    let stream = c.plain_str()?;
    c.lit(b",\"data\":")?;
    let start = c.i;
    // Other payloads (arrays) leave before the scan for the closing brace.
    if !frame[start..].starts_with(b"{\"") {
        return None;
    }
    let end = frame.iter().rposition(|&b| !is_ws(b))?;
    (frame[end] == b'}' && end > start).then(|| (stream, &frame[start..end]))
}

/// Decodes a diff laid out exactly as Binance sends it, or returns `None`.
#[cfg(test)]
pub(super) fn depth_update(obj: &[u8]) -> Option<DepthUpdate> {
    let (mut bids, mut asks) = (Levels::new(), Levels::new());
    let head = depth_update_parts(obj, &mut bids, &mut asks, &mut true)?;
    Some(head.into_update(bids, asks))
}

fn depth_update_parts<'a, S: LevelSink>(
    obj: &'a [u8],
    bids: &mut S,
    asks: &mut S,
    short_levels: &mut bool,
) -> Option<DiffHead<'a>> {
    let mut c = Cursor { s: obj, i: 0 };
    c.lit(DEPTH_PAYLOAD)?;
    c.lit(b"\"E\":")?;
    let event_time = i64::try_from(c.uint()?).ok()?;
    let transact_time = if c.opt(b",\"T\":") {
        Some(i64::try_from(c.uint()?).ok()?)
    } else {
        None
    };
    c.lit(b",\"s\":\"")?;
    let symbol = c.plain_str()?;
    if c.opt(b",\"ps\":\"") {
        c.plain_str()?;
    }
    c.lit(b",\"U\":")?;
    let first_id = c.uint()?;
    c.lit(b",\"u\":")?;
    let final_id = c.uint()?;
    let prev_final_id = if c.opt(b",\"pu\":") { Some(c.uint()?) } else { None };
    c.lit(b",\"b\":")?;
    c.levels(bids, short_levels)?;
    c.lit(b",\"a\":")?;
    c.levels(asks, short_levels)?;
    c.lit(b"}")?;
    // Only white space may follow; the general decoder judges everything else.
    if !c.at_end() || first_id > final_id {
        return None;
    }
    Some(DiffHead {
        symbol,
        event_time,
        transact_time,
        first_id,
        final_id,
        prev_final_id,
    })
}

/// A `bookTicker` in one of Binance's key orders — spot `u,s,b,B,a,A`, USD-M `e,u,s,b,B,a,A,T,E`, COIN-M
/// `u,e,s,ps,b,B,a,A,T,E` — read in one pass without looking keys up; `None` for any other order (the general
/// decoder then reads it).
fn book_ticker(obj: &[u8]) -> Option<BookTicker> {
    const E: &[u8] = b"\"e\":\"bookTicker\",";
    let mut c = Cursor { s: obj, i: 0 };
    c.lit(b"{")?;
    let e_first = c.opt(E);
    c.lit(b"\"u\":")?;
    let update_id = c.uint()?;
    c.lit(b",")?;
    if !e_first {
        c.opt(E);
    }
    c.lit(b"\"s\":\"")?;
    let symbol = Symbol::new(std::str::from_utf8(c.plain_str()?).ok()?);
    if c.opt(b",\"ps\":\"") {
        c.plain_str()?;
    }
    c.lit(b",\"b\":\"")?;
    let bid_price = c.decimal()?;
    c.lit(b",\"B\":\"")?;
    let bid_qty = c.decimal()?;
    c.lit(b",\"a\":\"")?;
    let ask_price = c.decimal()?;
    c.lit(b",\"A\":\"")?;
    let ask_qty = c.decimal()?;
    if c.opt(b",\"T\":") {
        c.uint()?;
    }
    let event_time = if c.opt(b",\"E\":") {
        Some(i64::try_from(c.uint()?).ok()?)
    } else {
        None
    };
    c.lit(b"}")?;
    c.at_end().then_some(BookTicker {
        symbol,
        update_id,
        event_time,
        bid_price,
        bid_qty,
        ask_price,
        ask_qty,
    })
}

/// Decodes an `aggTrade` laid out exactly as Binance sends it, or returns `None`.
pub(super) fn agg_trade(obj: &[u8]) -> Option<AggTrade> {
    let mut c = Cursor { s: obj, i: 0 };
    c.lit(AGG_TRADE_PAYLOAD)?;
    c.lit(b"\"E\":")?;
    let event_time = i64::try_from(c.uint()?).ok()?;
    let (symbol, id);
    if c.opt(b",\"s\":\"") {
        symbol = c.plain_str()?;
        c.lit(b",\"a\":")?;
        id = c.uint()?;
    } else {
        c.lit(b",\"a\":")?;
        id = c.uint()?;
        c.lit(b",\"s\":\"")?;
        symbol = c.plain_str()?;
    }
    if symbol.is_empty() {
        return None;
    }
    c.lit(b",\"p\":\"")?;
    let price = c.decimal()?;
    c.lit(b",\"q\":\"")?;
    let qty = c.decimal()?;
    let normal_qty = if c.opt(b",\"nq\":\"") { Some(c.decimal()?) } else { None };
    c.lit(b",\"f\":")?;
    let first_trade_id = c.uint()?;
    c.lit(b",\"l\":")?;
    let last_trade_id = c.uint()?;
    c.lit(b",\"T\":")?;
    let time = i64::try_from(c.uint()?).ok()?;
    c.lit(b",\"m\":")?;
    let buyer_maker = c.boolean()?;
    if c.opt(b",\"M\":") {
        c.boolean()?;
    }
    c.lit(b"}")?;
    if !c.at_end() || first_trade_id > last_trade_id {
        return None;
    }
    Some(AggTrade {
        symbol: Symbol::new(std::str::from_utf8(symbol).ok()?),
        event_time: Some(event_time),
        id,
        price,
        qty,
        normal_qty,
        first_trade_id,
        last_trade_id,
        time,
        buyer_maker,
    })
}

#[cfg(test)]
mod tests;
