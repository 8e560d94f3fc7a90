"""What a Monitor keeps in its store over time: completed flow intervals, gap outcomes, checkpoints, retention.

Every second the intervals that closed since the last look (at least :data:`SETTLE_MS` ago) are written
(``Engine.closed_intervals``), and the
tracked gaps are checked against the engine's. An interval that closed incomplete (a gap was open, a check pending)
can still become complete; those are looked at again at every checkpoint, and written when they changed. Until the
flow windows are first ready (the start-up fill brings trades into intervals that closed before it), every kept
interval is written again at each checkpoint; a complete stored interval is never replaced by an incomplete one. Every
``checkpoint_s`` the engine's state is checkpointed (through the worker, in order with the frames, so it holds every
liquidation already queued to the store). Closing writes the last intervals and a last checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from tapeflow._core import CheckpointDraft, Engine
from tapeflow._core import parse_duration as _ms
from tapeflow.clock import Clock
from tapeflow.errors import CheckpointError
from tapeflow.monitor.records import Records
from tapeflow.monitor.worker import EngineWorker
from tapeflow.store import Store
from tapeflow.store import journal as ops

__all__ = ["Keeper"]

log = logging.getLogger("tapeflow.store")

#: Retention is applied this often (ms).
PRUNE_MS = 600_000
#: Completed intervals the engine keeps per interval (``Engine(flow_history=...)``'s default).
KEPT_INTERVALS = 60
#: An interval is written this long (ms) after it ended, so that it is usually complete by then: its last aggregate
#: trade may reach the feed a little after other events timed past its end. The engine's ``complete`` decides what the
#: row says; a row written incomplete is written again once the engine calls it complete.
SETTLE_MS = 5_000


class Keeper:
    """Keeps one Monitor's store up to date (see the module doc).

    Args:
        store / engine / worker / clock / records: the Monitor's parts.
        intervals: the aligned intervals written (``"1m"`` and the Monitor's windows).
        ready: whether every flow window is complete (the start-up fill is done).
        since_ms: the oldest interval start to write at first (later ones are assumed written already).
        checkpoint_s: seconds between checkpoints.
        retention_ms: history kept (``None``: forever).
    """

    def __init__(
        self,
        store: Store,
        engine: Engine,
        worker: EngineWorker,
        clock: Clock,
        records: Records,
        *,
        intervals: Sequence[str],
        ready: Callable[[], bool],
        since_ms: int,
        checkpoint_s: float,
        retention_ms: int | None,
    ) -> None:
        self.store = store
        self.engine = engine
        self.worker = worker
        self.clock = clock
        self.records = records
        self.checkpoint_s = checkpoint_s
        self.retention_ms = retention_ms
        self.intervals = {iv: _ms(iv) for iv in intervals}
        self.ready = ready
        self._catching_up = True
        self._newest = dict.fromkeys(self.intervals, since_ms)  # next start not written yet
        self._unsettled: dict[str, dict[tuple[str, int], tuple[Any, ...]]] = {iv: {} for iv in self.intervals}
        self._task: asyncio.Task[None] | None = None
        #: Seconds the last checkpoint held the engine in all (the draft's steps), seconds the worker held work back
        #: for it (the steps and the loop's work between them), and its size.
        self.checkpoint_seconds = 0.0
        self.checkpoint_wait_seconds = 0.0
        self.checkpoint_bytes = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tapeflow-store-keeper")

    async def _run(self) -> None:
        last_checkpoint = last_prune = self.clock.now_ms()
        self.prune()
        while True:
            await self.clock.sleep(1.0)
            now = self.clock.now_ms()
            try:
                self.poll(full=False)
                self.records.reconcile(self.engine.gaps(), now)
                if self._catching_up and self.ready():
                    self.poll(full=True)  # the start-up fill is in: every kept interval once more, then no more
                    self._catching_up = False
                if now - last_checkpoint >= self.checkpoint_s * 1000:
                    last_checkpoint = now
                    self.poll(full=True)
                    await self.checkpoint()
                if now - last_prune >= PRUNE_MS:
                    last_prune = now
                    self.prune()
            except Exception:  # the store's upkeep must never stop the Monitor
                log.exception("keeping the store failed; trying again")

    # ------------------------------------------------------------------ intervals
    def poll(self, *, full: bool) -> int:
        """Writes intervals that closed since the last poll, and (``full``) those that closed incomplete and changed
        since; returns the rows written."""
        written = 0
        now = self.clock.now_ms()
        for name, iv in self.intervals.items():
            unsettled = self._unsettled[name]
            kept_from = now - now % iv - KEPT_INTERVALS * iv
            since = self._newest[name]
            if full and self._catching_up:
                since = kept_from
            elif full and unsettled:
                since = min(since, *(start for _, start in unsettled))
            since = max(since, kept_from)
            wide = full and self._catching_up
            cols = self.engine.closed_intervals(name, since)
            if not cols["symbol"]:
                continue
            keep = []
            fields = _fields(cols)
            ripe = now - SETTLE_MS - iv  # intervals that started before this ended long enough ago
            newest = self._newest[name]
            for i, row in enumerate(zip(*fields.values(), strict=True)):
                sym, start, complete, abandoned = row[0], row[1], row[-2], row[-1]
                if start > ripe:
                    continue
                newest = max(newest, start + iv)
                key = (sym, start)
                if not wide and start < self._newest[name] and (key not in unsettled or unsettled[key] == row):
                    continue  # written already: settled then, or looked at again and unchanged
                if complete or abandoned:
                    unsettled.pop(key, None)
                else:
                    unsettled[key] = row
                keep.append(i)
            self._newest[name] = newest
            for key in [k for k in unsettled if k[1] < now - KEPT_INTERVALS * iv]:
                del unsettled[key]  # the engine no longer has it: it stays as written
            if keep:
                picked = {k: [v[i] for i in keep] for k, v in fields.items()}
                self.store.submit(ops.intervals(iv, picked))
                written += len(keep)
        return written

    # ------------------------------------------------------------------ checkpoints and retention
    async def checkpoint(self) -> None:
        """Checkpoints the engine now, in order with everything queued to it: the worker is held (frames arriving
        meanwhile wait, then are applied in order) while the state is copied out of the engine a few symbols at a
        time, the event loop free between steps (queries are answered from the state the checkpoint holds). The
        checkpoint is queued to the store before the held work is applied, so it follows exactly the liquidations
        queued before it; the store's writer thread makes its checksum and bytes. The draft's buffer is made ready
        on another thread first, so that faulting its pages in does not hold the frames back."""
        await asyncio.to_thread(self.engine.prepare_checkpoint_buffer)
        async with self.worker.held():
            t0 = time.perf_counter()
            draft, seconds = await _draft(self.engine)
            ids = self.engine.last_trade_ids()
            self.store.checkpoint(draft.seal_buffer, ids, self.clock.now_ms(), len(ids))
            waited = time.perf_counter() - t0
        self.checkpoint_seconds, self.checkpoint_wait_seconds, self.checkpoint_bytes = seconds, waited, len(draft)

    def prune(self) -> None:
        if self.retention_ms is not None:
            self.store.submit(ops.prune(self.clock.now_ms() - self.retention_ms))

    async def close(self) -> None:
        """Stops the upkeep, then writes the last intervals and a last checkpoint."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        try:
            self.poll(full=True)
            self.records.reconcile(self.engine.gaps(), self.clock.now_ms())
            await self.checkpoint()
        except Exception:
            log.exception("the last checkpoint failed")


_STEP_S = 0.001  # the engine held at most about this long at a time while a checkpoint is drafted


async def _draft(engine: Engine) -> tuple[CheckpointDraft, float]:
    """The engine's checkpoint draft, written in steps of about ``_STEP_S`` with the loop let go between them, and the
    seconds the engine was held in all. Something changing the engine meanwhile other than through the (held) worker
    voids the draft: the checkpoint is then drafted in one go."""
    held, symbols = 0.0, 50
    drafter = engine.checkpoint_drafter()
    try:
        while True:
            t0 = time.perf_counter()
            done = drafter.step(symbols)
            took = time.perf_counter() - t0
            held += took
            if done:
                return drafter.finish(), held
            # The next step sized to take about _STEP_S at this step's pace (symbols differ in size).
            symbols = max(1, min(10 * symbols, int(symbols * _STEP_S / max(took, 1e-6))))
            await asyncio.sleep(0)
    except CheckpointError as e:
        if e.reason != "changed":
            raise
        log.info("the engine changed during a checkpoint draft; drafting it in one go")
        t0 = time.perf_counter()
        draft = engine.checkpoint_draft()
        return draft, held + time.perf_counter() - t0


def _fields(cols: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The stored columns of ``closed_intervals`` (``complete`` and ``abandoned`` last)."""
    return {f: cols[f] for f in ops.INTERVAL_FIELDS}
