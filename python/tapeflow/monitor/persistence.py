"""A Monitor's store at work: the state restored at start, the rows written as the engine acts, the upkeep, the
clean stop — and the outages, which a Monitor keeps in memory even without a store.

The order at start (see :class:`~tapeflow.monitor.runtime.Runtime`): :meth:`Persistence.restore` before any
symbol is tracked, :meth:`Persistence.resume` once the symbols and contract sizes are known, then the connections
open and :meth:`Persistence.start_upkeep` runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from tapeflow._core import Action, Engine, parse_duration
from tapeflow.clock import Clock
from tapeflow.feeds.connection import FeedConnection
from tapeflow.monitor.config import MonitorConfig
from tapeflow.monitor.keeper import Keeper
from tapeflow.monitor.liquidations import Liquidations
from tapeflow.monitor.outages import LiquidationCopy, Outages, Span
from tapeflow.monitor.records import Records
from tapeflow.monitor.restore import Restored, recent_liquidations, replay_liquidations, restore_state
from tapeflow.monitor.worker import EngineWorker
from tapeflow.store import Store, StoreStatus

__all__ = ["Persistence"]

#: The engine's liquidation retention (``Engine.liq_configure``'s default): how far back a cold start replays.
LIQ_RETENTION_MS = 240 * 3_600_000


class Persistence:
    """The store side of one Monitor run (``store`` ``None``: outages in memory only).

    Args:
        store: the opened store, or ``None``.
        cfg / engine / worker / clock / liquidations: the Monitor's parts.
    """

    def __init__(
        self,
        store: Store | None,
        cfg: MonitorConfig,
        engine: Engine,
        worker: EngineWorker,
        clock: Clock,
        liquidations: Liquidations,
    ) -> None:
        self.store = store
        self.cfg = cfg
        self.engine = engine
        self.worker = worker
        self.clock = clock
        self.liquidations = liquidations
        self.records = Records(store) if store is not None else None
        self.restored = Restored("new", "no store")
        self.keeper: Keeper | None = None
        self.outages: Outages

    # ------------------------------------------------------------------ start
    def restore(self, now_ms: int) -> Restored:
        """Begins the run: outages from the previous one, and the engine's state from the newest usable
        checkpoint."""
        store = self.store
        if store is None:
            self.outages = Outages(None, now_ms)
        else:
            prev = store.previous
            stopped = prev.stopped_ms
            # An outage the previous run left open ended when it stopped (its next run starts from there).
            past = [
                Span(o.kind, o.start_ms, o.end_ms if o.end_ms is not None else max(o.start_ms, stopped or 0), o.reason)
                for o in store.outages(since_ms=now_ms - LIQ_RETENTION_MS)
            ]
            store.begin(now_ms)
            self.outages = Outages(store, now_ms, history_start_ms=prev.created_ms, stopped_ms=stopped, past=past)
            longest = self.cfg.longest_window_ms
            self.restored = restore_state(self.engine, store, now_ms=now_ms, longest_window_ms=longest)
            store.restore, store.restore_detail = self.restored.mode, self.restored.detail
        self.liquidations.coverage = self.outages
        return self.restored

    def resume(self, contract_sizes: Mapping[str, str | float], now_ms: int) -> None:
        """Replays the stored liquidations newer than the restored state, and refills the recent ones."""
        store = self.store
        if store is None or self.restored.mode == "new":
            return
        replay_liquidations(self.engine, store, self.restored, now_ms=now_ms, retention_ms=LIQ_RETENTION_MS)
        recent = self.liquidations.recent
        recent.extend(recent_liquidations(store, self.cfg.market, recent.maxlen or 0, contract_sizes, now_ms))

    def split_backfill(self, symbols: Sequence[str]) -> tuple[list[str], list[str]]:
        """``(warm, cold)``: the symbols to fill from their last counted id (restored with one), and the others."""
        restored = set(self.restored.symbols)
        warm = [s for s in symbols if s in restored and self.engine.last_trade_id(s) is not None]
        done = set(warm)
        return warm, [s for s in symbols if s not in done]

    def restored_gaps(self, now_ms: int) -> list[tuple[str, int, int]]:
        """The open gaps the restored state holds (to be filled again), noted as opened in this run."""
        if self.restored.mode != "warm":
            return []
        gaps = [(s, a, b) for s, a, b in self.engine.gaps() if s in set(self.restored.symbols)]
        if self.records is not None:
            for s, a, b in gaps:
                self.records.gap_opened(s, a, b, now_ms)
        return gaps

    def start_upkeep(self, now_ms: int, ready: Callable[[], bool]) -> None:
        if self.store is None or self.records is None:
            return
        intervals = self.cfg.stored_intervals
        longest = max((parse_duration(iv) for iv in intervals), default=0)
        base = self.restored.checkpoint_ms if self.restored.checkpoint_ms is not None else now_ms
        self.keeper = Keeper(
            self.store,
            self.engine,
            self.worker,
            self.clock,
            self.records,
            intervals=intervals,
            ready=ready,
            since_ms=base - longest,
            checkpoint_s=self.cfg.checkpoint_s,
            retention_ms=self.cfg.store_retention_ms,
        )
        self.keeper.start()

    # ------------------------------------------------------------------ while running
    def actions(self, actions: Sequence[Action], frames: Sequence[bytes] | None, now_ms: int) -> None:
        if self.records is not None and actions:
            self.records.actions(actions, frames, now_ms)

    def abandoned(self, symbol: str, from_id: int, to_id: int) -> None:
        if self.records is not None:
            self.records.abandoned(symbol, from_id, to_id)

    def up(self, conn: FeedConnection) -> None:
        self.outages.up(conn, self.clock.now_ms())

    def down(self, conn: FeedConnection, reason: str) -> None:
        self.outages.down(conn, self.clock.now_ms(), reason)

    def copies(self, connections: Sequence[FeedConnection]) -> tuple[LiquidationCopy, ...]:
        return self.outages.copies(connections)

    def status(self) -> StoreStatus | None:
        return self.store.status() if self.store is not None else None

    # ------------------------------------------------------------------ stop
    async def close(self) -> None:
        """The clean stop: last intervals and checkpoint, outages ended, the store written and released."""
        now = self.clock.now_ms()
        if self.keeper is not None:
            await self.keeper.close()
        self.outages.close(now)
        if self.store is not None:
            await asyncio.to_thread(self.store.close, now)
