//! Book events: `depthUpdate` diffs, REST depth snapshots, partial depth and `bookTicker`.

use super::json::{Level, Levels, Reader};
use super::{DecodeError, Symbol};

/// A `depthUpdate` diff. Quantities are the new absolute level sizes; `0` removes a level.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DepthUpdate {
    pub symbol: Symbol,
    /// `E`, event time (ms, or µs on spot with `timeUnit=MICROSECOND`).
    pub event_time: i64,
    /// `T`, transaction time (futures only).
    pub transact_time: Option<i64>,
    /// `U`, first update id in the event.
    pub first_id: u64,
    /// `u`, final update id in the event.
    pub final_id: u64,
    /// `pu`, final update id of the previous event on the stream (futures only).
    pub prev_final_id: Option<u64>,
    pub bids: Levels,
    pub asks: Levels,
}

/// A REST depth snapshot (`/api/v3/depth`, `/fapi/v1/depth`, `/dapi/v1/depth`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DepthSnapshot {
    pub last_update_id: u64,
    /// `symbol`, present on COIN-M only.
    pub symbol: Option<Symbol>,
    pub event_time: Option<i64>,
    pub transact_time: Option<i64>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

/// Partial book depth: the full top-N levels at `last_update_id` (not a diff).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartialDepth {
    /// From the payload (futures) or the combined stream name (spot payloads carry no symbol).
    pub symbol: Option<Symbol>,
    pub last_update_id: u64,
    pub event_time: Option<i64>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

/// Best bid/ask. `update_id` is the book's update id, in the same id space as depth updates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BookTicker {
    pub symbol: Symbol,
    pub update_id: u64,
    /// `E`, absent on spot.
    pub event_time: Option<i64>,
    pub bid_price: i64,
    pub bid_qty: i64,
    pub ask_price: i64,
    pub ask_qty: i64,
}

pub(crate) fn symbol(r: &mut Reader<'_>, field: &'static str) -> Result<Symbol, DecodeError> {
    let raw = r.raw_str(field)?;
    // Symbols are ASCII (UTF-8 on spot since 2025-12); escapes are not expected but handled.
    if raw.is_ascii() && !raw.contains(&b'\\') {
        return Ok(Symbol::from_utf8(raw).unwrap_or_default());
    }
    match std::str::from_utf8(raw) {
        Ok(s) if !raw.contains(&b'\\') => Ok(Symbol::new(s)),
        _ => Ok(Symbol::new(r_string_fallback(raw))),
    }
}

/// Symbols with JSON escapes are not expected; decode them the slow way rather than reject them.
fn r_string_fallback(raw: &[u8]) -> String {
    let quoted = [b"\"", raw, b"\""].concat();
    let mut r = Reader::new(&quoted);
    r.string("s")
        .unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned())
}

const DEPTH: &str = "depthUpdate";

