//! The general decoder: a frame read key by key, for every frame the template paths decline (another key order,
//! white space, escapes, arrays, control replies, rare event types). It accepts any valid JSON layout and names the
//! field of any error.

use super::json::{self, Peek, Reader};
use super::{control, depth, liq, trade, DecodeError, Event};

/// Decodes a frame key by key, appending its events to `out` (no template is tried). On error `out` may hold part
/// of the frame's events: the caller discards them.
pub(super) fn decode_frame(frame: &[u8], out: &mut Vec<Event>) -> Result<(), DecodeError> {
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

/// `@depth5`, `@depth10@100ms`, … are partial-depth streams (full top-N levels); `@depth`, `@depth@100ms` diffs:
/// the part after the first `@` starts with `depth` and runs on past it before any further `@`.
pub(super) fn is_partial_depth_stream(stream: &[u8]) -> bool {
    let Some(at) = crate::num::swar::position_of(stream, b'@') else {
        return false;
    };
    let part = &stream[at + 1..];
    part.len() > 5 && part.starts_with(b"depth") && part[5] != b'@'
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
            b"serverShutdown" => out.push(control::decode_server_shutdown(obj)?),
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
        Shape::Control => out.push(Event::Control(control::decode_control(obj)?)),
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
