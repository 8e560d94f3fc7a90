//! Client frames for the socket: masked, unfragmented (RFC 6455 §5.2, §5.3).

use super::{WsError, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};

/// Longest frame header: 2 bytes, a 64-bit length, a mask key.
const MAX_HEADER: usize = 14;

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
