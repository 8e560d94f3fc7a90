"""Depth snapshots on demand: staggered, prioritised, within the weight budget, one symbol never blocking another.

The engine asks for a snapshot (``snapshot_needed``) when a book starts or breaks. Requests go into a priority queue
(symbols the user reads first, then first come first served; a repeat after a failure last) and are fetched by a few
workers, each request waiting for the REST budget and starting after a small random delay, so a mass reconnect turns
into an orderly stream of snapshots instead of a storm. A symbol that fails goes back into the queue with its own
backoff while the others carry on.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
from dataclasses import dataclass
from typing import Protocol

from tapeflow._aio import cancel_and_wait
from tapeflow.clock import Clock
from tapeflow.errors import RestError
from tapeflow.markets import MarketSpec
from tapeflow.sync.admission import BOOK, READ
from tapeflow.sync.admission import RETRY as RETRY_PRIORITY
from tapeflow.sync.rest import RestClient

__all__ = ["SnapshotScheduler", "SnapshotStatus", "SnapshotTarget"]

log = logging.getLogger("tapeflow.sync")

#: Priorities, lower first (the REST client's: a book being read, other books, retries).
HOT, NORMAL, RETRY = READ, BOOK, RETRY_PRIORITY


@dataclass(frozen=True)
class SnapshotStatus:
    """Counters of the snapshot scheduler.

    Attributes:
        requested: snapshots asked for.
        fetched: snapshots received and fed to the engine.
        failed: fetches that failed (each one retried).
        queued: symbols waiting.
        in_flight: fetches running.
    """

    requested: int
    fetched: int
    failed: int
    queued: int
    in_flight: int


class SnapshotTarget(Protocol):
    """Where snapshots go: the engine (through the Monitor's worker)."""

    async def apply_snapshot(self, symbol: str, body: bytes) -> bool:
        """Feeds a snapshot; ``False`` if the body was malformed (it changed nothing)."""
        ...

    def snapshot_failed(self, symbol: str) -> None:
        """A requested snapshot did not come: the next diff asks again."""
        ...


class SnapshotScheduler:
    """Fetches depth snapshots for the engine.

    Args:
        rest: the REST client.
        spec: the market (depth path and weights).
        limit: levels per snapshot.
        target: where the snapshots go.
        clock: the feed's clock.
        workers: fetches at once.
        stagger_s: each fetch starts after a random delay of up to this (clock seconds).
    """

    def __init__(
        self,
        rest: RestClient,
        spec: MarketSpec,
        limit: int,
        target: SnapshotTarget,
        clock: Clock,
        *,
        workers: int = 4,
        stagger_s: float = 0.2,
    ) -> None:
        self.rest = rest
        self.path = spec.rest_prefix + "/depth"
        self.limit = limit
        self.weight = spec.depth_weight(limit)
        self.target = target
        self.clock = clock
        self.stagger_s = stagger_s
        self._heap: list[tuple[int, int, str]] = []
        self._queued: dict[str, int] = {}
        self._in_flight: set[str] = set()
        self._again: set[str] = set()
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._tasks = [asyncio.create_task(self._worker(), name=f"tapeflow-snapshots-{i}") for i in range(workers)]
        self.requested = self.fetched = self.failed = 0
        self._failures: dict[str, int] = {}

    def request(self, symbol: str, priority: int = NORMAL) -> None:
        """Queues a snapshot of ``symbol`` (once: a symbol already queued keeps one place, at the better priority)."""
        if symbol in self._in_flight:
            self._again.add(symbol)  # asked again while fetching (the snapshot in flight may be too old)
            return
        old = self._queued.get(symbol)
        if old is not None and old <= priority:
            return
        self.requested += 1
        self._queued[symbol] = priority
        heapq.heappush(self._heap, (priority, next(self._seq), symbol))
        self._wake.set()

    def prioritise(self, symbol: str) -> None:
        """Moves a queued symbol to the front (someone is reading it)."""
        if self._queued.get(symbol, HOT) > HOT:
            self._queued[symbol] = HOT
            heapq.heappush(self._heap, (HOT, next(self._seq), symbol))
            self._wake.set()

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)

    def status(self) -> SnapshotStatus:
        return SnapshotStatus(self.requested, self.fetched, self.failed, len(self._queued), len(self._in_flight))

    def _pop(self) -> tuple[str, int] | None:
        while self._heap:
            priority, _, symbol = heapq.heappop(self._heap)
            if self._queued.get(symbol) == priority:
                del self._queued[symbol]
                return symbol, priority
        return None

    async def _worker(self) -> None:
        while True:
            popped = self._pop()
            if popped is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            symbol, priority = popped
            self._in_flight.add(symbol)
            try:
                await self._fetch(symbol, priority)
            except Exception:  # one symbol's failure must not stop the worker serving the others
                log.exception("snapshot of %s failed", symbol)
            finally:
                self._in_flight.discard(symbol)
            if symbol in self._again:
                self._again.discard(symbol)
                self.request(symbol)

    async def _fetch(self, symbol: str, priority: int) -> None:
        if self.stagger_s > 0:
            await self.clock.sleep(random.uniform(0, self.stagger_s))
        try:
            params = {"symbol": symbol, "limit": self.limit}
            body = await self.rest.get(self.path, params, self.weight, attempts=3, priority=priority)
        except RestError as e:
            self.failed += 1
            n = self._failures[symbol] = self._failures.get(symbol, 0) + 1
            log.info("snapshot of %s failed (%s); retrying", symbol, e)
            self.target.snapshot_failed(symbol)
            if e.permanent:
                return  # a bad request (unknown symbol): asking again would fail the same way
            asyncio.get_running_loop().call_later(0, self._retry_later, symbol, min(60.0, 2.0**n))
            return
        self._failures.pop(symbol, None)
        self.fetched += 1
        if not await self.target.apply_snapshot(symbol, body):  # malformed: asked for again
            self.target.snapshot_failed(symbol)
            self.request(symbol)

    def _retry_later(self, symbol: str, delay_s: float) -> None:
        async def later() -> None:
            await self.clock.sleep(delay_s * random.uniform(0.5, 1.0))
            self.request(symbol, RETRY)

        task = asyncio.ensure_future(later())
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)
