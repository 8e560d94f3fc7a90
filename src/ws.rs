//! WebSocket framing (RFC 6455), client side, Sans I/O: bytes from the socket in, whole messages and control frames
//! out; client frames (masked) encoded for the socket.
//!
//! [`WsDecoder::feed`] takes whatever a socket read returned — any number of frames, a frame cut anywhere — and
//! parses every complete frame in it. Frames that arrive whole in one read are handed out as slices of that read
//! (no copy); only the unfinished tail of a read is kept, and a later read first completes that one frame. A
//! fragmented message is joined in one reused buffer.
//!
//! The rules checked are the ones a client must enforce on what a server sends, with no extension negotiated:
//! unmasked frames, RSV bits 0, known opcodes, control frames unfragmented and at most 125 bytes (they may come
//! between the fragments of a message), continuations only inside a message and no new data frame inside one, a
//! 64-bit length with its top bit clear, a close payload that is empty or carries a valid code, and a maximum
//! message size. Any violation is a [`WsError`] and the decoder refuses all further input: the connection must be
//! dropped.
//!
//! Text payloads are **not** validated as UTF-8 here (nor close reasons): the engine validates every frame as JSON
//! downstream, which covers UTF-8, so checking twice would only cost time. Lengths need not be minimally encoded
//! (a 16-bit length below 126 is accepted). Anything after a close frame is ignored.

use thiserror::Error;

/// Opcode of a continuation frame.
pub const OP_CONTINUATION: u8 = 0x0;
/// Opcode of a text frame.
pub const OP_TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// Opcode of a pong frame.
pub const OP_PONG: u8 = 0xA;

/// Default maximum size of one message (all its fragments), in bytes: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

/// Longest frame header: 2 bytes, a 64-bit length, a mask key.
const MAX_HEADER: usize = 14;

/// A protocol violation by the server. The connection must be dropped (close code 1002, or 1009 for a message
/// over the size limit).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WsError {
    #[error("masked frame from the server (servers must not mask)")]
    MaskedFrame,
    #[error("reserved bits set ({bits:#x}) with no extension negotiated")]
    ReservedBits { bits: u8 },
    #[error("unknown opcode {opcode:#x}")]
    UnknownOpcode { opcode: u8 },
    #[error("fragmented control frame (opcode {opcode:#x})")]
    FragmentedControl { opcode: u8 },
    #[error("control frame (opcode {opcode:#x}) with a {len}-byte payload (at most 125)")]
    ControlTooLong { opcode: u8, len: u64 },
    #[error("continuation frame with no message in progress")]
    UnexpectedContinuation,
    #[error("new data frame (opcode {opcode:#x}) while a fragmented message is in progress")]
    MessageInProgress { opcode: u8 },
    #[error("64-bit payload length with the most significant bit set")]
    LengthOverflow,
    #[error("message of at least {size} bytes over the limit of {max} bytes")]
    MessageTooBig { size: u64, max: usize },
    #[error("close frame with a 1-byte payload")]
    CloseTooShort,
    #[error("close frame with invalid code {code}")]
    InvalidCloseCode { code: u16 },
}

impl WsError {
    /// A short stable name of the violation (`"masked_frame"`, `"message_too_big"`...).
    pub fn kind(&self) -> &'static str {
        match self {
            WsError::MaskedFrame => "masked_frame",
            WsError::ReservedBits { .. } => "reserved_bits",
            WsError::UnknownOpcode { .. } => "unknown_opcode",
            WsError::FragmentedControl { .. } => "fragmented_control",
            WsError::ControlTooLong { .. } => "control_too_long",
            WsError::UnexpectedContinuation => "unexpected_continuation",
            WsError::MessageInProgress { .. } => "message_in_progress",
            WsError::LengthOverflow => "length_overflow",
            WsError::MessageTooBig { .. } => "message_too_big",
            WsError::CloseTooShort => "close_too_short",
            WsError::InvalidCloseCode { .. } => "invalid_close_code",
        }
    }

    /// The close code a client would send for this violation: 1009 for an oversized message, else 1002.
    pub fn close_code(&self) -> u16 {
        if matches!(self, WsError::MessageTooBig { .. }) {
            1009
        } else {
            1002
        }
    }
}

/// One thing the decoder hands out, borrowed from the input or from its fragment buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A complete data message (fragments joined). `binary` is false for text (not UTF-8 validated).
    Message { binary: bool, payload: &'a [u8] },
    /// A ping; the caller answers it with a pong carrying the same payload.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// A close frame: its code (none for an empty payload) and reason (raw bytes).
    Close { code: Option<u16>, reason: &'a [u8] },
}

/// An owned [`Frame`], for callers that collect (and for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedFrame {
    Message { binary: bool, payload: Vec<u8> },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close { code: Option<u16>, reason: Vec<u8> },
}

impl From<Frame<'_>> for OwnedFrame {
    fn from(f: Frame<'_>) -> Self {
        match f {
            Frame::Message { binary, payload } => OwnedFrame::Message {
                binary,
                payload: payload.to_vec(),
            },
            Frame::Ping(p) => OwnedFrame::Ping(p.to_vec()),
            Frame::Pong(p) => OwnedFrame::Pong(p.to_vec()),
            Frame::Close { code, reason } => OwnedFrame::Close {
                code,
                reason: reason.to_vec(),
            },
        }
    }
}

