//! Checkpoints: the flow and liquidation state of an engine as one versioned, checksummed byte string, and its
//! restore into another engine of the same market and flow settings.
//!
//! Layout (integers little-endian):
//!
//! | bytes | what |
//! |---|---|
//! | 0..8 | magic `TFLWCKPT` |
//! | 8..10 | format version (`u16`), [`FORMAT_VERSION`] |
//! | 10 | market: 0 spot, 1 USD-M, 2 COIN-M |
//! | 11 | reserved, 0 |
//! | 12..44 | fingerprint of the flow settings: SHA-256 of their canonical text ([`config_text`]) |
//! | 44..52 | body length (`u64`) |
//! | 52..84 | SHA-256 of bytes 0..52 followed by the body |
//! | 84.. | body: the settings' text, the engine's heard-until clock and the flow part (`flow/checkpoint.rs`), the
//! liquidation part (`liq/checkpoint.rs`) |
//!
//! A restore checks, in this order, the magic, the version, the checksum, the market and the settings, then reads
//! the whole body; only then does it change the engine, so the engine is unchanged on any error.
//!
//! Writing is two steps, so that the engine is held only while its state is copied out: [`Engine::checkpoint_draft`]
//! encodes the state (its bulk, the flow sums, with fixed-size stores: see [`crate::codec::Record`]) into the final
//! buffer, and [`Draft::seal`], which needs no engine, computes the checksum into it. The draft can also be written a
//! few symbols at a time ([`Engine::checkpoint_drafter`], [`Drafter::step`]), the engine let go between steps as long
//! as nothing changes it: the steps write the same bytes.
//!
//! Versions: 2 writes each flow sum as a byte of which parts are not zero, then those parts (the wide ones as a
//! length and little-endian bytes); 1 wrote every part as a varint. Both are read; only 2 is written.

use sha2::{Digest, Sha256};

use super::Engine;
use crate::book::Market;
use crate::codec::{Reader, Writer};
use crate::decode::Symbol;
use crate::flow::{duration_name, FlowConfig};

/// Magic bytes that open every checkpoint.
pub const MAGIC: &[u8; 8] = b"TFLWCKPT";
/// The format version written; versions up to it are read (1 with its own sums encoding).
pub const FORMAT_VERSION: u16 = 2;
const HEADER: usize = 84;

/// Why a checkpoint could not be restored. The engine is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a tapeflow checkpoint (the data does not start with its magic bytes)")]
    NotACheckpoint,
    #[error("checkpoint format version {found} is newer than this tapeflow reads (up to {supported})")]
    NewerVersion { found: u16, supported: u16 },
    #[error("corrupt checkpoint: {0}")]
    Corrupt(String),
    #[error("the checkpoint is of the {found} market, this engine of {expected}")]
    Market { found: String, expected: String },
    #[error("the checkpoint was written with other flow settings ({found}); this engine has {expected}")]
    Config { found: String, expected: String },
}

impl CheckpointError {
    /// A short name of the reason: `not_a_checkpoint`, `newer_version`, `corrupt`, `market` or `config`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotACheckpoint => "not_a_checkpoint",
            Self::NewerVersion { .. } => "newer_version",
            Self::Corrupt(_) => "corrupt",
            Self::Market { .. } => "market",
            Self::Config { .. } => "config",
        }
    }
}

fn market_code(m: Market) -> u8 {
    match m {
        Market::Spot => 0,
        Market::UsdM => 1,
        Market::CoinM => 2,
    }
}

/// The flow settings as canonical text, e.g. `horizons=1m,5m intervals=1m history=60 big_e16=` (thresholds in
/// e16 quote units). Its SHA-256 is the checkpoint's settings fingerprint.
pub fn config_text(c: &FlowConfig) -> String {
    let names = |v: &[i64]| v.iter().map(|&ms| duration_name(ms)).collect::<Vec<_>>().join(",");
    let big: Vec<String> = c.big_e16.iter().map(ToString::to_string).collect();
    format!(
        "horizons={} intervals={} history={} big_e16={}",
        names(&c.horizons_ms),
        names(&c.intervals_ms),
        c.history,
        big.join(",")
    )
}

