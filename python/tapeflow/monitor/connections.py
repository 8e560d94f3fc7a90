"""The feed connections of a Monitor: opened from the stream plan, grown by live subscribes, re-routed when a kind is
silent on its route.

A live subscribe fills connections of the same route that carry the same kind of stream and have room (``SUBSCRIBE``
on the open session), and opens new connections for the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence

from tapeflow._aio import cancel_and_wait
from tapeflow.clock import Clock
from tapeflow.feeds.connection import FeedConnection, Sink
from tapeflow.feeds.options import ConnectionOptions
from tapeflow.feeds.status import ConnectionStatus
from tapeflow.feeds.subscribe import RequestIds
from tapeflow.feeds.transports.base import Transport
from tapeflow.markets import kind_of
from tapeflow.monitor.events import EventHub
from tapeflow.monitor.plan import Shard, StreamPlan, symbol_of

__all__ = ["ConnectionPool"]

log = logging.getLogger("tapeflow.monitor")

_LIVE = ("open", "rotating", "connecting", "backoff")


class ConnectionPool:
    """Every connection of one Monitor.

    Args:
        plan: stream names and routes.
        ws_url / transport / clock / options: as for :class:`~tapeflow.feeds.connection.FeedConnection`.
        sink: takes every batch of frames.
        symbols: the watched symbols (the canary picks the first).
        on_up / on_down / on_open / on_live: connection callbacks (see ``FeedConnection``).
        on_moved: takes the streams moved to the other route (they were confirmed but delivered nothing).
        events: where route changes are reported.
    """

    def __init__(
        self,
        plan: StreamPlan,
        *,
        ws_url: str,
        transport: Transport,
        clock: Clock,
        options: ConnectionOptions,
        sink: Sink,
        symbols: Callable[[], Sequence[str]],
        on_up: Callable[[FeedConnection, bool], None],
        on_down: Callable[[FeedConnection, str], None],
        on_open: Callable[[str], None] | None,
        on_live: Callable[[FeedConnection, list[str]], None],
        on_moved: Callable[[list[str]], None],
        events: EventHub,
    ) -> None:
        self.plan = plan
        self.ws_url = ws_url
        self.transport = transport
        self.clock = clock
        self.options = options
        self.sink = sink
        self.symbols = symbols
        self.on_up = on_up
        self.on_down = on_down
        self.on_open = on_open
        self.on_live = on_live
        self.on_moved = on_moved
        self.events = events
        self.connections: dict[int, FeedConnection] = {}
        self._next_id = 1
        self._delayed: dict[int, asyncio.Task[None]] = {}  # connections waiting for their start

    def __iter__(self) -> Iterator[FeedConnection]:
        return iter(list(self.connections.values()))

    def open(self, shards: Sequence[Shard]) -> None:
        for shard in shards:
            self._new(shard.route, shard.streams, shard.delay_s)

    def _new(self, route: str, streams: list[str], delay_s: float = 0.0) -> FeedConnection:
        cid = self._next_id
        self._next_id += 1
        conn = FeedConnection(
            cid,
            self.plan.spec,
            self.ws_url,
            route,
            streams,
            canary=self.plan.canary(route, streams, self.symbols()),
            transport=self.transport,
            clock=self.clock,
            sink=self.sink,
            options=self.options,
            on_up=self.on_up,
            on_down=self.on_down,
            on_silent_kinds=self._on_silent_kinds,
            on_open=self.on_open,
            on_live=self.on_live,
        )
        self.connections[cid] = conn
        if delay_s > 0:
            self._delayed[cid] = asyncio.create_task(self._start_later(conn, delay_s))
        else:
            conn.start()
        return conn

    async def _start_later(self, conn: FeedConnection, delay_s: float) -> None:
        await self.clock.sleep(delay_s)
        del self._delayed[conn.id]
        conn.start()

    async def stop(self) -> None:
        await cancel_and_wait(list(self._delayed.values()))
        self._delayed.clear()
        for c in self:
            await c.stop()

    def all_open(self) -> bool:
        """Every connection started so far has an open session (one still waiting for its start is left out)."""
        return all(c.state == "open" and c.session is not None for c in self if c.id not in self._delayed)

    def statuses(self) -> tuple[ConnectionStatus, ...]:
        return tuple(c.status() for c in self)

    def owner_of(self, request_id: int) -> FeedConnection | None:
        """The connection that sent control request ``request_id``."""
        return self.connections.get(RequestIds.connection_of(request_id))

    # ------------------------------------------------------------------ live changes
    def subscribe(self, streams: Sequence[str]) -> None:
        """Follows more streams: on connections with room (same route and kind), else on new connections."""
        for route, group in self.plan.by_route_and_kind(streams):
            self._place(route, group)

    def _place(self, route: str, streams: list[str]) -> None:
        cap = self.plan.cap
        rest = list(streams)
        for c in self:
            if not rest:
                return
            if c.route == route and c.state in _LIVE:
                room = cap - len(c.streams)
                if room > 0 and all(kind_of(s) == kind_of(rest[0]) for s in c.data_streams()):
                    c.subscribe(rest[:room])
                    rest = rest[room:]
        for i in range(0, len(rest), cap):
            self._new(route, rest[i : i + cap])

    def unsubscribe(self, symbols: set[str]) -> None:
        """Stops the per-symbol streams of ``symbols``."""
        for c in self:
            names = [s for s in c.data_streams() if symbol_of(s) in symbols]
            if names:
                c.unsubscribe(names)

    def _on_silent_kinds(self, conn: FeedConnection, kinds: list[str]) -> None:
        if not self.plan.spec.routed:
            log.warning("connection %d: %s deliver nothing", conn.id, ", ".join(kinds))
            return
        for kind in kinds:
            new_route = self.plan.flip(kind, conn.route)
            if new_route is None:  # tried both routes: the streams are quiet, not misrouted
                continue
            moved = [s for s in conn.data_streams() if kind_of(s) == kind]
            if not moved:
                continue
            conn.unsubscribe(moved)
            self._place(new_route, moved)
            self.on_moved(moved)
            self.events.emit(
                "route_changed", None, {"kind": kind, "from": conn.route, "to": new_route, "streams": len(moved)}
            )
