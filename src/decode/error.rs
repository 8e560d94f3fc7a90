use crate::num::NumError;

/// A frame or REST body that is not what Binance sends: invalid JSON, a missing or mistyped field, a bad number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid JSON: {message} (byte {index})")]
    InvalidJson { message: String, index: usize },
    #[error("expected a JSON object, found {found}")]
    NotAnObject { found: String },
    #[error("{event} is missing required field {field:?}")]
    MissingField { event: &'static str, field: &'static str },
    #[error("field {field:?}: {message}")]
    WrongType { field: &'static str, message: String },
    #[error("field {field:?}: {source}")]
    BadNumber { field: &'static str, source: NumError },
}

impl DecodeError {
    pub(crate) fn invalid_json(message: String, index: usize) -> Self {
        Self::InvalidJson { message, index }
    }
    pub(crate) fn not_an_object(found: String) -> Self {
        Self::NotAnObject { found }
    }
    pub(crate) fn wrong_type(field: &'static str, message: String) -> Self {
        Self::WrongType { field, message }
    }
    pub(crate) fn bad_number(field: &'static str, source: NumError) -> Self {
        Self::BadNumber { field, source }
    }

    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::MissingField { field, .. } | Self::WrongType { field, .. } | Self::BadNumber { field, .. } => {
                Some(field)
            }
            _ => None,
        }
    }
}
