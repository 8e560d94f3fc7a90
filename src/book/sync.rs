//! The local-book sync procedures of Binance (`reference/binance-api.md` §4), one state machine per symbol.
//!
//! Spot (S-WS "How to manage a local order book correctly", corrected 2025-11-12): buffer diffs; a snapshot with
//! `lastUpdateId + 1 < U` of the first buffered diff is too old (fetch again); drop diffs with `u <= lastUpdateId`;
//! then for every diff: `u <= id` is stale, `U > id + 1` is a gap, otherwise apply and set `id = u`.
//!
//! Futures (USD-M and COIN-M): drop diffs with `u < lastUpdateId` (strictly less); the first applied diff must have
//! `U <= lastUpdateId <= u`; afterwards every diff's `pu` must equal the previous diff's `u`. Update ids are not
//! contiguous, so `U == prev u + 1` is never tested. One extension: a first diff whose `pu` equals `lastUpdateId`
//! also connects (it is exactly the next link of the `pu` chain), which saves a second snapshot when the snapshot
//! falls on an event boundary; the official rule would call that snapshot too old.
//!
//! The continuity check runs on every diff, not only after a snapshot. A gap discards the book and restarts the
//! procedure with the diff that revealed it as the first buffered event.

use std::collections::VecDeque;

use super::OrderBook;
use crate::decode::{DepthSnapshot, DepthUpdate, Level};

/// Which Binance market (and so which sync procedure) a book follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Market {
    Spot,
    UsdM,
    CoinM,
}

impl Market {
    pub fn is_futures(self) -> bool {
        !matches!(self, Self::Spot)
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "spot" => Some(Self::Spot),
            "usdm" | "usd-m" | "um" | "futures" => Some(Self::UsdM),
            "coinm" | "coin-m" | "cm" => Some(Self::CoinM),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Spot => "spot",
            Self::UsdM => "usdm",
            Self::CoinM => "coinm",
        }
    }
}

/// Sync state of one book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncState {
    /// Buffering diffs until a snapshot connects to them.
    Syncing,
    /// Snapshot applied and every diff since connected: the book is exact.
    Synced,
    /// A diff did not connect (or the book crossed); the book was discarded and needs a new snapshot.
    Gap,
}

/// What applying one diff did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Applied to a synced book.
    Applied,
    /// Older than the book (a duplicate or a replay): ignored.
    Stale,
    /// Buffered while waiting for a snapshot. `snapshot_needed` is true for the first buffered diff of an episode.
    Buffered { snapshot_needed: bool },
    /// Did not connect: the book is now in [`SyncState::Gap`] and needs a snapshot.
    Gap { expected: u64, got: u64 },
    /// A valid diff crossed the book (best bid ≥ best ask): treated as a gap.
    Crossed,
}

/// What feeding a snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// The book is synced; `applied` buffered diffs were replayed on top of the snapshot.
    Synced { last_update_id: u64, applied: usize },
    /// The snapshot is older than the first buffered diff: fetch another one.
    TooOld { last_update_id: u64, first_buffered: u64 },
    /// The book is already synced at or past this snapshot; nothing changed.
    Ignored,
    /// The buffered diffs did not connect after the snapshot (book in [`SyncState::Gap`]); fetch another one.
    Gap { expected: u64, got: u64 },
}

/// Counters kept per book.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStats {
    pub applied: u64,
    pub stale: u64,
    pub buffered: u64,
    pub gaps: u64,
    pub snapshots: u64,
    pub buffer_overflow: u64,
}

/// One symbol's book and its sync state machine.
#[derive(Debug, Clone)]
pub struct BookSync {
    market: Market,
    state: SyncState,
    book: OrderBook,
    buffer: VecDeque<DepthUpdate>,
    buffer_limit: usize,
    /// Futures, after a snapshot with no connecting diff buffered: the next diff must straddle `lastUpdateId`.
    awaiting_first: bool,
    snapshot_requested: bool,
    pub stats: SyncStats,
}

impl BookSync {
    pub fn new(market: Market, buffer_limit: usize) -> Self {
        Self {
            market,
            state: SyncState::Syncing,
            book: OrderBook::new(),
            buffer: VecDeque::new(),
            buffer_limit: buffer_limit.max(1),
            awaiting_first: false,
            snapshot_requested: false,
            stats: SyncStats::default(),
        }
    }

    pub fn market(&self) -> Market {
        self.market
    }

