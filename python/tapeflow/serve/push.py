"""``/events``: the Monitor's events pushed as they happen, as Server-Sent Events (GET) or over a WebSocket (same path).

Events: ``big_trade``, ``liquidation``, ``synced``, ``book_gap``, ``trade_gap``, ``gap_abandoned``, ``connected``,
``disconnected``, ``route_changed``; each is one JSON object ``{"kind", "symbol", "time_ms", "data"}``.

One :class:`Broadcaster` reads the Monitor's events (one reader of :meth:`tapeflow.Monitor.events`) and hands each
to every client's own bounded queue without waiting, so the feed never waits for a client. A client whose queue is
full when an event arrives, or that does not take a message within :data:`SEND_TIMEOUT_S`, is dropped: the SSE stream
ends with an ``event: dropped``, the WebSocket closes with code 1008. The number of clients is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tapeflow.monitor import Monitor, MonitorEvent

__all__ = ["KEEPALIVE_S", "QUEUE", "SEND_TIMEOUT_S", "Broadcaster", "Client", "encode", "router"]

router = APIRouter(tags=["events"])

#: Events a client may have waiting; one more and it is dropped as too slow.
QUEUE = 1000
#: Seconds a single message may take to go out before the client is dropped.
SEND_TIMEOUT_S = 10.0
#: Seconds of silence after which a keep-alive goes out (an SSE comment, a WebSocket text message).
KEEPALIVE_S = 15.0

Kinds = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z_]{1,32}(,[a-z_]{1,32}){0,15}$", description="comma-separated kinds to receive (all if absent)"
    ),
]

# Put in a client's queue to end its stream: it fell behind, or the server is shutting down.
_DROPPED = MonitorEvent("dropped", None, 0)
_CLOSING = MonitorEvent("closing", None, 0)


def encode(event: MonitorEvent) -> bytes:
    """The JSON of an event."""
    body = {"kind": event.kind, "symbol": event.symbol, "time_ms": event.time_ms, "data": dict(event.data)}
    return orjson.dumps(body, default=str)


class Client:
    """One push client: its bounded queue and the kinds it wants (``None``: all)."""

    def __init__(self, kinds: set[str] | None, maxsize: int) -> None:
        self.kinds = kinds
        self.queue: asyncio.Queue[MonitorEvent] = asyncio.Queue(maxsize + 1)  # + 1: room for an end marker
        self.maxsize = maxsize

    def offer(self, event: MonitorEvent) -> bool:
        """Queues ``event`` if wanted; ``False`` when the client is a whole queue behind (it must go)."""
        if self.kinds is not None and event.kind not in self.kinds:
            return True
        if self.queue.qsize() >= self.maxsize:
            return False
        self.queue.put_nowait(event)
        return True

    def end(self, marker: MonitorEvent) -> None:
        while self.queue.qsize() >= self.maxsize:
            self.queue.get_nowait()
        self.queue.put_nowait(marker)

    async def next(self) -> MonitorEvent | None:
        """The next event; ``None`` after :data:`KEEPALIVE_S` without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), KEEPALIVE_S)
        except TimeoutError:
            return None


class Broadcaster:
    """Hands the Monitor's events to the push clients and to in-process listeners (e.g. the big-trade list).

    Args:
        monitor: the Monitor.
        limit: clients at once.
    """

    def __init__(self, monitor: Monitor, limit: int = 64) -> None:
        self.monitor = monitor
        self.limit = limit
        self.clients: set[Client] = set()
        self.listeners: list[Callable[[MonitorEvent], None]] = []
        self.closed = False
        #: Clients dropped because they fell behind.
        self.dropped = 0

    async def run(self) -> None:
        """Reads the Monitor's events until cancelled."""
        stream = self.monitor.events(100_000)
        try:
            while True:
                self.publish(await stream.queue.get())
        finally:
            stream.close()

    def publish(self, event: MonitorEvent) -> None:
        for listener in self.listeners:
            listener(event)
        for client in list(self.clients):
            if not client.offer(event):
                self.dropped += 1
                self.clients.discard(client)
                client.end(_DROPPED)

    def join(self, kinds: str | None) -> Client | None:
        """A new client, or ``None`` when there are ``limit`` already or the server is shutting down."""
        if self.closed or len(self.clients) >= self.limit:
            return None
        client = Client(set(kinds.split(",")) if kinds else None, QUEUE)
        self.clients.add(client)
        return client

    def leave(self, client: Client) -> None:
        self.clients.discard(client)

    def close(self) -> None:
        """Ends every stream (open streams would hold up the server's shutdown) and admits no more."""
        self.closed = True
        for client in self.clients:
            client.end(_CLOSING)
        self.clients.clear()


class _EventSource(Response):
    """A ``text/event-stream`` response for one client; ends when the client leaves or is dropped."""

    def __init__(self, client: Client, broadcaster: Broadcaster) -> None:
        # No Response.__init__: it would declare a Content-Length of the (empty) body.
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]
        self.client = client
        self.broadcaster = broadcaster

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def body(data: bytes) -> None:
            message = {"type": "http.response.body", "body": data, "more_body": True}
            await asyncio.wait_for(send(message), SEND_TIMEOUT_S)

        async def produce() -> None:
            await body(b"retry: 3000\n: connected\n\n")
            while True:
                event = await self.client.next()
                if event is _CLOSING:
                    return
                if event is _DROPPED:
                    await body(b'event: dropped\ndata: {"reason": "the client fell behind"}\n\n')
                    return
                if event is None:
                    await body(b": keep-alive\n\n")
                else:
                    await body(b"event: %s\ndata: %s\n\n" % (event.kind.encode(), encode(event)))

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            tasks = [asyncio.ensure_future(produce()), asyncio.ensure_future(disconnected())]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in tasks:
                    t.cancel()
                for t in tasks:
                    with contextlib.suppress(asyncio.CancelledError, TimeoutError, OSError):
                        await t
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(send({"type": "http.response.body", "body": b"", "more_body": False}), 1.0)
        finally:
            self.broadcaster.leave(self.client)


@router.get(
    "/events",
    response_class=Response,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
        503: {"description": "too many clients, or shutting down (Retry-After)"},
    },
)
async def events(request: Request, kinds: Kinds = None) -> Response:
    """Server-Sent Events of the Monitor (``event: <kind>``, ``data: <json>``); a WebSocket on the same path gets
    the same JSON as text messages."""
    broadcaster: Broadcaster = request.app.state.broadcaster
    client = broadcaster.join(kinds)
    if client is None:
        raise HTTPException(503, detail="events: too many clients, or shutting down", headers={"Retry-After": "5"})
    return _EventSource(client, broadcaster)


@router.websocket("/events")
async def events_ws(ws: WebSocket, kinds: Kinds = None) -> None:
    broadcaster: Broadcaster = ws.app.state.broadcaster
    client = broadcaster.join(kinds)
    if client is None:
        await ws.close(code=1013, reason="too many clients, or shutting down")
        return
    try:
        await ws.accept()
        while True:
            event = await client.next()
            if event is _CLOSING:
                await ws.close(code=1001, reason="the server is shutting down")
                return
            if event is _DROPPED:
                await ws.close(code=1008, reason="the client fell behind")
                return
            data = b'{"kind":"keep-alive"}' if event is None else encode(event)
            await asyncio.wait_for(ws.send_text(data.decode()), SEND_TIMEOUT_S)
    except (WebSocketDisconnect, TimeoutError, OSError):
        pass
    finally:
        broadcaster.leave(client)
