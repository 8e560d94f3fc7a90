"""``SimExchange``: the market model served over real WebSocket and HTTP on 127.0.0.1.

One ``websockets`` server answers both: WebSocket upgrades get the stream API (``/ws/<streams>``,
``/stream?streams=``, USD-M ``/public`` and ``/market`` prefixes), plain GET requests get the REST API (answered in
``process_request``, so no second HTTP stack is needed; each reply closes its connection).

Example::

    async with SimExchange(SimConfig(market="usdm", symbols=120, seed=7, speed=60.0)) as ex:
        url = ex.ws_url + "/market/stream?streams=!forceOrder@arr"
        ...
        await ex.advance(30_000)          # manual clock (speed=0): step 30 virtual seconds now
        book = ex.truth.book("S0001USDT")  # the true book
        ex.faults.disconnect_all(abrupt=True)
"""

from __future__ import annotations

import asyncio
import http
import logging
from types import TracebackType

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from tapeflow._aio import cancel_and_wait
from tapeflow.sim.config import SimConfig
from tapeflow.sim.connection import Client, Hub
from tapeflow.sim.faults import Faults
from tapeflow.sim.market import STEP_MS
from tapeflow.sim.model import Market, Truth
from tapeflow.sim.rest import RateLimiter, RestApi
from tapeflow.sim.symbols import load_specs

log = logging.getLogger("tapeflow.sim")


class VirtualClock:
    """Virtual time in ms: ``start + real elapsed x speed``, or manual (``speed == 0``)."""

    def __init__(self, start_ms: int, speed: float) -> None:
        self.speed = speed
        self.manual_ms = start_ms
        self._start_ms = start_ms
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = asyncio.get_running_loop().time()

    def now_ms(self) -> int:
        if self.speed <= 0:
            return self.manual_ms
        return self._start_ms + int((asyncio.get_running_loop().time() - self._t0) * 1000 * self.speed)