/// The key-by-key decoder: any key order, white space and escapes; names the field of any error.
pub(super) fn decode_depth_update_general(obj: &[u8]) -> Result<DepthUpdate, DecodeError> {
    let mut r = Reader::new(obj);
    let mut key = r.open_object()?;
    let mut d = DepthUpdate::default();
    let (mut has_s, mut has_e, mut has_first, mut has_final, mut has_b, mut has_a) =
        (false, false, false, false, false, false);
    while let Some(k) = key {
        match k {
            b"E" => (d.event_time, has_e) = (r.int("E")?, true),
            b"T" => d.transact_time = Some(r.int("T")?),
            b"s" => (d.symbol, has_s) = (symbol(&mut r, "s")?, true),
            b"U" => (d.first_id, has_first) = (r.uint("U")?, true),
            b"u" => (d.final_id, has_final) = (r.uint("u")?, true),
            b"pu" => d.prev_final_id = Some(r.uint("pu")?),
            b"b" => (r.levels_into("b", &mut d.bids)?, has_b = true).0,
            b"a" => (r.levels_into("a", &mut d.asks)?, has_a = true).0,
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    let missing = |field| Err(DecodeError::MissingField { event: DEPTH, field });
    if !has_s {
        return missing("s");
    }
    if !has_e {
        return missing("E");
    }
    if !has_first {
        return missing("U");
    }
    if !has_final {
        return missing("u");
    }
    if !has_b {
        return missing("b");
    }
    if !has_a {
        return missing("a");
    }
    if d.first_id > d.final_id {
        return Err(DecodeError::wrong_type(
            "U",
            format!("first id {} > final id {}", d.first_id, d.final_id),
        ));
    }
    Ok(d)
}

/// Decodes a REST depth snapshot body (all three markets).
pub fn decode_snapshot(body: &[u8]) -> Result<DepthSnapshot, DecodeError> {
    let mut r = Reader::new(body);
    let mut key = r.open_object()?;
    let mut s = DepthSnapshot::default();
    let (mut has_id, mut has_b, mut has_a) = (false, false, false);
    while let Some(k) = key {
        match k {
            b"lastUpdateId" => (s.last_update_id, has_id) = (r.uint("lastUpdateId")?, true),
            b"symbol" => s.symbol = Some(symbol(&mut r, "symbol")?),
            b"E" => s.event_time = Some(r.int("E")?),
            b"T" => s.transact_time = Some(r.int("T")?),
            b"bids" => (r.levels_into("bids", &mut s.bids)?, has_b = true).0,
            b"asks" => (r.levels_into("asks", &mut s.asks)?, has_a = true).0,
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    r.finish()?;
    let missing = |field| {
        Err(DecodeError::MissingField {
            event: "depth snapshot",
            field,
        })
    };
    if !has_id {
        return missing("lastUpdateId");
    }
    if !has_b {
        return missing("bids");
    }
    if !has_a {
        return missing("asks");
    }
    Ok(s)
}

/// Spot partial depth: `{"lastUpdateId", "bids", "asks"}`; the symbol comes from the stream name.
pub(super) fn decode_spot_partial(obj: &[u8], stream: Option<&str>) -> Result<PartialDepth, DecodeError> {
    let snap = decode_snapshot(obj)?;
    let symbol = stream
        .and_then(|s| s.split('@').next())
        .map(|s| Symbol::new(s.to_ascii_uppercase()));
    Ok(PartialDepth {
        symbol,
        last_update_id: snap.last_update_id,
        event_time: None,
        bids: snap.bids,
        asks: snap.asks,
    })
}

/// Futures partial depth has the diff's keys with full top-N levels.
pub(super) fn decode_futures_partial(obj: &[u8]) -> Result<PartialDepth, DecodeError> {
    let d = decode_depth_update_general(obj)?;
    Ok(PartialDepth {
        symbol: Some(d.symbol),
        last_update_id: d.final_id,
        event_time: Some(d.event_time),
        bids: d.bids.to_vec(),
        asks: d.asks.to_vec(),
    })
}

pub(super) fn decode_book_ticker(obj: &[u8]) -> Result<BookTicker, DecodeError> {
    let mut r = Reader::new(obj);
    let mut key = r.open_object()?;
    let mut t = BookTicker::default();
    let mut seen = 0u8;
    while let Some(k) = key {
        match k {
            b"s" => (t.symbol, seen) = (symbol(&mut r, "s")?, seen | 1),
            b"u" => (t.update_id, seen) = (r.uint("u")?, seen | 2),
            b"b" => (t.bid_price, seen) = (r.decimal("b")?, seen | 4),
            b"B" => (t.bid_qty, seen) = (r.decimal("B")?, seen | 8),
            b"a" => (t.ask_price, seen) = (r.decimal("a")?, seen | 16),
            b"A" => (t.ask_qty, seen) = (r.decimal("A")?, seen | 32),
            b"E" => t.event_time = Some(r.int("E")?),
            _ => r.skip()?,
        }
        key = r.next_key()?;
    }
    for (bit, field) in ["s", "u", "b", "B", "a", "A"].into_iter().enumerate() {
        if seen & (1 << bit) == 0 {
            return Err(DecodeError::MissingField {
                event: "bookTicker",
                field,
            });
        }
    }
    Ok(t)
}
