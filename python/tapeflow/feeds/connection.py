"""One combined-stream connection that never gives up: connect, subscribe, receive, keep alive, judge, rotate.

* Reconnects with jittered exponential backoff, forever (:mod:`tapeflow.feeds.backoff`; the delay resets after a
  session that delivered data).
* Subscribes what does not fit in the URL with ``SUBSCRIBE`` messages (:mod:`tapeflow.feeds.subscribe`), paced under
  the market's incoming-message limit (5/s spot, 10/s futures; pings count too).
* Receives in batches: the receive task hands each batch of raw frames to the sink and does nothing else
  (:mod:`tapeflow.feeds.session`).
* Liveness by expected activity (:mod:`tapeflow.feeds.liveness`): a zombie session is replaced, a stream kind that
  stays silent on its route is reported.
* Make-before-break rotation before Binance's 24 h cut: a second session opens with the same streams and its frames
  are held back; once it has delivered for ``overlap_s`` the old one is closed and the held frames are fed. The
  overlap is deduplicated by the engine (update ids, aggTrade ids); frames of streams the engine cannot deduplicate
  by id (liquidations, mark prices) are dropped when their bytes were already delivered by the old session.
* Lag = receive time - event time of the last event of each batch (read by the engine), per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from tapeflow._aio import cancel_and_wait
from tapeflow.clock import Clock
from tapeflow.feeds.backoff import backoff_delay
from tapeflow.feeds.liveness import SessionTimes, expected_kinds, judge
from tapeflow.feeds.options import ConnectionOptions
from tapeflow.feeds.rotation import rotate
from tapeflow.feeds.sender import Sender
from tapeflow.feeds.session import FRAGILE_KINDS, Session, receive
from tapeflow.feeds.status import ConnectionStatus, Meter
from tapeflow.feeds.subscribe import RequestIds, split_for_url
from tapeflow.feeds.transports.base import Transport
from tapeflow.markets import MarketSpec, kind_of, stream_url

__all__ = ["FeedConnection", "Sink"]

log = logging.getLogger("tapeflow.feeds")

#: ``sink(connection, frames, recv_ms)``: takes a batch of raw frames; must not block.
Sink = Callable[["FeedConnection", list[bytes], int], None]


class FeedConnection:
    """One combined-stream connection of a feed; runs until :meth:`stop`.

    Args:
        cid: connection number (also the high part of its control-message ids).
        spec: the market.
        ws_url: WebSocket base URL.
        route: ``"public"``, ``"market"`` or ``""``.
        streams: initial streams.
        canary: a stream with a fixed cadence added to judge liveness (``None`` when a stream of the connection has
            one already).
        transport / clock / sink: see the module doc.
        on_up / on_down: called when a session starts delivering (``first`` for the connection's first session)
            and when one ends unplanned (not on rotation).
        on_silent_kinds: called with stream kinds that stay silent on this route.
        on_live: called with streams once they are known to be delivered: those in a session's URL when the session
            starts delivering, those of a ``SUBSCRIBE`` when the exchange acknowledges it.
        on_open: called with the URL of every link opened (for recordings).
    """

    receiver: asyncio.Task[None]  #: the receive task of the current session

    def __init__(
        self,
        cid: int,
        spec: MarketSpec,
        ws_url: str,
        route: str,
        streams: list[str],
        *,
        canary: str | None,
        transport: Transport,
        clock: Clock,
        sink: Sink,
        options: ConnectionOptions,
        on_up: Callable[[FeedConnection, bool], None] | None = None,
        on_down: Callable[[FeedConnection, str], None] | None = None,
        on_silent_kinds: Callable[[FeedConnection, list[str]], None] | None = None,
        on_open: Callable[[str], None] | None = None,
        on_live: Callable[[FeedConnection, list[str]], None] | None = None,
    ) -> None:
        self.id = cid
        self.spec = spec
        self.ws_url = ws_url
        self.route = route
        self.streams: dict[str, None] = dict.fromkeys(streams)
        self.canary = canary
        if canary is not None:
            self.streams.setdefault(canary, None)
        self._fragile = self._carries_fragile()
        self.transport = transport
        self.clock = clock
        self.sink = sink
        self.options = options
        self.on_up = on_up
        self.on_down = on_down
        self.on_silent_kinds = on_silent_kinds
        self.on_open = on_open
        self.on_live = on_live
        self.state = "connecting"
        self.session: Session | None = None
        self.meter = Meter()
        self.reconnects = self.rotations = self.zombies = self.control_errors = 0
        self.sender = Sender(RequestIds(cid), spec.msg_rate, lambda: self.session)
        self._task: asyncio.Task[None] | None = None
        self._rotate_now = asyncio.Event()
        self._reported_silent: set[str] = set()
        self._stopping = False

    # ------------------------------------------------------------------ public
    @property
    def fragile(self) -> bool:
        """Whether the connection carries streams the engine cannot deduplicate by id (read for every batch, so
        kept up to date when the streams change rather than computed)."""
        return self._fragile

    @property
    def frames(self) -> int:
        """Frames delivered to the sink since start (all sessions)."""
        return self.meter.frames

    def _carries_fragile(self) -> bool:
        return any(kind_of(s) in FRAGILE_KINDS for s in self.streams)

    def data_streams(self) -> list[str]:
        return [s for s in self.streams if s != self.canary]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"tapeflow-conn-{self.id}")

    async def stop(self) -> None:
        self._stopping = True
        await cancel_and_wait([self._task])
        self.state = "closed"

    def subscribe(self, names: list[str]) -> None:
        """Adds streams to the live connection (``SUBSCRIBE``, paced); they are also in every future session."""
        new = [n for n in names if n not in self.streams]
        for n in new:
            self.streams[n] = None
        self._fragile = self._carries_fragile()
        if new:
            self.sender.queue("SUBSCRIBE", new)
            if self.session is not None:
                for kind, marker in expected_kinds(new).items():  # sparse kinds: judged by the canary
                    self.session.times.unverified.setdefault(kind, marker)

    def unsubscribe(self, names: list[str]) -> None:
        """Removes streams from the live connection (``UNSUBSCRIBE``, paced)."""
        gone = [n for n in names if n in self.streams and n != self.canary]
        for n in gone:
            del self.streams[n]
        self._fragile = self._carries_fragile()
        if gone:
            self.sender.queue("UNSUBSCRIBE", gone)
            if self.session is not None:
                kinds = {kind_of(s) for s in self.streams}
                unverified = self.session.times.unverified
                for k in [k for k in unverified if k not in kinds]:
                    del unverified[k]

    def rotate(self) -> None:
        """Asks for a make-before-break rotation now (e.g. after a ``serverShutdown`` notice)."""
        self._rotate_now.set()

    def on_control(self, request_id: int, error: tuple[int, str] | None) -> None:
        """The exchange answered control request ``request_id`` (an error, or success)."""
        request = self.sender.sent.pop(request_id, None)
        if error is not None:
            self.control_errors += 1
            log.warning("connection %d: request %d refused: %s", self.id, request_id, error)
        elif request is not None and request[0] == "SUBSCRIBE" and self.on_live is not None:
            self.on_live(self, [n for n in request[1] if n in self.streams])

    def record_lag(self, lag_ms: int) -> None:
        """Records the lag of a batch this connection delivered: its receive time minus the event time of its last
        event (the engine reports it with the batch's result)."""
        self.meter.record_lag(lag_ms)

    def status(self) -> ConnectionStatus:
        now = self.clock.now_ms()
        s = self.session
        t = s.times if s is not None else None
        m = self.meter
        return ConnectionStatus(
            id=self.id,
            route=self.route,
            url=s.link.url if s is not None else "",
            state=self.state,
            streams=len(self.streams),
            frames=m.frames,
            frames_per_s=round(m.rate, 1),
            lag_ms=m.lag_ms,
            lag_max_ms=m.lag_max_ms,
            reconnects=self.reconnects,
            rotations=self.rotations,
            zombies=self.zombies,
            age_s=(now - t.opened_ms) / 1000 if t is not None else 0.0,
            last_frame_age_s=(now - t.last_frame_ms) / 1000 if t is not None and t.frames else None,
            silent_kinds=tuple(sorted(t.unverified)) if t is not None else (),
            control_errors=self.control_errors,
        )

    # ------------------------------------------------------------------ sessions
    async def open_session(self) -> tuple[Session, list[str]]:
        in_url, rest = split_for_url(list(self.streams))
        url = stream_url(self.ws_url, self.route, in_url)
        link = await self.transport.connect(url, open_timeout=self.options.connect_timeout_s)
        if self.on_open is not None:
            self.on_open(url)
        now = self.clock.now_ms()
        times = SessionTimes(now, now, unverified=expected_kinds(self.data_streams()))
        return Session(link, times, tuple(in_url)), rest

    async def _run(self) -> None:
        failures = 0
        first = True
        while not self._stopping:
            self.state = "connecting"
            try:
                session, rest = await self.open_session()
            except Exception as e:  # any failure to connect is retried
                failures += 1
                await self._backoff(failures, f"connect failed: {e}")
                continue
            if not first:
                self.reconnects += 1
            reason = await self._serve(session, rest, first)
            delivered = session.times.frames > 0
            first = False
            if self._stopping:
                break
            failures = 0 if delivered else failures + 1
            if self.on_down is not None:
                self.on_down(self, reason)
            await self._backoff(max(failures, 1) if not delivered else 0, reason)

    async def _backoff(self, failures: int, reason: str) -> None:
        self.state = "backoff"
        o = self.options
        delay = backoff_delay(failures, o.backoff_base_s, o.backoff_max_s)
        log.info("connection %d: %s; reconnecting in %.2fs", self.id, reason, delay)
        await self.clock.sleep(delay)

    def deliver(self, batch: list[bytes], recv_ms: int) -> None:
        self.meter.frames += len(batch)
        if batch:
            self.sink(self, batch, recv_ms)

    def start_receiver(self, s: Session) -> asyncio.Task[None]:
        return asyncio.create_task(receive(s, self.clock, self.deliver))

    async def _serve(self, session: Session, rest: list[str], first: bool) -> str:
        """Runs one session until it ends; returns why it ended. A rotation swaps ``self.session`` and
        ``self.receiver`` for the new connection's and carries on."""
        self.session = session
        self.state = "open"
        self.sender.reset(rest)
        self.receiver = self.start_receiver(session)
        sender = asyncio.create_task(self.sender.run())
        up_reported = False
        try:
            while True:
                await self._wait_check(self.receiver)
                s, receiver = self.session, self.receiver
                assert s is not None
                if receiver.done():
                    return _reason(receiver)
                now = self.clock.now_ms()
                if not up_reported and s.times.frames:
                    up_reported = True
                    if self.on_live is not None:
                        self.on_live(self, [n for n in s.in_url if n != self.canary])
                    if self.on_up is not None:
                        self.on_up(self, first)
                verdict = self._check(s, now)
                if verdict is not None:
                    self.zombies += 1
                    s.link.abort()
                    return verdict
                if self._rotate_now.is_set() or now - s.opened_ms >= self.options.rotate_after_s * 1000:
                    self._rotate_now.clear()
                    await rotate(self, s, receiver)
        finally:
            sender.cancel()
            receiver = self.receiver
            receiver.cancel()
            if self.session is not None:
                self.session.link.abort()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receiver

    async def _wait_check(self, receiver: asyncio.Task[None]) -> None:
        sleeper = asyncio.ensure_future(self.clock.sleep(self.options.check_s))
        rot = asyncio.ensure_future(self._rotate_now.wait())
        try:
            await asyncio.wait({sleeper, receiver, rot}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            rot.cancel()

    def _check(self, s: Session, now: int) -> str | None:
        """``None`` if the session is healthy, else why it must be replaced; sends pings and reports silent kinds."""
        if s.pong is not None and isinstance(s.pong, asyncio.Future) and s.pong.done():
            s.pong = None
        s.times.pong_pending = s.pong is not None
        self.meter.tick(now)
        verdict = judge(s.times, self.options, now, self._reported_silent)
        if verdict.dead is not None:
            return verdict.dead
        if verdict.ping:
            self.sender.ping()
        if verdict.silent and self.on_silent_kinds is not None:
            self._reported_silent.update(verdict.silent)
            self.on_silent_kinds(self, list(verdict.silent))
        return None


def _reason(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "cancelled"
    exc = task.exception()
    return str(exc) if exc is not None else "receiver ended"