class SimExchange:
    """A local Binance-compatible exchange (async context manager).

    Attributes:
        config: the configuration.
        market: the model; ``truth``: its ground truth; ``faults``: the fault controller; ``clock``: virtual time.
        ws_url / rest_url: base URLs (``ws://127.0.0.1:port``, ``http://127.0.0.1:port``), set once started.
        clients: open WebSocket connections, in connection order.
        frames_sent: frames written so far (all connections).
    """

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = cfg = config or SimConfig()
        futures = cfg.market != "spot"
        self.replay = None
        if cfg.replay is not None:
            from tapeflow.sim.replay import Replay

            self.replay = Replay(cfg.replay)
            cfg.market = self.replay.market
            cfg.symbols = self.replay.symbols
            cfg.exchange_info = None
        specs = load_specs(cfg.market, cfg.symbols if cfg.replay is None else 0, cfg.seed, cfg.exchange_info)
        self.market = Market(cfg.market, specs, cfg.seed, rate=cfg.rate, liq_rate=cfg.liq_rate, start_ms=cfg.start_ms)
        self.truth = Truth(self.market)
        self.clock = VirtualClock(self.market.now, cfg.speed)
        self.faults = Faults(self)
        self.hub = Hub(cfg.market)
        self.market.wants = self.hub.wants
        self.market.set_wants_symbol(self.hub.wants_symbol)
        self.limiter = RateLimiter(cfg.weight_limit or (2400 if futures else 6000))
        self.rest = RestApi(self.market, self.limiter, self.now_ms, cfg.agg_history_ms, cfg.speed, self.server_time_ms)
        if self.replay is not None:
            self.rest.depth_override = self.replay.snapshot
        self.msg_rate = cfg.msg_rate or (10 if futures else 5)
        self.ping_interval_ms = cfg.ping_interval_ms or (180_000 if futures else 20_000)
        self.pong_timeout_ms = cfg.pong_timeout_ms or (600_000 if futures else 60_000)
        self.clients: dict[Client, None] = {}
        self.frames_sent = 0
        self.ws_url = self.rest_url = ""
        self._server: Server | None = None
        self._driver: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> SimExchange:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Binds the server and starts the clock driver (when ``speed > 0``)."""
        cfg = self.config
        self._server = await serve(
            self._handle,
            cfg.host,
            cfg.port,
            process_request=self._process_request,
            ping_interval=None,  # pings follow Binance's cadence in virtual time (see _lifecycle)
            compression=None,
            max_queue=None,
            logger=log,
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.ws_url = f"ws://{cfg.host}:{port}"
        self.rest_url = f"http://{cfg.host}:{port}"
        self.clock.start()
        if cfg.speed > 0:
            self._driver = asyncio.create_task(self._drive())

    async def stop(self) -> None:
        """Stops the driver, closes every connection and the server."""
        await cancel_and_wait([self._driver])
        for c in list(self.clients):
            c.close(abrupt=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # ------------------------------------------------------------------ time
    def now_ms(self) -> int:
        """The exchange's current virtual time: the end of the last simulated step.

        Frames, REST replies, weight windows and faults all use it. It follows ``clock`` unless the model cannot keep
        up with the requested speed, in which case virtual time runs slower than asked (never out of order).
        """
        return self.market.now

    def server_time_ms(self) -> int:
        """What ``GET /time`` answers: the clock's millisecond, held within the step being simulated (never before
        the end of the last step, whose events are out, nor at the end of the next): Binance answers in milliseconds,
        while the model moves in steps of ``STEP_MS``."""
        now = self.market.now
        return max(now, min(self.clock.now_ms(), now + STEP_MS - 1))

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # A bounded slice of work per iteration keeps the sockets served even when the model falls behind.
            self.run_until(self.clock.now_ms(), deadline=loop.time() + 0.02)
            await asyncio.sleep(0.002)

    def run_until(self, target_ms: int, deadline: float | None = None) -> int:
        """Steps the model up to ``target_ms`` (virtual), publishing frames; returns the number of steps.

        With ``deadline`` (event-loop time), stops early once it has passed.
        """
        steps = 0
        loop = asyncio.get_running_loop()
        while self.market.now + STEP_MS <= target_ms and (deadline is None or loop.time() < deadline):
            if self.replay is not None:
                frames = self.replay.due(self.market.now + STEP_MS, self.hub.wants)
                self.market.now += STEP_MS
            else:
                frames = self.market.step()
            self.faults.run_due(self.market.now)
            if frames:
                self._publish(self.faults.apply(frames))
            self._lifecycle(self.market.now)
            steps += 1
        return steps

    async def advance(self, ms: int) -> None:
        """Manual clock (``speed=0``): simulates ``ms`` of virtual time now and lets the connections flush.

        Raises:
            RuntimeError: if the clock is not manual.
        """
        if self.clock.speed > 0:
            raise RuntimeError("advance() needs a manual clock (SimConfig.speed=0)")
        self.clock.manual_ms += ms
        self.run_until(self.clock.manual_ms)
        await self.flush()

    def run_at(self, speed: float) -> None:
        """Turns a manual clock into a running one from the current virtual time, at ``speed`` virtual seconds per
        real second (e.g. to trade a history quickly with :meth:`advance`, then serve in real time).

        Raises:
            RuntimeError: if the clock runs already; ValueError: for a speed that is not > 0.
        """
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        if self.clock.speed > 0:
            raise RuntimeError("run_at() needs a manual clock (SimConfig.speed=0)")
        self.clock = VirtualClock(self.market.now, speed)
        self.clock.start()
        self.rest.rate = speed
        self._driver = asyncio.create_task(self._drive())

    def skip(self, ms: int) -> None:
        """Manual clock: jumps ``ms`` of virtual time at once, with no market activity in between.

        Connection lifetimes, pings, bans and weight windows see the jump (a 24 h cut can be reached in no time);
        the market resumes from the same state, as if nothing had traded meanwhile.
        """
        if self.clock.speed > 0:
            raise RuntimeError("skip() needs a manual clock (SimConfig.speed=0)")
        self.clock.manual_ms += ms
        before = self.market.now
        self.market.now = self.clock.manual_ms - self.clock.manual_ms % STEP_MS
        # Arrivals drawn before the jump move with it: nothing trades in the skipped span.
        jump = self.market.now - before
        for m in self.market.models.values():
            if m.next_event >= 0:
                m.next_event += jump
                m.next_liq += jump

    async def flush(self) -> None:
        """Yields until every connection's send queue is written (or the connection is gone/stalled)."""
        for _ in range(1000):
            if all(not c.queue or c.stalled for c in self.clients):
                break
            await asyncio.sleep(0.001)
        await asyncio.sleep(0)

    def _publish(self, frames: list[tuple[str, bytes]]) -> None:
        subs = self.hub.subs
        for name, data in frames:
            targets = subs.get(name)
            if not targets:
                continue
            combined = None
            for c in tuple(targets):
                if c.combined:
                    if combined is None:
                        combined = b'{"stream":"' + name.encode() + b'","data":' + data + b"}"
                    c.push(combined)
                else:
                    c.push(data)

    def _lifecycle(self, now: int) -> None:
        for c in list(self.clients):
            c.lifecycle(now, self.ping_interval_ms, self.pong_timeout_ms, self.config.lifetime_ms)

    # ------------------------------------------------------------------ HTTP / WS entry points
    async def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        fault = self.faults.take_rest(self.now_ms())
        if fault is not None and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        elif fault is not None:
            body = (
                b'{"code":-1003,"msg":"Simulated failure."}' if fault.status in (418, 429) else b"Service Unavailable."
            )
            extra = [("Retry-After", str(fault.retry_after))] if fault.status in (418, 429) else []
            return _response(fault.status, extra, body)
        status, headers, body = self.rest.handle(request.path)
        return _response(status, headers, body)

    async def _handle(self, conn: ServerConnection) -> None:
        assert conn.request is not None
        client = Client.open(self, conn, conn.request.path)
        if client is None:
            return
        self.clients[client] = None
        try:
            await client.serve()
        finally:
            self.clients.pop(client, None)
            self.hub.drop(client)


def _response(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    h = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")])
    for k, v in headers:
        h[k] = v
    return Response(status, http.HTTPStatus(status).phrase, h, body)
