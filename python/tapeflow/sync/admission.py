"""Who spends the REST weight first: requests wait for the budget in priority order, not in the order they woke up.

When the minute's budget is spent, every request waits for the next minute; then the ones that serve the user first
go first: a snapshot of a book someone is reading, then the fills that make the live flow windows exact again (gaps,
tail checks), then the start-up fills of the flow windows, then the other books' snapshots, then retries. Within a
priority, first come, first served. A request that can go at once (budget left, nobody waiting) does not queue.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

from tapeflow.clock import Clock
from tapeflow.sync.budget import WeightBudget

__all__ = ["BOOK", "FILL", "GAP", "READ", "RETRY", "Admission"]

#: Priorities, the most urgent first: a book being read, gap fills and tail checks, start-up fills, other books,
#: retries after a failure.
READ, GAP, FILL, BOOK, RETRY = range(5)


class Admission:
    """The queue in front of a :class:`~tapeflow.sync.budget.WeightBudget`."""

    def __init__(self, budget: WeightBudget, clock: Clock) -> None:
        self.budget = budget
        self.clock = clock
        self._heap: list[tuple[int, int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._server: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Requests waiting for budget now."""
        return sum(not f.done() for *_, f in self._heap)

    async def enter(self, weight: int, priority: int) -> None:
        """Returns once ``weight`` may be spent (and has been counted in the budget)."""
        if not self._heap and self.budget.admit(weight, self.clock.now_ms()) == 0:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (priority, next(self._seq), weight, fut))
        if self._server is None or self._server.done():
            self._server = asyncio.create_task(self._serve(), name="tapeflow-rest-admission")
        await fut  # a cancelled waiter is skipped by the server

    async def _serve(self) -> None:
        heap = self._heap
        while heap:
            _, _, weight, fut = heap[0]
            if fut.done():
                heapq.heappop(heap)
                continue
            wait_ms = self.budget.admit(weight, self.clock.now_ms())
            if wait_ms == 0:
                heapq.heappop(heap)
                fut.set_result(None)
                continue
            await self.clock.sleep(wait_ms / 1000)

    async def close(self) -> None:
        """Stops serving; waiters still queued are cancelled."""
        if self._server is not None:
            self._server.cancel()
            await asyncio.gather(self._server, return_exceptions=True)
        for *_, fut in self._heap:
            fut.cancel()
        self._heap.clear()