/// What the parser knows between frames (kept apart from the input buffer so it can parse from either).
#[derive(Debug)]
struct State {
    max_message_size: usize,
    /// Opcode of the fragmented message in progress.
    fragmented: Option<u8>,
    fragments: Vec<u8>,
    closed: bool,
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
struct Header {
    fin: bool,
    opcode: u8,
    len: usize,
    payload_len: u64,
}

/// Reads a header from the start of `b`: `Ok(None)` if `b` does not hold all of it yet. Checks every rule that
/// the header alone decides, so a bad frame fails before its payload arrives.
#[inline]
fn read_header(st: &State, b: &[u8]) -> Result<Option<Header>, WsError> {
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
fn parse<F: FnMut(Frame<'_>)>(st: &mut State, b: &[u8], f: &mut F) -> Result<usize, WsError> {
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

/// The client-side frame decoder. See the module doc.
#[derive(Debug)]
pub struct WsDecoder {
    /// The unfinished frame carried over from earlier reads (at most one frame).
    pending: Vec<u8>,
    st: State,
    failed: Option<WsError>,
}

impl Default for WsDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_MESSAGE_SIZE)
    }
}

impl WsDecoder {
    /// A decoder refusing messages over `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> Self {
        Self {
            pending: Vec::new(),
            st: State {
                max_message_size,
                fragmented: None,
                fragments: Vec::new(),
                closed: false,
            },
            failed: None,
        }
    }

    /// The size limit of one message.
    pub fn max_message_size(&self) -> usize {
        self.st.max_message_size
    }

    /// True once a close frame was decoded (later input is ignored).
    pub fn is_closed(&self) -> bool {
        self.st.closed
    }

    /// Bytes held over from earlier reads (the start of an unfinished frame).
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Feeds one read and calls `f` for every complete message and control frame, in order. On a protocol
    /// violation, the frames before it have been handed out and the error is returned, now and on every later
    /// call.
    pub fn feed_with<F: FnMut(Frame<'_>)>(&mut self, data: &[u8], mut f: F) -> Result<(), WsError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.feed_inner(data, &mut f);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
            self.pending = Vec::new();
        }
        r
    }

    /// [`feed_with`](Self::feed_with), collecting owned frames.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<OwnedFrame>, WsError> {
        let mut out = Vec::new();
        self.feed_with(data, |fr| out.push(fr.into()))?;
        Ok(out)
    }

    fn feed_inner<F: FnMut(Frame<'_>)>(&mut self, mut data: &[u8], f: &mut F) -> Result<(), WsError> {
        // First finish the frame left over from the last read, copying only its own bytes.
        while !self.pending.is_empty() && !data.is_empty() && !self.st.closed {
            let need = match read_header(&self.st, &self.pending)? {
                Some(h) => h.len + h.payload_len as usize,
                None => {
                    // Header incomplete: the header length is known from the second byte on.
                    match self.pending.get(1).map(|b| b & 0x7F) {
                        Some(126) => 4,
                        Some(127) => 10,
                        _ => 2,
                    }
                }
            };
            let take = need.saturating_sub(self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            let used = parse(&mut self.st, &self.pending, f)?;
            if used > 0 {
                debug_assert_eq!(used, self.pending.len());
                self.pending.clear();
                if self.pending.capacity() > 1 << 20 {
                    self.pending = Vec::new();
                }
            }
        }
        if self.st.closed {
            self.pending.clear();
            return Ok(());
        }
        if self.pending.is_empty() && !data.is_empty() {
            // The common case: parse straight from the read, keep its tail.
            let used = parse(&mut self.st, data, f)?;
            if !self.st.closed {
                self.pending.extend_from_slice(&data[used..]);
            }
        }
        Ok(())
    }
}

/// Whether a client may send a frame with `opcode` and a payload of `len` bytes as one unfragmented frame.
pub fn check_client_frame(opcode: u8, len: usize) -> Result<(), WsError> {
    match opcode {
        OP_TEXT | OP_BINARY => Ok(()),
        OP_CLOSE | OP_PING | OP_PONG if len <= 125 => Ok(()),
        OP_CLOSE | OP_PING | OP_PONG => Err(WsError::ControlTooLong {
            opcode,
            len: len as u64,
        }),
        _ => Err(WsError::UnknownOpcode { opcode }),
    }
}

/// Encodes one unfragmented (FIN) client frame, masked with `mask_key` as RFC 6455 requires of clients. The
/// opcode and length are taken as given: see [`check_client_frame`].
pub fn encode_client_frame(opcode: u8, payload: &[u8], mask_key: [u8; 4]) -> Vec<u8> {
    let n = payload.len();
    let mut out = Vec::with_capacity(n + MAX_HEADER);
    out.push(0x80 | (opcode & 0x0F));
    if n < 126 {
        out.push(0x80 | n as u8);
    } else if n <= 0xFFFF {
        out.push(0x80 | 0x7E);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0x80 | 0x7F);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask_key);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], mask_key);
    out
}

/// XORs `data` with the repeating 4-byte `mask` (starting at mask byte 0), eight bytes at a time.
pub fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let m8 = u64::from_ne_bytes([mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        c.copy_from_slice(&(u64::from_ne_bytes(w) ^ m8).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i & 3]; // the remainder starts at a multiple of 8, so at mask byte 0
    }
}

#[cfg(test)]
mod tests;
