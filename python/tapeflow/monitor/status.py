"""A Monitor's health report: connections, REST budget, sync, backfill and engine counters in one value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tapeflow.feeds.status import ConnectionStatus
from tapeflow.monitor.outages import LiquidationCopy
from tapeflow.store import StoreStatus
from tapeflow.sync.backfill import BackfillStatus
from tapeflow.sync.rest import RestStatus
from tapeflow.sync.snapshots import SnapshotStatus

__all__ = ["MonitorStatus"]


@dataclass(frozen=True)
class MonitorStatus:
    """A health report (see :meth:`tapeflow.Monitor.status`).

    Attributes:
        market: the market.
        now_ms: the monitor's clock.
        symbols: symbols watched.
        connections: one entry per stream connection.
        rest: REST client and weight budget.
        snapshots: snapshot scheduler counters.
        backfill: trade backfill counters (``None`` without flow).
        books: number of books per state (``SYNCED``, ``SYNCING``, ``GAP``).
        gaps_open: aggTrade gaps not filled yet, over all symbols.
        trades_backfilled: trades counted from REST pages (gap fills, tail checks, start-up fills), not duplicates.
        incomplete: symbols whose flow windows are not complete right now.
        frames: frames received; malformed: frames that were not valid JSON events (skipped);
        unknown: unknown event types by name (counted and skipped).
        routes: the route used for each USD-M stream kind (learned: a kind found silent is moved).
        engine_backlog: batches waiting for the engine; unsynced_reads_refused: book reads refused because the book
            was not synced; events_dropped: events a slow ``events()`` reader missed.
        liquidation_copies: the connections carrying the liquidation stream (two, opened at different times) and
            whether each is live; while one is, no liquidation is lost.
        store: the store's state (``None`` without a store): failing writes, rows queued and lost, checkpoints.
    """

    market: str
    now_ms: int
    symbols: int
    connections: tuple[ConnectionStatus, ...]
    rest: RestStatus
    snapshots: SnapshotStatus
    backfill: BackfillStatus | None
    books: Mapping[str, int]
    gaps_open: int
    trades_backfilled: int
    incomplete: int
    frames: int
    malformed: int
    unknown: Mapping[str, int]
    routes: Mapping[str, str]
    engine_backlog: int
    unsynced_reads_refused: int
    events_dropped: int
    liquidation_copies: tuple[LiquidationCopy, ...] = ()
    store: StoreStatus | None = None
