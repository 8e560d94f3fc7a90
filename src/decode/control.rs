//! Control replies (`{"result": null, "id": 1}` and Binance's two error shapes) and spot `serverShutdown`.

use super::json::Reader;
use super::{ControlReply, DecodeError, Event};

pub(super) fn decode_server_shutdown(obj: &[u8]) -> Result<Event, DecodeError> {
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

pub(super) fn decode_control(obj: &[u8]) -> Result<ControlReply, DecodeError> {
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
