"""What the Monitor does with the engine's actions: fetch snapshots, start backfills, route control replies, rotate
on a server's shutdown notice, and report events."""

from __future__ import annotations

from collections.abc import Callable, MutableSequence, Sequence

from tapeflow._core import (
    Action,
    BigTrade,
    BookGap,
    BookSynced,
    ControlReply,
    Liquidation,
    ServerShutdown,
    SnapshotNeeded,
    TradeGap,
)
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
        liquidations: where kept liquidations go (the Monitor's recent ones).
    """

    def __init__(
        self,
        books: Callable[[], set[str]],
        snapshots: SnapshotScheduler,
        backfill: TradeBackfill | None,
        pool: ConnectionPool,
        events: EventHub,
        liquidations: MutableSequence[Liquidation],
    ) -> None:
        self.books = books
        self.snapshots = snapshots
        self.backfill = backfill
        self.pool = pool
        self.events = events
        self.liquidations = liquidations

    def handle(self, actions: Sequence[Action], conn: FeedConnection | None) -> None:
        emit = self.events.emit
        for a in actions:
            match a:
                case SnapshotNeeded(sym):
                    if sym in self.books():
                        self.snapshots.request(sym)
                case BookSynced(sym, last_update_id):
                    emit("synced", sym, {"last_update_id": last_update_id})
                case BookGap(sym, expected, got):
                    emit("book_gap", sym, {"expected": expected, "got": got})
                case ControlReply(rid, _, code, msg):
                    owner = self.pool.owner_of(rid) if rid is not None else None
                    if owner is not None and rid is not None:
                        owner.on_control(rid, (code, msg or "") if code is not None else None)
                case ServerShutdown() if conn is not None:
                    conn.rotate()
                case TradeGap(sym, from_id, to_id) if self.backfill is not None:
                    self.backfill.gap(sym, from_id, to_id)
                    emit("trade_gap", sym, {"from_id": from_id, "to_id": to_id})
                case BigTrade():
                    emit("big_trade", a.symbol, _money(a, trade_id=a.trade_id, side=a.side), a.time_ms)
                case Liquidation():
                    self.liquidations.append(a)
                    emit("liquidation", a.symbol, _money(a, side=a.side, order_side=a.order_side), a.time_ms)


def _money(a: BigTrade | Liquidation, **data: object) -> dict[str, object]:
    """An event's price, quantity and notional: floats, and the exact decimal strings beside them."""
    return {
        **data,
        "price": a.price,
        "qty": a.qty,
        "notional": a.notional,
        "price_exact": a.price_exact,
        "qty_exact": a.qty_exact,
        "notional_exact": a.notional_exact,
    }
