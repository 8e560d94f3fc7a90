//! tapeflow's engine: exact local order books, taker flow windows and liquidation statistics for Binance market
//! data. Sans I/O: bytes and timestamps in, state and results out. The Python bindings live in `python` (feature
//! `python`); everything else builds and tests without Python.

pub mod book;
pub mod codec;
pub mod decode;
pub mod engine;
pub mod flow;
pub mod liq;
pub mod num;
pub mod symbols;
pub mod ws;

#[cfg(feature = "python")]
mod python;

#[cfg(test)]
mod recordings;

pub use book::{Market, OrderBook, SyncState};
pub use decode::{DecodeError, Event};
pub use engine::{Action, Engine};