    pub fn state(&self) -> SyncState {
        self.state
    }

    /// The book, whatever its state: callers must check [`Self::state`] before serving it.
    pub fn book(&self) -> &OrderBook {
        &self.book
    }

    /// Heap bytes held: the book and the buffered diffs (with their levels beyond the inline ones).
    pub fn heap_bytes(&self) -> usize {
        let level = std::mem::size_of::<crate::decode::Level>();
        let spilled = |l: &crate::decode::Levels| if l.spilled() { l.capacity() * level } else { 0 };
        self.book.heap_bytes()
            + self.buffer.capacity() * std::mem::size_of::<DepthUpdate>()
            + self
                .buffer
                .iter()
                .map(|d| spilled(&d.bids) + spilled(&d.asks))
                .sum::<usize>()
    }

    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Applies one diff under the market's rules.
    pub fn apply(&mut self, d: DepthUpdate) -> ApplyOutcome {
        match self.state {
            SyncState::Syncing | SyncState::Gap => self.buffer_diff(d),
            SyncState::Synced => self.apply_synced(d),
        }
    }

    fn buffer_diff(&mut self, d: DepthUpdate) -> ApplyOutcome {
        if self.buffer.len() >= self.buffer_limit {
            // The oldest diff goes; a snapshot older than the new first diff will be reported too old.
            self.buffer.pop_front();
            self.stats.buffer_overflow += 1;
        }
        self.buffer.push_back(d);
        self.stats.buffered += 1;
        let snapshot_needed = !self.snapshot_requested;
        self.snapshot_requested = true;
        ApplyOutcome::Buffered { snapshot_needed }
    }

    fn apply_synced(&mut self, d: DepthUpdate) -> ApplyOutcome {
        match self.check(d.first_id, d.final_id, d.prev_final_id) {
            Check::Stale => {
                self.stats.stale += 1;
                ApplyOutcome::Stale
            }
            Check::Gap { expected, got } => {
                self.enter_gap(d);
                ApplyOutcome::Gap { expected, got }
            }
            Check::Apply => self.apply_checked(d.final_id, d.event_time, &d.bids, &d.asks),
        }
    }

    /// Applies a diff given by its parts when the book is synced and the diff is stale or connects; `None` when
    /// it needs [`Self::apply`] with the owned diff (the book is not synced, or the diff opens a gap and is kept).
    pub fn apply_parts(
        &mut self,
        first_id: u64,
        final_id: u64,
        prev_final_id: Option<u64>,
        event_time: i64,
        bids: &[Level],
        asks: &[Level],
    ) -> Option<ApplyOutcome> {
        if self.state != SyncState::Synced {
            return None;
        }
        match self.check(first_id, final_id, prev_final_id) {
            Check::Stale => {
                self.stats.stale += 1;
                Some(ApplyOutcome::Stale)
            }
            Check::Gap { .. } => None,
            Check::Apply => Some(self.apply_checked(final_id, event_time, bids, asks)),
        }
    }

    /// The continuity check of a diff against the synced book.
    #[inline]
    fn check(&self, first_id: u64, final_id: u64, prev_final_id: Option<u64>) -> Check {
        let id = self.book.last_update_id;
        if self.market.is_futures() {
            if self.awaiting_first {
                if final_id < id {
                    Check::Stale
                } else if first_id > id && prev_final_id != Some(id) {
                    Check::Gap {
                        expected: id,
                        got: first_id,
                    }
                } else {
                    Check::Apply
                }
            } else if final_id <= id {
                Check::Stale
            } else {
                match prev_final_id {
                    Some(pu) if pu == id => Check::Apply,
                    Some(pu) => Check::Gap { expected: id, got: pu },
                    // A futures diff without `pu` cannot be checked: never apply it blindly.
                    None => Check::Gap {
                        expected: id,
                        got: first_id,
                    },
                }
            }
        } else if final_id <= id {
            Check::Stale
        } else if first_id > id + 1 {
            Check::Gap {
                expected: id + 1,
                got: first_id,
            }
        } else {
            Check::Apply
        }
    }

    /// Applies a diff that passed the check.
    #[inline]
    fn apply_checked(&mut self, final_id: u64, event_time: i64, bids: &[Level], asks: &[Level]) -> ApplyOutcome {
        self.awaiting_first = false;
        self.book.apply_levels(bids, asks);
        self.book.last_update_id = final_id;
        self.book.event_time = Some(event_time);
        self.stats.applied += 1;
        if self.book.is_crossed() {
            self.book.clear();
            self.state = SyncState::Gap;
            self.snapshot_requested = true;
            self.stats.gaps += 1;
            return ApplyOutcome::Crossed;
        }
        ApplyOutcome::Applied
    }

