"""One simulated WebSocket stream connection: URL parsing, control messages, limits, keepalive and the send queue.

Binance behaviour reproduced here (binance-api.md §1.2, §1.3, §2): raw ``/ws/<streams>`` and combined
``/stream?streams=`` connections; SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY with the
documented replies and error codes (spot nests errors as ``{"error": {...}, "id"}``, futures send them flat); a
malformed stream name gets code 2 and a close, a well-formed unknown one is acknowledged and never delivers; USD-M
``/public`` vs ``/market`` routing with the legacy unrouted URL treated as public (wrong-route streams are acknowledged
and never deliver); at most ``max_streams`` streams; more than ``msg_rate`` incoming messages in one (real) second
closes the connection; server pings at the product's cadence with a pong deadline, and the 24 h cut, both in virtual
time; a bounded send queue (a consumer that falls further behind is disconnected).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed, InvalidState

from tapeflow.sim.config import SimConfig


class Exchange(Protocol):
    """What a connection sees of its exchange."""

    config: SimConfig
    hub: Hub
    msg_rate: int
    frames_sent: int

    def now_ms(self) -> int: ...


STREAM_RE = re.compile(r"^[!a-zA-Z0-9_\-.]+(@[a-zA-Z0-9_:+\-]+)+$|^![a-zA-Z]+$")
METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"
_MISSING = object()
_tasks: set[asyncio.Task[Any]] = set()


def is_public(name: str) -> bool:
    """USD-M ``/public`` route: book data (bookTicker, depth, rpiDepth) and ``@trade`` (binance-api.md §1.2)."""
    tail = name.split("@", 1)[-1]
    return name == "!bookTicker" or tail.startswith(("depth", "rpiDepth", "bookTicker", "trade"))


class Hub:
    """Which connections receive which stream (insertion-ordered, so fan-out order is deterministic)."""

    def __init__(self, market: str) -> None:
        self.market = market
        self.subs: dict[str, dict[Client, None]] = {}
        self.symbols: dict[str, int] = {}  # lower-case symbol -> number of its streams with listeners

    def wants(self, name: str) -> bool:
        return name in self.subs

    def wants_symbol(self, symbol: str) -> bool:
        return symbol in self.symbols

    def add(self, client: Client, name: str) -> None:
        if name not in self.subs:
            self.subs[name] = {}
            sym = name.split("@", 1)[0]
            self.symbols[sym] = self.symbols.get(sym, 0) + 1
        self.subs[name][client] = None

    def remove(self, client: Client, name: str) -> None:
        targets = self.subs.get(name)
        if targets is not None:
            targets.pop(client, None)
            if not targets:
                del self.subs[name]
                sym = name.split("@", 1)[0]
                self.symbols[sym] -= 1
                if not self.symbols[sym]:
                    del self.symbols[sym]

    def drop(self, client: Client) -> None:
        for name in list(client.streams):
            self.remove(client, name)


def parse_target(market: str, target: str) -> tuple[str, bool, list[str]] | None:
    """``(route, combined, streams)`` of a connection URL, or ``None`` if the path is not a stream endpoint."""
    url = urlsplit(unquote(target))
    path, route = url.path, ""
    if market == "usdm":
        route = "legacy"
        for r in ("public", "market"):
            if path.startswith(f"/{r}/"):
                route, path = r, path[len(r) + 1 :]
    if path == "/ws" or path.startswith("/ws/"):
        return route, False, [s for s in path[4:].split("/") if s]
    if path == "/stream":
        streams = parse_qs(url.query).get("streams", [""])[-1]
        return route, True, [s for s in streams.split("/") if s]
    return None


class Client:
    """A connection's state; created by the exchange for each WebSocket upgrade."""

    def __init__(self, ex: Exchange, conn: ServerConnection, route: str, combined: bool) -> None:
        self.ex = ex
        self.conn = conn
        self.route = route
        self.combined = combined
        self.futures = ex.config.market != "spot"
        self.streams: dict[str, None] = {}  # as subscribed (LIST_SUBSCRIPTIONS order)
        self.queue: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.dead = False
        self.close_after: tuple[int, str] | None = None
        self.stalled = False
        self.stalled_until: int | None = None
        self.opened_ms = ex.now_ms()
        self.last_ping_ms = self.opened_ms
        self.ping_due = False
        self.ping_sent_ms = 0
        self.pong_waiter: Any = None
        self.recv_times: deque[float] = deque()
        self.close_reason = ""

    @classmethod
    def open(cls, ex: Exchange, conn: ServerConnection, target: str) -> Client | None:
        parsed = parse_target(ex.config.market, target)
        if parsed is None:
            _spawn(conn.close(1008, "invalid path"))
            return None
        route, combined, streams = parsed
        client = cls(ex, conn, route, combined)
        if len(streams) > ex.config.max_streams or not all(STREAM_RE.match(s) for s in streams):
            _spawn(conn.close(1008, "invalid stream list"))
            return None
        client.subscribe(streams)
        return client

    # ------------------------------------------------------------------ subscriptions
    def deliverable(self, name: str) -> bool:
        if not self.route:  # spot and COIN-M have no routes
            return True
        if self.route == "market":
            return not is_public(name)
        return is_public(name)  # /public and the legacy unrouted URL (binance-api.md §1.2)

    def subscribe(self, names: list[str]) -> None:
        for name in names:
            self.streams[name] = None
            if self.deliverable(name):
                self.ex.hub.add(self, name)

    def unsubscribe(self, names: list[str]) -> None:
        for name in names:
            self.streams.pop(name, None)
            self.ex.hub.remove(self, name)

    # ------------------------------------------------------------------ control messages
    async def serve(self) -> None:
        """Reads control messages until the connection ends; a writer task sends frames."""
        writer = asyncio.create_task(self._write_loop())
        loop = asyncio.get_running_loop()
        try:
            async for msg in self.conn:
                now = loop.time()
                self.recv_times.append(now)
                while self.recv_times and now - self.recv_times[0] >= 1.0:
                    self.recv_times.popleft()
                if len(self.recv_times) > self.ex.msg_rate:
                    self.close(abrupt=False, code=1008, reason="Too many requests")
                    break
                self.control(msg if isinstance(msg, str) else msg.decode(errors="replace"))
        except ConnectionClosed:
            pass
        finally:
            self.dead = True
            self.ex.hub.drop(self)
            self.wake.set()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await writer

    def control(self, text: str) -> None:
        """Answers one client text frame."""
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            return self._error(3, "Invalid JSON: expected value at line 1 column 1", _MISSING)
        if not isinstance(msg, dict):
            return self._error(2, "Invalid request: expected an object", _MISSING)
        if "method" not in msg:
            return self._error(2, f"Invalid request: missing field `method` at line 1 column {len(text)}", _MISSING)
        rid = msg.get("id", _MISSING)
        if not self._valid_id(rid):
            return self._error(2, "Invalid request: request ID must be an unsigned integer", _MISSING)
        method, params = msg["method"], msg.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                return self._error(2, "Invalid request: params must be a list of stream names", rid)
            if not all(STREAM_RE.match(p) for p in params):
                self._error(2, "Invalid request: invalid stream", rid)
                self.close_after = (1008, "invalid stream")
                return None
            if method == "UNSUBSCRIBE":
                self.unsubscribe(params)
            elif len(self.streams.keys() | set(params)) > self.ex.config.max_streams:
                return self._error(2, "Invalid request: too many streams", rid)
            else:
                self.subscribe(params)
            return self._reply(None, rid)
        if method == "LIST_SUBSCRIPTIONS":
            return self._reply(list(self.streams), rid)
        if method in ("SET_PROPERTY", "GET_PROPERTY"):
            want = 2 if method == "SET_PROPERTY" else 1
            if not isinstance(params, list) or len(params) != want:
                return self._error(2, "Invalid request: too many parameters", rid)
            if not isinstance(params[0], str):
                return self._error(2, "Invalid request: property name must be a string", rid)
            if params[0] != "combined":
                return self._error(0, "Unknown property", rid)
            if method == "GET_PROPERTY":
                return self._reply(self.combined, rid)
            if not isinstance(params[1], bool):
                return self._error(1, "Invalid value type: expected Boolean", rid)
            self.combined = params[1]
            return self._reply(None, rid)
        return self._error(2, f"Invalid request: unknown variant `{method}`, expected one of {METHODS} at line 1 "
                              f"column {len(text)}", rid)  # fmt: skip

    def _valid_id(self, rid: Any) -> bool:
        if rid is _MISSING:
            return False
        if self.futures:  # futures: unsigned integer only (binance-api.md §1.3)
            return isinstance(rid, int) and not isinstance(rid, bool) and 0 <= rid < 2**64
        if rid is None:
            return True
        if isinstance(rid, int) and not isinstance(rid, bool):
            return -(2**63) <= rid < 2**63
        return isinstance(rid, str) and len(rid) <= 36 and rid.isalnum()

    def _reply(self, result: Any, rid: Any) -> None:
        self.push(orjson.dumps({"result": result, "id": rid}))

    def _error(self, code: int, msg: str, rid: Any) -> None:
        # Spot nests the error, futures captures show it flat; clients must accept both (binance-api.md §1.3).
        body: dict[str, Any] = {"error": {"code": code, "msg": msg}} if not self.futures else {"code": code, "msg": msg}
        if rid is not _MISSING:
            body["id"] = rid
        self.push(orjson.dumps(body))

    # ------------------------------------------------------------------ sending
    def push(self, data: bytes) -> None:
        """Queues one frame; a consumer more than ``send_queue`` frames behind is disconnected."""
        if self.dead:
            return
        if len(self.queue) >= self.ex.config.send_queue:
            self.close(abrupt=True, reason="slow consumer")
            return
        self.queue.append(data)
        self.wake.set()

    async def _write_loop(self) -> None:
        try:
            await self._write()
        except (ConnectionClosed, ConnectionError):
            # The client went away (a reset, a broken pipe after a stall): normal for a server, not a failure.
            self.close(abrupt=True, reason="client gone")

    async def _write(self) -> None:
        conn = self.conn
        proto, transport = conn.protocol, conn.transport
        while not self.dead:
            await self.wake.wait()
            self.wake.clear()
            if self.ping_due and not self.stalled:
                self.ping_due = False
                self.pong_waiter = await conn.ping(str(self.ping_sent_ms).encode())
            while self.queue and not self.stalled and not self.dead:
                n = min(len(self.queue), 512)
                try:
                    for _ in range(n):
                        proto.send_text(self.queue.popleft())
                except InvalidState:
                    return
                transport.write(b"".join(proto.data_to_send()))
                self.ex.frames_sent += n
                await conn.drain()
            if self.close_after is not None and not self.queue:
                await conn.close(*self.close_after)
                return

    # ------------------------------------------------------------------ lifecycle (virtual time)
    def lifecycle(self, now: int, ping_ms: int, pong_ms: int, lifetime_ms: int) -> None:
        """Runs the ping cadence, the pong deadline, stall expiry and the 24 h cut at virtual time ``now``."""
        if self.dead:
            return
        if now - self.opened_ms >= lifetime_ms:
            self.close(abrupt=False, code=1000, reason="connection lifetime (24 h) reached")
            return
        if self.stalled:
            if self.stalled_until is not None and now >= self.stalled_until:
                self.unstall()
            return
        if self.pong_waiter is not None:
            if self.pong_waiter.done():
                self.pong_waiter = None
            elif now - self.ping_sent_ms >= pong_ms:
                self.close(abrupt=True, reason="pong timeout")
                return
        if now - self.last_ping_ms >= ping_ms and self.pong_waiter is None:
            self.last_ping_ms = self.ping_sent_ms = now
            self.ping_due = True
            self.wake.set()

    def stall(self, until_ms: int | None) -> None:
        """Stops sending, reading and answering pings until ``until_ms`` (virtual) or ``unstall``."""
        self.stalled, self.stalled_until = True, until_ms
        with contextlib.suppress(Exception):
            self.conn.transport.pause_reading()

    def unstall(self) -> None:
        if self.stalled:
            self.stalled, self.stalled_until = False, None
            with contextlib.suppress(Exception):
                self.conn.transport.resume_reading()
            self.wake.set()

    def close(self, abrupt: bool = True, code: int = 1000, reason: str = "") -> None:
        """Closes the connection: ``abrupt`` resets TCP with no close frame; otherwise a close frame ``code``."""
        if self.dead:
            return
        self.dead = True
        self.close_reason = reason
        self.ex.hub.drop(self)
        self.wake.set()
        if abrupt:
            self.conn.transport.abort()
        else:
            _spawn(self.conn.close(code, reason))


def _spawn(coro: Any) -> None:
    task = asyncio.ensure_future(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
