"""Depth snapshots on demand: staggered, prioritised, within the weight budget, one symbol never blocking another.

The engine asks for a snapshot (``snapshot_needed``) when a book starts or breaks. Requests go into a priority queue
(symbols the user reads first, then first come first served; a repeat after a failure last) and are fetched by a few
workers, each request waiting for the REST budget and starting after a small random delay, so a mass reconnect turns
into an orderly stream of snapshots instead of a storm. A symbol that fails goes back into the queue with its own
backoff while the others carry on.

The size of a snapshot follows the book's use. Books in use (named by the user, or read deeper than they hold) get
the full ``limit``; the others, when an ``unread_limit`` is given, a small first snapshot that costs a fraction of the
weight (futures: 5 for 100 levels, 20 for 1,000; spot: 5 and 50). Such a book knows its levels down to the
snapshot's deepest price; a read that needs more calls :meth:`SnapshotScheduler.deepen`, and its next snapshot is
full and goes first.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
from collections.abc import Iterable
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

    async def apply_snapshot(self, symbol: str, body: bytes, limit: int) -> bool:
        """Feeds a snapshot asked for with ``limit`` levels a side; ``False`` if the body was malformed (it changed
        nothing)."""
        ...

    def snapshot_failed(self, symbol: str) -> None:
        """A requested snapshot did not come: the next diff asks again."""
        ...


class SnapshotScheduler:
    """Fetches depth snapshots for the engine.

    Args:
        rest: the REST client.
        spec: the market (depth path and weights).
        limit: levels per snapshot of a book in use.
        unread_limit: levels of the first snapshot of a book not in use (``None``: ``limit`` for every book).
        in_use: the books in use from the start (named by the user).
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
        unread_limit: int | None = None,
        in_use: Iterable[str] = (),
        workers: int = 4,
        stagger_s: float = 0.2,
    ) -> None:
        self.rest = rest
        self.spec = spec
        self.path = spec.rest_prefix + "/depth"
        self.limit = limit
        self.unread_limit = unread_limit
        self._in_use = set(in_use)
        self._read_deep: set[str] = set()
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

    def limit_for(self, symbol: str) -> int:
        """Levels of ``symbol``'s next snapshot."""
        if self.unread_limit is None or symbol in self._in_use:
            return self.limit
        return self.unread_limit

    def deepen(self, symbol: str) -> bool:
        """A read needed more levels of ``symbol`` than its snapshot holds for certain: from now on its snapshots are
        full, and the next one goes first. ``True``: the caller discards the book, so that it asks for that snapshot;
        ``False``: they already were full (nothing deeper to ask for)."""
        if self.limit_for(symbol) == self.limit:
            return False
        self._in_use.add(symbol)
        self._read_deep.add(symbol)
        return True

    def request(self, symbol: str, priority: int = NORMAL) -> None:
        """Queues a snapshot of ``symbol`` (once: a symbol already queued keeps one place, at the better priority)."""
        if symbol in self._in_flight:
            self._again.add(symbol)  # asked again while fetching (the snapshot in flight may be too old)
            return
        if symbol in self._read_deep:  # someone is waiting for it to come back deeper
            self._read_deep.discard(symbol)
            priority = min(priority, HOT)
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
        limit = self.limit_for(symbol)
        try:
            params = {"symbol": symbol, "limit": limit}
            body = await self.rest.get(self.path, params, self.spec.depth_weight(limit), attempts=3, priority=priority)
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
        if limit != self.limit_for(symbol):  # deepened while out: the book waits for a full one
            self.target.snapshot_failed(symbol)
            self.request(symbol)
            return
        if not await self.target.apply_snapshot(symbol, body, limit):  # malformed: asked for again
            self.target.snapshot_failed(symbol)
            self.request(symbol)

    def _retry_later(self, symbol: str, delay_s: float) -> None:
        async def later() -> None:
            await self.clock.sleep(delay_s * random.uniform(0.5, 1.0))
            self.request(symbol, RETRY)

        task = asyncio.ensure_future(later())
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)
