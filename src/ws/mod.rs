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

mod encode;
mod error;
mod parse;

pub use encode::{apply_mask, check_client_frame, encode_client_frame};
pub use error::WsError;

use parse::{parse, read_header, State};

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

#[cfg(test)]
mod tests;