fn checksum(head: &[u8], body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(head);
    h.update(body);
    h.finalize().into()
}

/// Bytes a flow bucket or interval usually takes in a checkpoint, for the first allocation (more are added if needed;
/// what is not written is never touched).
const ITEM_BYTES: usize = 32;

/// A checkpoint written but not sealed: every byte but the checksum (see the module docs).
#[derive(Debug)]
pub struct Draft {
    data: Vec<u8>,
}

impl Draft {
    /// Bytes of the sealed checkpoint.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The checkpoint: the checksum computed into the draft's bytes (no copy).
    pub fn seal(mut self) -> Vec<u8> {
        let sum = checksum(&self.data[..52], &self.data[HEADER..]);
        self.data[52..HEADER].copy_from_slice(&sum);
        self.data
    }
}

/// A checkpoint being drafted a few symbols at a time: the flow part's symbols, then the liquidation part's, each
/// written whole (see [`Engine::checkpoint_drafter`]).
#[derive(Debug)]
pub struct Drafter {
    w: Writer,
    /// Symbols of the flow part.
    flow: usize,
    /// Symbols of the liquidation part, once its head is written.
    liq: Option<usize>,
    /// Symbols written so far, the flow part's first.
    next: usize,
}

impl Drafter {
    /// Writes the state of up to `max` more symbols (at least one) of `engine`, the engine the draft was begun on,
    /// unchanged since. Returns whether the draft is complete.
    ///
    /// # Panics
    /// If the engine has another number of symbols than when the draft was begun (the one change this can see).
    pub fn step(&mut self, engine: &Engine, max: usize) -> bool {
        let same =
            engine.flow.symbols().len() == self.flow && self.liq.is_none_or(|liq| engine.liq.symbols().len() == liq);
        assert!(same, "the engine changed during a checkpoint draft");
        let mut budget = max.max(1);
        if self.next < self.flow {
            let end = self.flow.min(self.next.saturating_add(budget));
            engine.flow.write_checkpoint_symbols(&mut self.w, self.next..end);
            budget -= end - self.next;
            self.next = end;
        }
        if self.next == self.flow && self.liq.is_none() {
            self.liq = Some(engine.liq.write_checkpoint_head(&mut self.w));
        }
        if let Some(liq) = self.liq.filter(|_| budget > 0) {
            let (start, end) = (self.next - self.flow, liq.min(self.next - self.flow + budget));
            engine.liq.write_checkpoint_symbols(&mut self.w, start..end);
            self.next += end - start;
        }
        self.is_complete()
    }

    /// Whether every symbol has been written.
    pub fn is_complete(&self) -> bool {
        self.liq.is_some_and(|liq| self.next == self.flow + liq)
    }

    /// The buffer, to be used again (e.g. for the next draft).
    pub fn into_buffer(self) -> Vec<u8> {
        self.w.buf
    }

    /// The draft, its body length filled in.
    ///
    /// # Panics
    /// If the draft is not complete.
    pub fn finish(mut self) -> Draft {
        assert!(self.is_complete(), "a checkpoint draft finished before its last step");
        let len = (self.w.buf.len() - HEADER) as u64;
        self.w.buf[44..52].copy_from_slice(&len.to_le_bytes());
        Draft { data: self.w.buf }
    }
}

impl Engine {
    /// The flow and liquidation state as a checkpoint (see the module docs). Counters and pending checks are not
    /// part of it; books are not either (a restart syncs them from fresh snapshots).
    pub fn checkpoint(&self) -> Vec<u8> {
        self.checkpoint_draft().seal()
    }

    /// The checkpoint without its checksum: all that needs the engine ([`Draft::seal`] finishes it).
    pub fn checkpoint_draft(&self) -> Draft {
        self.checkpoint_draft_in(Vec::new())
    }

    /// [`Engine::checkpoint_draft`] written into `buf` (emptied first): a buffer kept from an earlier checkpoint
    /// spares the allocation and the first touch of every page while the engine is held.
    pub fn checkpoint_draft_in(&self, buf: Vec<u8>) -> Draft {
        let mut drafter = self.checkpoint_drafter(buf);
        drafter.step(self, usize::MAX);
        drafter.finish()
    }

