//! The engine's books: REST snapshots in, sync states and counts out, and the resets the I/O shell asks for.

use super::{action, Action, BookTrace, Engine};
use crate::book::{OrderBook, SnapshotOutcome, SyncState};
use crate::decode::{self, DecodeError};

/// Number of books per sync state; see [`Engine::sync_counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    pub synced: usize,
    pub syncing: usize,
    pub gap: usize,
}

impl Engine {
    /// Feeds a REST depth snapshot body for `symbol` that holds whole sides. A malformed body is an error and
    /// changes nothing.
    pub fn apply_snapshot(
        &mut self,
        symbol: &str,
        body: &[u8],
        actions: &mut Vec<Action>,
    ) -> Result<SnapshotOutcome, DecodeError> {
        self.apply_snapshot_of(symbol, body, None, actions)
    }

    /// [`Self::apply_snapshot`] of a snapshot asked for with `limit` levels a side: a side that holds that many may
    /// have been cut, and the book then knows its levels only down to the snapshot's deepest price
    /// ([`OrderBook::load`]).
    pub fn apply_snapshot_of(
        &mut self,
        symbol: &str,
        body: &[u8],
        limit: Option<usize>,
        actions: &mut Vec<Action>,
    ) -> Result<SnapshotOutcome, DecodeError> {
        let snap = decode::decode_snapshot(body)?;
        let symbol = symbol.to_ascii_uppercase();
        let i = self.slot(&symbol);
        let symbol = self.symbols[i].clone();
        let outcome = match self.trace_depth {
            Some(depth) => {
                let mut trace = |book: &OrderBook| actions.push(BookTrace::of(&symbol, book, depth));
                self.states[i].book.apply_snapshot_traced(&snap, limit, &mut trace)
            }
            None => self.states[i].book.apply_snapshot_traced(&snap, limit, &mut |_| {}),
        };
        action::snapshot(symbol, outcome, actions);
        Ok(outcome)
    }

    /// Sync state of a symbol's book (`None` if the symbol was never seen).
    pub fn sync_state(&self, symbol: &str) -> Option<SyncState> {
        self.state(symbol).map(|s| s.book.state())
    }

    /// How many of `symbols` have a book in each sync state (symbols never seen are not counted).
    pub fn sync_counts<'a>(&self, symbols: impl IntoIterator<Item = &'a str>) -> SyncCounts {
        let mut counts = SyncCounts::default();
        for state in symbols.into_iter().filter_map(|s| self.sync_state(s)) {
            match state {
                SyncState::Synced => counts.synced += 1,
                SyncState::Syncing => counts.syncing += 1,
                SyncState::Gap => counts.gap += 1,
            }
        }
        counts
    }

    /// Forgets an outstanding snapshot request (the fetch failed), so the next diff asks again.
    pub fn snapshot_failed(&mut self, symbol: &str) {
        if let Some(i) = self.symbols.get(symbol) {
            self.states[i].book.clear_snapshot_request();
        }
    }

    /// Discards every book, as after a reconnect of the depth connection.
    pub fn reset_books(&mut self) {
        for s in &mut self.states {
            s.book.reset();
        }
    }

    /// Discards one symbol's book.
    pub fn reset_book(&mut self, symbol: &str) {
        if let Some(i) = self.symbols.get(symbol) {
            self.states[i].book.reset();
        }
    }
}