    /// Discards the book; `first` becomes the first buffered diff of the new episode.
    fn enter_gap(&mut self, first: DepthUpdate) {
        self.book.clear();
        self.buffer.clear();
        self.buffer.push_back(first);
        self.state = SyncState::Gap;
        self.awaiting_first = false;
        self.snapshot_requested = true;
        self.stats.gaps += 1;
    }

    /// Marks that the caller will fetch a snapshot (so the next buffered diff does not ask again).
    pub fn mark_snapshot_requested(&mut self) {
        self.snapshot_requested = true;
    }

    /// Forgets an outstanding snapshot request (e.g. the fetch failed): the next diff asks again.
    pub fn clear_snapshot_request(&mut self) {
        self.snapshot_requested = false;
    }

    /// Discards the book and starts over, as after a reconnect: buffered diffs are dropped too.
    pub fn reset(&mut self) {
        self.book.clear();
        self.buffer.clear();
        self.state = SyncState::Syncing;
        self.awaiting_first = false;
        self.snapshot_requested = false;
    }

    /// Feeds a REST snapshot that holds whole sides and replays the buffered diffs that follow it.
    pub fn apply_snapshot(&mut self, snap: &DepthSnapshot) -> SnapshotOutcome {
        self.apply_snapshot_traced(snap, None, &mut |_| {})
    }

    /// As [`Self::apply_snapshot`] for a snapshot asked for with `limit` levels a side (`None`: whole sides; see
    /// [`OrderBook::load`]), calling `on_applied` with the book after each replayed diff.
    pub fn apply_snapshot_traced(
        &mut self,
        snap: &DepthSnapshot,
        limit: Option<usize>,
        on_applied: &mut dyn FnMut(&OrderBook),
    ) -> SnapshotOutcome {
        let lid = snap.last_update_id;
        if self.state == SyncState::Synced {
            return SnapshotOutcome::Ignored;
        }
        self.stats.snapshots += 1;
        let futures = self.market.is_futures();
        if let Some(first) = self.buffer.front() {
            // Spot: too old when lastUpdateId < U − 1 (U == lastUpdateId + 1 connects, §4.1 step 4).
            // Futures: the first diff kept must have U <= lastUpdateId, so U > lastUpdateId with u >= it is too old.
            let too_old = if futures {
                self.buffer
                    .iter()
                    .find(|d| d.final_id >= lid)
                    .is_some_and(|d| d.first_id > lid && d.prev_final_id != Some(lid))
            } else {
                lid.saturating_add(1) < first.first_id
            };
            if too_old {
                self.snapshot_requested = true;
                return SnapshotOutcome::TooOld {
                    last_update_id: lid,
                    first_buffered: first.first_id,
                };
            }
        }
        // Drop what the snapshot already contains: spot u <= lastUpdateId, futures u < lastUpdateId.
        self.buffer
            .retain(|d| if futures { d.final_id >= lid } else { d.final_id > lid });
        self.book.load(&snap.bids, &snap.asks, lid, limit);
        self.book.event_time = snap.event_time;
        self.state = SyncState::Synced;
        self.awaiting_first = futures;
        self.snapshot_requested = false;
        let mut applied = 0;
        let mut pending = std::mem::take(&mut self.buffer);
        while let Some(d) = pending.pop_front() {
            let outcome = self.apply_synced(d);
            let gap = match outcome {
                ApplyOutcome::Applied => {
                    applied += 1;
                    on_applied(&self.book);
                    None
                }
                ApplyOutcome::Stale | ApplyOutcome::Buffered { .. } => None,
                ApplyOutcome::Gap { expected, got } => Some((expected, got)),
                ApplyOutcome::Crossed => Some((lid, self.book.last_update_id)),
            };
            if let Some((expected, got)) = gap {
                // The book is in Gap: what is left stays buffered for the next snapshot.
                self.buffer.extend(pending);
                return SnapshotOutcome::Gap { expected, got };
            }
        }
        SnapshotOutcome::Synced {
            last_update_id: self.book.last_update_id,
            applied,
        }
    }
}

enum Check {
    Apply,
    Stale,
    Gap { expected: u64, got: u64 },
}
