"""How long the event loop was kept from running: a task sleeps a fixed tick and measures how late it wakes.

The feeds and the HTTP server share one loop, so a stall here delays frames too; ``/metrics`` shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

__all__ = ["LoopWatch"]


class LoopWatch:
    """Measures event-loop stalls (wake-up delay past ``tick_s``).

    Attributes:
        total_s: every stall, summed (seconds).
        worst_s: the largest stall seen.
    """

    def __init__(self, tick_s: float = 0.05, window: int = 100) -> None:
        self.tick_s = tick_s
        self.total_s = 0.0
        self.worst_s = 0.0
        self._recent: deque[float] = deque(maxlen=window)
        self._task: asyncio.Task[None] | None = None

    @property
    def recent_max_s(self) -> float:
        """The largest stall over the last ``window`` ticks (5 s by default)."""
        return max(self._recent, default=0.0)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="tapeflow-loop-watch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t0 = loop.time()
            await asyncio.sleep(self.tick_s)
            stall = max(0.0, loop.time() - t0 - self.tick_s)
            self._recent.append(stall)
            self.total_s += stall
            self.worst_s = max(self.worst_s, stall)
