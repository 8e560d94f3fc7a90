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

__all__ = ["RATE_HEADER", "Clock", "ExchangeClock", "FunctionClock", "SystemClock"]

#: Header of a ``/time`` reply from an exchange whose time runs at another rate than real time (the local simulator
#: at ``--speed``): virtual seconds per real second. Binance does not send it (rate 1).
RATE_HEADER = "X-Tapeflow-Clock-Rate"


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


class ExchangeClock:
    """The exchange's time, read on this machine: the system clock shifted by the offset measured from the exchange's
    ``/time`` reply at start-up (and run at the exchange's rate, for a simulator that runs faster than real time).

    Binance stamps every event with its own clock; windows that end "now" and the feed's lag are only right when now
    is the exchange's now. Before :meth:`follow` is called this is the system clock.

    Attributes:
        offset_ms: exchange time minus system time when the offset was measured (0 before).
        rate: exchange milliseconds per real millisecond.
    """

    def __init__(self) -> None:
        self.offset_ms = 0
        self.rate = 1.0
        self._anchor: tuple[int, int] | None = None  # (exchange ms, system ns) at the measurement

    def follow(self, server_ms: int, sent_ns: int, received_ns: int, rate: float = 1.0) -> None:
        """Follows the exchange whose ``/time`` said ``server_ms`` to a request sent at ``sent_ns`` and answered at
        ``received_ns`` (system ns): the reply is taken to describe the middle of the round trip."""
        if not rate > 0:
            raise ValueError(f"an exchange clock must run forward (rate {rate!r}); pass a clock that reads it")
        mid_ns = (sent_ns + received_ns) // 2
        self._anchor = (server_ms, mid_ns)
        self.rate = rate
        self.offset_ms = server_ms - mid_ns // 1_000_000

    def now_ms(self) -> int:
        if self._anchor is None:
            return time.time_ns() // 1_000_000
        server_ms, at_ns = self._anchor
        return server_ms + int((time.time_ns() - at_ns) * self.rate) // 1_000_000

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.rate)


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
