//! The protocol violations a client must reject in what a server sends (RFC 6455 §5, §7.4).

use thiserror::Error;

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
