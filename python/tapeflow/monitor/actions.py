"""What the Monitor does with the engine's actions: fetch snapshots, start backfills, route control replies, rotate
on a server's shutdown notice, and report events."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tapeflow._core import Action
from tapeflow.feeds.connection import FeedConnection
from tapeflow.monitor.connections import ConnectionPool
from tapeflow.monitor.events import EventHub
from tapeflow.sync.backfill import TradeBackfill
from tapeflow.sync.snapshots import SnapshotScheduler

__all__ = ["ActionRouter"]


class ActionRouter:
    """Dispatches actions to the parts of a Monitor that act on them.

    Args:
        books: the symbols whose books are kept (a snapshot request for another symbol is ignored).
        snapshots / backfill / pool / events: the Monitor's parts.
    """

    def __init__(
        self,
        books: Callable[[], set[str]],
        snapshots: SnapshotScheduler,
        backfill: TradeBackfill | None,
        pool: ConnectionPool,
        events: EventHub,
    ) -> None:
        self.books = books
        self.snapshots = snapshots
        self.backfill = backfill
        self.pool = pool
        self.events = events

    def handle(self, actions: Sequence[Action], conn: FeedConnection | None) -> None:
        emit = self.events.emit
        for a in actions:
            kind = a.kind
            sym = a.symbol
            if kind == "snapshot_needed" and sym is not None:
                if sym in self.books():
                    self.snapshots.request(sym)
            elif kind == "synced":
                emit("synced", sym, {"last_update_id": a.last_update_id})
            elif kind == "gap":
                emit("book_gap", sym, {"expected": a.expected, "got": a.got})
            elif kind == "control":
                rid = a.request_id
                owner = self.pool.owner_of(rid) if rid is not None else None
                err = (a.error_code, a.error_msg or "") if a.error_code is not None else None
                if owner is not None and rid is not None:
                    owner.on_control(rid, err)
            elif kind == "server_shutdown" and conn is not None:
                conn.rotate()
            elif kind == "trade_gap" and sym is not None and self.backfill is not None:
                from_id, to_id = a.from_id, a.to_id
                if from_id is not None and to_id is not None:
                    self.backfill.gap(sym, from_id, to_id)
                    emit("trade_gap", sym, {"from_id": from_id, "to_id": to_id})
            elif kind == "big_trade":
                data = {"trade_id": a.trade_id, "price": a.price, "qty": a.qty, "notional": a.notional, "side": a.side}
                emit("big_trade", sym, data, a.time_ms)
