"""REST bodies into the engine: depth snapshots and aggTrades pages go through the worker, in order with the frames
queued before them, and their actions go to the Monitor's action router.

This is the engine side of the snapshot scheduler and the trade backfill (:mod:`tapeflow.sync`): they fetch, this
applies. A malformed body is counted and changes nothing (a snapshot is then asked for again).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence

from tapeflow._core import Action, Engine, TradesPage
from tapeflow.monitor.events import EventHub
from tapeflow.monitor.worker import EngineWorker

__all__ = ["EngineBodies"]

log = logging.getLogger("tapeflow.monitor")


class EngineBodies:
    """Applies REST bodies to ``engine`` through ``worker``; ``on_actions`` takes the resulting actions,
    ``on_abandoned(symbol, from_id, to_id)`` hears of ids given up."""

    def __init__(
        self,
        engine: Engine,
        worker: EngineWorker,
        on_actions: Callable[[Sequence[Action]], None],
        events: EventHub,
        on_abandoned: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.engine = engine
        self.on_abandoned = on_abandoned
        self.worker = worker
        self.on_actions = on_actions
        self.events = events
        #: Bodies that were not valid (skipped).
        self.malformed = 0
        #: Trades counted from REST pages (not duplicates of streamed ones).
        self.trades_backfilled = 0

    # ------------------------------------------------------------------ snapshots
    async def apply_snapshot(self, symbol: str, body: bytes, limit: int) -> bool:
        engine = self.engine
        try:
            actions = await self.worker.call(lambda: engine.apply_snapshot(symbol, body, limit))
        except ValueError as e:  # DecodeError: a broken body, changing nothing
            log.warning("snapshot of %s is malformed: %s", symbol, e)
            self.malformed += 1
            return False
        self.on_actions(actions)
        return True

    def snapshot_failed(self, symbol: str) -> None:
        # Through the worker, like every other engine change, so it lands in order with the queued frames.
        self.worker.call(functools.partial(self.engine.snapshot_failed, symbol))

    # ------------------------------------------------------------------ trades
    async def apply_trades(
        self, symbol: str, body: bytes, from_time_ms: int | None, from_id: int | None
    ) -> TradesPage | None:
        engine = self.engine
        try:
            page: TradesPage = await self.worker.call(
                lambda: engine.apply_agg_trades(symbol, body, from_time_ms=from_time_ms, from_id=from_id)
            )
        except ValueError as e:
            log.warning("aggTrades page of %s is malformed: %s", symbol, e)
            self.malformed += 1
            return None
        self.trades_backfilled += page.counted
        if page.abandoned is not None:
            a, b = page.abandoned
            self._abandoned(symbol, a, b)
        self.on_actions(page.actions)
        return page

    async def abandon(self, symbol: str, from_id: int, to_id: int) -> None:
        engine = self.engine
        await self.worker.call(lambda: engine.abandon_gap(symbol, from_id, to_id))
        self._abandoned(symbol, from_id, to_id)

    def _abandoned(self, symbol: str, from_id: int, to_id: int) -> None:
        self.events.emit("gap_abandoned", symbol, {"from_id": from_id, "to_id": to_id})
        if self.on_abandoned is not None:
            self.on_abandoned(symbol, from_id, to_id)

    def open_gaps(self, symbol: str) -> list[tuple[int, int]]:
        return [(a, b) for _, a, b in self.engine.gaps(symbol)]

    def last_trade_id(self, symbol: str) -> int | None:
        value: int | None = self.engine.last_trade_id(symbol)
        return value

    def begin_check(self, symbol: str) -> None:
        self.engine.begin_check(symbol)

    def end_check(self, symbol: str) -> None:
        self.engine.end_check(symbol)
