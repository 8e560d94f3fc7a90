//! Frame headers and frames read from the start of a buffer, checked against the client-side rules of RFC 6455.

use super::{Frame, WsError, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};

/// What the parser knows between frames (kept apart from the input buffer so it can parse from either).
#[derive(Debug)]
pub(super) struct State {
    pub(super) max_message_size: usize,
    /// Opcode of the fragmented message in progress.
    pub(super) fragmented: Option<u8>,
    pub(super) fragments: Vec<u8>,
    pub(super) closed: bool,
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
pub(super) struct Header {
    fin: bool,
    opcode: u8,
    pub(super) len: usize,
    pub(super) payload_len: u64,
}

/// Reads a header from the start of `b`: `Ok(None)` if `b` does not hold all of it yet. Checks every rule that
/// the header alone decides, so a bad frame fails before its payload arrives.
#[inline]
pub(super) fn read_header(st: &State, b: &[u8]) -> Result<Option<Header>, WsError> {
    if b.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (b[0], b[1]);
    let fin = b0 & 0x80 != 0;
    let rsv = b0 & 0x70;
    let opcode = b0 & 0x0F;
    if rsv != 0 {
        return Err(WsError::ReservedBits { bits: rsv >> 4 });
    }
    if b1 & 0x80 != 0 {
        return Err(WsError::MaskedFrame);
    }
    let (header_len, payload_len) = match b1 & 0x7F {
        126 => {
            if b.len() < 4 {
                return Ok(None);
            }
            (4, u64::from(u16::from_be_bytes([b[2], b[3]])))
        }
        127 => {
            if b.len() < 10 {
                return Ok(None);
            }
            let n = u64::from_be_bytes([b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]]);
            if n >> 63 != 0 {
                return Err(WsError::LengthOverflow);
            }
            (10, n)
        }
        n => (2, u64::from(n)),
    };
    match opcode {
        OP_TEXT | OP_BINARY => {
            if st.fragmented.is_some() {
                return Err(WsError::MessageInProgress { opcode });
            }
            if payload_len > st.max_message_size as u64 {
                return Err(WsError::MessageTooBig {
                    size: payload_len,
                    max: st.max_message_size,
                });
            }
        }
        OP_CONTINUATION => {
            if st.fragmented.is_none() {
                return Err(WsError::UnexpectedContinuation);
            }
            let size = st.fragments.len() as u64 + payload_len;
            if size > st.max_message_size as u64 {
                return Err(WsError::MessageTooBig {
                    size,
                    max: st.max_message_size,
                });
            }
        }
        OP_CLOSE | OP_PING | OP_PONG => {
            if !fin {
                return Err(WsError::FragmentedControl { opcode });
            }
            if payload_len > 125 {
                return Err(WsError::ControlTooLong {
                    opcode,
                    len: payload_len,
                });
            }
        }
        _ => return Err(WsError::UnknownOpcode { opcode }),
    }
    Ok(Some(Header {
        fin,
        opcode,
        len: header_len,
        payload_len,
    }))
}

fn valid_close_code(code: u16) -> bool {
    // RFC 6455 §7.4: 1000-1003, 1007-1014 defined or reserved for the protocol and sendable; 3000-4999 for
    // libraries and applications. 1004-1006, 1015 must not be sent; below 1000 and 1016-2999 are not assigned.
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Handles one complete frame (header checked, payload whole).
#[inline]
fn on_frame<F: FnMut(Frame<'_>)>(st: &mut State, h: Header, payload: &[u8], f: &mut F) -> Result<(), WsError> {
    match h.opcode {
        OP_TEXT | OP_BINARY => {
            if h.fin {
                f(Frame::Message {
                    binary: h.opcode == OP_BINARY,
                    payload,
                });
            } else {
                st.fragments.clear();
                st.fragments.extend_from_slice(payload);
                st.fragmented = Some(h.opcode);
            }
        }
        OP_CONTINUATION => {
            st.fragments.extend_from_slice(payload);
            if h.fin {
                let opcode = st.fragmented.take().unwrap_or(OP_TEXT);
                f(Frame::Message {
                    binary: opcode == OP_BINARY,
                    payload: &st.fragments,
                });
                st.fragments.clear();
                if st.fragments.capacity() > 1 << 20 {
                    st.fragments = Vec::new(); // do not hold on to the memory of one huge message
                }
            }
        }
        OP_PING => f(Frame::Ping(payload)),
        OP_PONG => f(Frame::Pong(payload)),
        _ => {
            // OP_CLOSE (read_header admits no other opcode)
            let (code, reason) = match payload.len() {
                0 => (None, &payload[..0]),
                1 => return Err(WsError::CloseTooShort),
                _ => {
                    let code = u16::from_be_bytes([payload[0], payload[1]]);
                    if !valid_close_code(code) {
                        return Err(WsError::InvalidCloseCode { code });
                    }
                    (Some(code), &payload[2..])
                }
            };
            st.closed = true;
            f(Frame::Close { code, reason });
        }
    }
    Ok(())
}

/// Parses every complete frame at the start of `b`; returns how many bytes they took.
#[inline]
pub(super) fn parse<F: FnMut(Frame<'_>)>(st: &mut State, b: &[u8], f: &mut F) -> Result<usize, WsError> {
    let mut at = 0;
    while !st.closed {
        let rest = &b[at..];
        let Some(h) = read_header(st, rest)? else { break };
        // payload_len <= max_message_size or <= 125 here, so it fits in usize.
        let end = h.len + h.payload_len as usize;
        if rest.len() < end {
            break;
        }
        on_frame(st, h, &rest[h.len..end], f)?;
        at += end;
    }
    Ok(at)
}
