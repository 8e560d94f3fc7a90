"""Clocks for the I/O shell: wall time by default, or any other source of "now" (the simulator's virtual time).

Every deadline of the feeds — reconnect backoff, liveness, rotation before the 24 h cut, REST ``Retry-After`` and the
weight window — is measured on one :class:`Clock`, so the same code runs against Binance in real time and against the
local exchange in virtual time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FunctionClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of time in ms since the epoch, and a way to wait for it."""

    def now_ms(self) -> int:
        """The current time in ms since the epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Waits until ``seconds`` have passed on this clock."""
        ...


class SystemClock:
    """Wall-clock time (``time.time_ns``) and ``asyncio.sleep``."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FunctionClock:
    """Time read from a function, e.g. ``FunctionClock(exchange.now_ms)`` for the simulator's virtual time.

    ``sleep`` polls the function every ``poll`` real seconds until the deadline has passed, so it ends only when the
    source's time moves on (a manual virtual clock stands still until it is advanced).
    """

    def __init__(self, now_ms: Callable[[], int], poll: float = 0.002) -> None:
        self._now_ms = now_ms
        self._poll = poll

    def now_ms(self) -> int:
        return self._now_ms()

    async def sleep(self, seconds: float) -> None:
        deadline = self._now_ms() + seconds * 1000.0
        await asyncio.sleep(0)
        while self._now_ms() < deadline:  # noqa: ASYNC110 (the time source has no way to notify)
            await asyncio.sleep(self._poll)
