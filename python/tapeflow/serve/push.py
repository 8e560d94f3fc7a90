"""``/events``: the Monitor's events pushed as they happen, as Server-Sent Events (GET) or over a WebSocket (same path).

Events: ``big_trade``, ``liquidation``, ``synced``, ``book_gap``, ``trade_gap``, ``gap_abandoned``, ``connected``,
``disconnected``, ``route_changed``; each is one JSON object ``{"kind", "symbol", "time_ms", "data"}``.

Every client has its own bounded queue (:meth:`tapeflow.Monitor.events`), so the feed never waits for a client. A
client that falls a whole queue behind, or does not take a message within :data:`SEND_TIMEOUT_S`, is dropped (the
SSE stream ends with an ``event: dropped``; the WebSocket closes with code 1008). The number of clients is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tapeflow.monitor import EventStream, MonitorEvent
from tapeflow.serve.params import MonitorDep

__all__ = ["KEEPALIVE_S", "QUEUE", "SEND_TIMEOUT_S", "Clients", "encode", "router"]

router = APIRouter(tags=["events"])

#: Events a client may have waiting before it is dropped as too slow.
QUEUE = 1000
#: Seconds a single message may take to go out before the client is dropped.
SEND_TIMEOUT_S = 10.0
#: Seconds of silence after which a keep-alive goes out (an SSE comment, a WebSocket ping message).
KEEPALIVE_S = 15.0

Kinds = Annotated[
    str | None,
    Query(pattern=r"^[a-z_]{1,32}(,[a-z_]{1,32}){0,15}$", description="comma-separated kinds to receive (all if absent)"),
]


class Clients:
    """The push clients connected now, bounded by ``limit``."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self.count = 0
        #: Clients dropped because they fell behind.
        self.dropped = 0


def encode(event: MonitorEvent) -> bytes:
    """The JSON of an event."""
    body = {"kind": event.kind, "symbol": event.symbol, "time_ms": event.time_ms, "data": dict(event.data)}
    return orjson.dumps(body, default=str)


async def _next(stream: EventStream, kinds: set[str] | None) -> MonitorEvent | None:
    """The next event of a wanted kind; ``None`` after :data:`KEEPALIVE_S` without one."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + KEEPALIVE_S
    while True:
        try:
            event = await asyncio.wait_for(stream.queue.get(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            return None
        if kinds is None or event.kind in kinds:
            return event


def _kinds(kinds: str | None) -> set[str] | None:
    return set(kinds.split(",")) if kinds else None


def _admit(request_app: Any) -> Clients:
    clients: Clients = request_app.state.push_clients
    if clients.count >= clients.limit:
        raise HTTPException(503, detail=f"events: {clients.limit} clients already connected", headers={"Retry-After": "5"})
    return clients


class _EventSource(Response):
    """A ``text/event-stream`` response fed from one event stream; ends when the client leaves or falls behind."""

    def __init__(self, stream: EventStream, kinds: set[str] | None, clients: Clients) -> None:
        # No Response.__init__: it would declare a Content-Length of the (empty) body.
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]
        self.stream = stream
        self.kinds = kinds
        self.clients = clients

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def body(data: bytes) -> None:
            await asyncio.wait_for(send({"type": "http.response.body", "body": data, "more_body": True}), SEND_TIMEOUT_S)

        async def produce() -> None:
            await body(b"retry: 3000\n: connected\n\n")
            while True:
                if self.stream.queue.full():
                    self.clients.dropped += 1
                    await body(b'event: dropped\ndata: {"reason": "the client fell behind"}\n\n')
                    return
                event = await _next(self.stream, self.kinds)
                await body(b": keep-alive\n\n" if event is None else b"event: %s\ndata: %s\n\n" % (
                    event.kind.encode(), encode(event)))

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        self.clients.count += 1
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
            self.clients.count -= 1
            self.stream.close()


@router.get(
    "/events",
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
def events(request: Request, m: MonitorDep, kinds: Kinds = None) -> Response:
    """Server-Sent Events of the Monitor (``event: <kind>``, ``data: <json>``); a WebSocket on the same path gets
    the same JSON as text messages."""
    clients = _admit(request.app)
    return _EventSource(m.events(QUEUE), _kinds(kinds), clients)


@router.websocket("/events")
async def events_ws(ws: WebSocket, kinds: Kinds = None) -> None:
    m = ws.app.state.monitor
    clients: Clients = ws.app.state.push_clients
    if clients.count >= clients.limit:
        await ws.close(code=1013, reason="too many clients")
        return
    await ws.accept()
    stream: EventStream = m.events(QUEUE)
    wanted = _kinds(kinds)
    clients.count += 1
    try:
        while True:
            if stream.queue.full():
                clients.dropped += 1
                await ws.close(code=1008, reason="the client fell behind")
                return
            event = await _next(stream, wanted)
            data = b'{"kind":"keep-alive"}' if event is None else encode(event)
            await asyncio.wait_for(ws.send_text(data.decode()), SEND_TIMEOUT_S)
    except (WebSocketDisconnect, TimeoutError, OSError):
        pass
    finally:
        clients.count -= 1
        stream.close()