    /// The bytes a checkpoint of the state now is first given (more are added if it needs them).
    pub fn checkpoint_capacity(&self) -> usize {
        HEADER + config_text(self.flow.config()).len() + 64 + self.flow.checkpoint_items() * ITEM_BYTES
    }

    /// A draft to be written a few symbols at a time ([`Drafter::step`]), into `buf` (emptied first), so that the
    /// engine can be let go between steps. The engine must not change until the last step: the steps together then
    /// write exactly the bytes of [`Engine::checkpoint_draft_in`].
    pub fn checkpoint_drafter(&self, mut buf: Vec<u8>) -> Drafter {
        let text = config_text(self.flow.config());
        buf.clear();
        buf.reserve(self.checkpoint_capacity());
        let mut w = Writer { buf };
        w.buf.extend_from_slice(MAGIC);
        w.buf.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        w.buf.push(market_code(self.market));
        w.buf.push(0);
        w.buf.extend_from_slice(&Sha256::digest(text.as_bytes()));
        // Body length and checksum, filled in by `finish` and by `seal`.
        w.buf.resize(HEADER, 0);
        w.str(&text);
        let flow = self.flow.write_checkpoint_head(&mut w);
        Drafter {
            w,
            flow,
            liq: None,
            next: 0,
        }
    }

    /// Restores a checkpoint: the flow and liquidation state of the symbols it holds replace this engine's (other
    /// symbols are kept; clocks move to the later of the two). Returns those symbols. On error nothing changes.
    pub fn restore(&mut self, data: &[u8]) -> Result<Vec<Symbol>, CheckpointError> {
        let corrupt = |m: &str| CheckpointError::Corrupt(m.to_owned());
        if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
            return Err(CheckpointError::NotACheckpoint);
        }
        if data.len() < HEADER {
            return Err(corrupt("shorter than its header"));
        }
        let version = u16::from_le_bytes([data[8], data[9]]);
        if version > FORMAT_VERSION {
            return Err(CheckpointError::NewerVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if version == 0 {
            return Err(corrupt("format version 0"));
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&data[44..52]);
        let body = &data[HEADER..];
        if u64::from_le_bytes(len) != body.len() as u64 {
            return Err(corrupt(
                "truncated or extended: the body length differs from the header's",
            ));
        }
        if checksum(&data[..52], body)[..] != data[52..HEADER] {
            return Err(corrupt("checksum mismatch"));
        }
        if data[10] != market_code(self.market) {
            let found = [Market::Spot, Market::UsdM, Market::CoinM]
                .into_iter()
                .find(|&m| market_code(m) == data[10])
                .map_or_else(|| format!("unknown ({})", data[10]), |m| m.name().to_owned());
            return Err(CheckpointError::Market {
                found,
                expected: self.market.name().to_owned(),
            });
        }
        let mut r = Reader::new(body);
        let text = r.str().map_err(|e| CheckpointError::Corrupt(e.to_string()))?;
        let expected = config_text(self.flow.config());
        if Sha256::digest(expected.as_bytes())[..] != data[12..44] || text != expected {
            return Err(CheckpointError::Config {
                found: text.to_owned(),
                expected,
            });
        }
        let flow = self
            .flow
            .read_checkpoint(&mut r, version)
            .map_err(|e| CheckpointError::Corrupt(format!("flow part: {e}")))?;
        let liq = crate::liq::Liquidations::read_checkpoint(&mut r)
            .map_err(|e| CheckpointError::Corrupt(format!("liquidation part: {e}")))?;
        if !r.is_empty() {
            return Err(corrupt("bytes left after the body"));
        }
        let mut symbols = self.flow.restore(flow);
        let mut seen: rustc_hash::FxHashSet<Symbol> = symbols.iter().cloned().collect();
        for s in self.liq.restore(liq) {
            if seen.insert(s.clone()) {
                symbols.push(s);
            }
        }
        Ok(symbols)
    }
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "checkpoint_v1_tests.rs"]
mod v1_tests;

#[cfg(test)]
#[path = "checkpoint_steps_tests.rs"]
mod steps_tests;
