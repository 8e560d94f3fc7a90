"""What happened, pushed to readers: big trades, liquidations, sync and gap changes, connection changes.

Each reader (:class:`EventStream`) has its own bounded queue; a reader that falls behind loses its oldest events
(counted) and never blocks the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EventHub", "EventStream", "MonitorEvent"]


@dataclass(frozen=True)
class MonitorEvent:
    """Something that happened, from :meth:`tapeflow.Monitor.events`.

    Attributes:
        kind: ``"big_trade"``, ``"liquidation"``, ``"synced"`` (a book is exact), ``"book_gap"`` (a book broke and is
            resyncing), ``"trade_gap"`` (aggTrade ids are missing; backfill started), ``"gap_abandoned"``,
            ``"connected"``, ``"disconnected"``, ``"route_changed"``, ``"progress"`` (every second of start-up, the
            fields of :class:`~tapeflow.monitor.progress.Progress`), ``"ready"`` (once, when start-up is done).
        symbol: the symbol, if the event is about one.
        time_ms: when it happened (exchange time for market events, the monitor's clock otherwise).
        data: details (prices, quantities, ids, connection, reason...).
    """

    kind: str
    symbol: str | None
    time_ms: int
    data: Mapping[str, Any] = field(default_factory=dict)


class EventHub:
    """The readers of one Monitor's events.

    Args:
        now_ms: the monitor's clock (the time of events that carry no exchange time).
    """

    def __init__(self, now_ms: Callable[[], int]) -> None:
        self._now_ms = now_ms
        self.queues: list[asyncio.Queue[MonitorEvent]] = []
        #: Events that slow readers missed.
        self.dropped = 0

    def emit(self, kind: str, symbol: str | None, data: Mapping[str, Any], time_ms: int | None = None) -> None:
        """Hands an event to every reader (none is built when nobody reads)."""
        if not self.queues:
            return
        event = MonitorEvent(kind, symbol, time_ms if time_ms is not None else self._now_ms(), data)
        for q in self.queues:
            if q.full():
                q.get_nowait()
                self.dropped += 1
            q.put_nowait(event)

    def stream(self, maxsize: int) -> EventStream:
        return EventStream(self, maxsize)


class EventStream:
    """An async iterator of :class:`MonitorEvent` (see :meth:`tapeflow.Monitor.events`)."""

    def __init__(self, hub: EventHub, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize!r}")
        self._hub = hub
        self.queue: asyncio.Queue[MonitorEvent] = asyncio.Queue(maxsize)
        hub.queues.append(self.queue)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> MonitorEvent:
        return await self.queue.get()

    def pending(self) -> list[MonitorEvent]:
        """The events queued now, without waiting."""
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out

    def close(self) -> None:
        """Stops receiving events."""
        with contextlib.suppress(ValueError):
            self._hub.queues.remove(self.queue)
