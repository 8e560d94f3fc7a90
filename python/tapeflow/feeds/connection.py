"""One combined-stream connection that never gives up: connect, subscribe, receive, keep alive, judge, rotate.

* Reconnects with jittered exponential backoff, forever (the delay resets after a session that delivered data).
* Subscribes what does not fit in the URL with ``SUBSCRIBE`` messages, paced under the market's incoming-message
  limit (5/s spot, 10/s futures; pings count too).
* Receives in batches: the receive task hands each batch of raw frames to the sink and does nothing else.
* Liveness by expected activity: every connection carries a canary stream with a fixed cadence (or an all-market
  array that has one), so a connection that delivers nothing for ``silence_s`` is a zombie and is replaced, whatever
  its pings say; its own pings must be answered within ``pong_timeout_s``. Each stream kind on it must deliver at
  least once within ``verify_s`` while the canary does, else the kind is reported as silent on its route.
* Make-before-break rotation before Binance's 24 h cut: a second connection opens with the same streams and its
  frames are held back; once it has delivered for ``overlap_s`` the old one is closed and the held frames are fed.
  The overlap is deduplicated by the engine (update ids, aggTrade ids); frames of streams the engine cannot
  deduplicate by id (liquidations, mark prices) are dropped when their bytes were already delivered by the old
  connection.
* Lag = receive time - event time (``E`` of the newest frame of each batch), per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from tapeflow._aio import cancel_and_wait, retrieved
from tapeflow.feeds.clock import Clock
from tapeflow.feeds.streams import MarketSpec, kind_of, stream_url
from tapeflow.feeds.transport import Link, LinkClosed, Transport

__all__ = ["ConnectionOptions", "ConnectionStatus", "FeedConnection"]

log = logging.getLogger("tapeflow.feeds")

#: Kinds that may stay silent for long (judged by the canary only).
SPARSE_KINDS = frozenset({"forceOrder"})
#: Kinds whose frames the engine cannot deduplicate by id.
FRAGILE_KINDS = frozenset({"forceOrder", "markPrice", "miniTicker", "ticker", "kline"})
_URL_BUDGET = 3000  # characters of stream names put in the URL; the rest is subscribed
_PER_REQUEST = 200  # stream names per SUBSCRIBE / UNSUBSCRIBE message


@dataclass(frozen=True)
class ConnectionOptions:
    """Timing of a connection (seconds on the feed's clock unless said otherwise).

    Attributes:
        silence_s: no frame at all for this long → zombie, replaced.
        verify_s: a stream kind that delivered nothing for this long while the canary did → silent on its route.
        ping_interval_s: how often the client pings.
        pong_timeout_s: a ping unanswered for this long → dead, replaced.
        rotate_after_s: age at which the connection is rotated make-before-break (Binance cuts at 24 h).
        overlap_s: how long the replacement delivers before the old connection closes.
        backoff_base_s / backoff_max_s: reconnect delay grows from base to max (x 0.5 to 1 jitter).
        connect_timeout_s: handshake timeout (real seconds).
        check_s: period of the liveness checks.
    """

    silence_s: float = 10.0
    verify_s: float = 30.0
    ping_interval_s: float = 30.0
    pong_timeout_s: float = 10.0
    rotate_after_s: float = 23 * 3600.0
    overlap_s: float = 2.0
    backoff_base_s: float = 0.25
    backoff_max_s: float = 30.0
    connect_timeout_s: float = 10.0
    check_s: float = 1.0


@dataclass(frozen=True)
class ConnectionStatus:
    """The state of one connection (see :meth:`tapeflow.Monitor.status`).

    Attributes:
        id: connection number.
        route: ``"public"``, ``"market"`` or ``""``.
        state: ``"connecting"``, ``"open"``, ``"rotating"``, ``"backoff"`` or ``"closed"``.
        streams: number of streams (canary included).
        frames: frames received since start (all sessions).
        frames_per_s: frames per second over the last check period (feed clock).
        lag_ms: receive time - event time of the last event of the last batch the engine applied (ms); ``None``
            before data.
        lag_max_ms: the largest lag seen.
        reconnects: sessions opened after the first one (rotations excluded).
        rotations: make-before-break rotations done.
        zombies: sessions replaced because they went silent or stopped answering pings.
        age_s: age of the current session.
        last_frame_age_s: time since the last frame.
        silent_kinds: stream kinds that have not delivered on this session yet (past ``verify_s`` they count as
            silent on their route).
        control_errors: error replies to SUBSCRIBE/UNSUBSCRIBE.
    """

    id: int
    route: str
    url: str
    state: str
    streams: int
    frames: int
    frames_per_s: float
    lag_ms: int | None
    lag_max_ms: int | None
    reconnects: int
    rotations: int
    zombies: int
    age_s: float
    last_frame_age_s: float | None
    silent_kinds: tuple[str, ...]
    control_errors: int


#: ``sink(connection, frames, recv_ms)``: takes a batch of raw frames; must not block.
Sink = Callable[["FeedConnection", list[bytes], int], None]


@dataclass
class _Session:
    link: Link
    opened_ms: int
    last_frame_ms: int
    frames: int = 0
    ping_sent_ms: int = 0
    pong: Awaitable[float] | None = None
    unverified: dict[str, bytes] = field(default_factory=dict)
    held: list[tuple[list[bytes], int]] | None = None  # frames held back during a rotation
    seen: set[bytes] | None = None  # fragile frames delivered, recorded during a rotation
    dedupe: set[bytes] | None = None  # frames to drop (already delivered by the previous session)
    dedupe_until_ms: int = 0


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
        on_open: called with the URL of every link opened (for recordings).
    """

    _receiver: asyncio.Task[None]  # the receive task of the current session

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
        self.state = "connecting"
        self.session: _Session | None = None
        self.frames = 0
        self.reconnects = self.rotations = self.zombies = self.control_errors = 0
        self.lag_ms: int | None = None
        self.lag_max_ms: int | None = None
        self._rate = 0.0
        self._rate_frames = 0
        self._rate_ms = 0
        self._req = 0
        self._pending: list[tuple[str, list[str]]] = []  # (method, streams) still to send
        self._send_wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._rotate_now = asyncio.Event()
        self._reported_silent: set[str] = set()
        self._stopping = False
        self._last_check_ms = 0

    # ------------------------------------------------------------------ public
    def record_lag(self, lag_ms: int) -> None:
        """Records the lag of a batch this connection delivered: its receive time minus the event time of its last
        event (the engine reports it with the batch's result)."""
        self.lag_ms = lag_ms
        if self.lag_max_ms is None or lag_ms > self.lag_max_ms:
            self.lag_max_ms = lag_ms

    @property
    def fragile(self) -> bool:
        """Whether the connection carries streams the engine cannot deduplicate by id (read for every batch, so
        kept up to date when the streams change rather than computed)."""
        return self._fragile

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
            self._pending += _requests("SUBSCRIBE", new)
            if self.session is not None:
                for n in new:
                    if kind_of(n) not in SPARSE_KINDS:  # judged by the canary, as on a new session
                        self.session.unverified.setdefault(kind_of(n), _marker(n))
            self._send_wake.set()

    def unsubscribe(self, names: list[str]) -> None:
        """Removes streams from the live connection (``UNSUBSCRIBE``, paced)."""
        gone = [n for n in names if n in self.streams and n != self.canary]
        for n in gone:
            del self.streams[n]
        self._fragile = self._carries_fragile()
        if gone:
            self._pending += _requests("UNSUBSCRIBE", gone)
            if self.session is not None:
                kinds = {kind_of(s) for s in self.streams}
                for k in list(self.session.unverified):
                    if k not in kinds:
                        del self.session.unverified[k]
            self._send_wake.set()

    def rotate(self) -> None:
        """Asks for a make-before-break rotation now (e.g. after a ``serverShutdown`` notice)."""
        self._rotate_now.set()

    def on_control(self, request_id: int, error: tuple[int, str] | None) -> None:
        if error is not None:
            self.control_errors += 1
            log.warning("connection %d: request %d refused: %s", self.id, request_id, error)

    def status(self) -> ConnectionStatus:
        now = self.clock.now_ms()
        s = self.session
        silent = tuple(sorted(s.unverified)) if s is not None else ()
        return ConnectionStatus(
            id=self.id,
            route=self.route,
            url=s.link.url if s is not None else "",
            state=self.state,
            streams=len(self.streams),
            frames=self.frames,
            frames_per_s=round(self._rate, 1),
            lag_ms=self.lag_ms,
            lag_max_ms=self.lag_max_ms,
            reconnects=self.reconnects,
            rotations=self.rotations,
            zombies=self.zombies,
            age_s=(now - s.opened_ms) / 1000 if s is not None else 0.0,
            last_frame_age_s=(now - s.last_frame_ms) / 1000 if s is not None and s.frames else None,
            silent_kinds=silent,
            control_errors=self.control_errors,
        )

    # ------------------------------------------------------------------ sessions
    def _url_and_rest(self) -> tuple[str, list[str]]:
        names = list(self.streams)
        in_url: list[str] = []
        size = 0
        for n in names:
            if size + len(n) + 1 > _URL_BUDGET:
                break
            in_url.append(n)
            size += len(n) + 1
        return stream_url(self.ws_url, self.route, in_url), names[len(in_url) :]

    async def _open(self) -> tuple[_Session, list[str]]:
        url, rest = self._url_and_rest()
        link = await self.transport.connect(url, open_timeout=self.options.connect_timeout_s)
        if self.on_open is not None:
            self.on_open(url)
        now = self.clock.now_ms()
        session = _Session(link, now, now)
        kinds = {kind_of(s) for s in self.streams if s != self.canary}
        session.unverified = {k: _marker_kind(k) for k in kinds if k not in SPARSE_KINDS}
        return session, rest

    async def _run(self) -> None:
        failures = 0
        first = True
        while not self._stopping:
            self.state = "connecting"
            try:
                session, rest = await self._open()
            except (OSError, LinkClosed, TimeoutError, Exception) as e:  # any failure to connect is retried
                if isinstance(e, asyncio.CancelledError):
                    raise
                failures += 1
                await self._backoff(failures, f"connect failed: {e}")
                continue
            if not first:
                self.reconnects += 1
            reason = await self._serve(session, rest, first)
            delivered = session.frames > 0
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
        if failures <= 0:
            delay = o.backoff_base_s * random.uniform(0.5, 1.0)
        else:
            delay = min(o.backoff_max_s, o.backoff_base_s * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)
        log.info("connection %d: %s; reconnecting in %.2fs", self.id, reason, delay)
        await self.clock.sleep(delay)

    async def _serve(self, session: _Session, rest: list[str], first: bool) -> str:
        """Runs one session until it ends; returns why it ended. A rotation swaps ``self.session`` and
        ``self._receiver`` for the new connection's and carries on."""
        self.session = session
        self.state = "open"
        self._pending = _requests("SUBSCRIBE", rest)
        self._send_wake.set()
        self._receiver = asyncio.create_task(self._receive(session))
        sender = asyncio.create_task(self._send_loop())
        up_reported = False
        try:
            while True:
                await self._wait_check(self._receiver)
                s, receiver = self.session, self._receiver
                assert s is not None
                if receiver.done():
                    return _reason(receiver)
                now = self.clock.now_ms()
                if not up_reported and s.frames:
                    up_reported = True
                    if self.on_up is not None:
                        self.on_up(self, first)
                verdict = self._judge(s, now)
                if verdict is not None:
                    self.zombies += 1
                    s.link.abort()
                    return verdict
                if self._rotate_now.is_set() or now - s.opened_ms >= self.options.rotate_after_s * 1000:
                    self._rotate_now.clear()
                    await self._rotate(s, receiver)
        finally:
            sender.cancel()
            receiver = self._receiver
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

    def _judge(self, s: _Session, now: int) -> str | None:
        """``None`` if the session is healthy, else why it must be replaced. Also pings and rates."""
        o = self.options
        if self._last_check_ms and now - self._last_check_ms > o.silence_s * 1000:
            # The clock jumped (a suspended machine, a virtual clock skipping ahead): silence and pong deadlines
            # restart from now instead of condemning a connection that had no chance to deliver.
            s.last_frame_ms = max(s.last_frame_ms, now)
            if s.pong is not None:
                s.ping_sent_ms = now
        self._last_check_ms = now
        if self._rate_ms:
            span = now - self._rate_ms
            if span >= 1000:
                self._rate = (self.frames - self._rate_frames) * 1000 / span
                self._rate_frames, self._rate_ms = self.frames, now
        else:
            self._rate_frames, self._rate_ms = self.frames, now
        if now - s.last_frame_ms > o.silence_s * 1000 and now - s.opened_ms > o.silence_s * 1000:
            return f"silent for {(now - s.last_frame_ms) / 1000:.1f}s"
        if s.pong is not None:
            if isinstance(s.pong, asyncio.Future) and s.pong.done():
                s.pong = None
            elif now - s.ping_sent_ms > o.pong_timeout_s * 1000:
                return "ping not answered"
        if s.pong is None and now - max(s.ping_sent_ms, s.opened_ms) >= o.ping_interval_s * 1000:
            s.ping_sent_ms = now
            self._pending.append(("PING", []))
            self._send_wake.set()
        if s.unverified and now - s.opened_ms > o.verify_s * 1000 and s.frames:
            silent = [k for k in s.unverified if k not in self._reported_silent]
            if silent and self.on_silent_kinds is not None:
                self._reported_silent.update(silent)
                self.on_silent_kinds(self, silent)
        return None

    # ------------------------------------------------------------------ receiving
    async def _receive(self, s: _Session) -> None:
        sink, clock = self.sink, self.clock
        while True:
            batch = await s.link.recv_batch()
            now = clock.now_ms()
            s.frames += len(batch)
            s.last_frame_ms = now
            if s.unverified:
                joined = b"".join(batch)
                for k, marker in list(s.unverified.items()):
                    if marker in joined or b"!" + marker[1:] in joined:
                        del s.unverified[k]
            if s.seen is not None:
                s.seen.update(batch)
            if s.dedupe is not None:
                if now > s.dedupe_until_ms:
                    s.dedupe = None
                else:
                    batch = [f for f in batch if f not in s.dedupe]
                    if not batch:
                        continue
            if s.held is not None:
                s.held.append((batch, now))
                continue
            self.frames += len(batch)
            sink(self, batch, now)

    async def _send_loop(self) -> None:
        # Incoming-message limit per connection (pings and pongs included): stay at half of it (real time).
        interval = 2.0 / self.spec.msg_rate
        while True:
            await self._send_wake.wait()
            self._send_wake.clear()
            while self._pending:
                method, names = self._pending.pop(0)
                s = self.session
                if s is None:
                    break
                try:
                    if method == "PING":
                        pong = await s.link.ping()
                        if isinstance(pong, asyncio.Future):  # a link that closes fails it; judged by done()
                            pong.add_done_callback(retrieved)
                        s.pong = pong
                    else:
                        await self._send_request(s.link, method, names)
                except LinkClosed:
                    continue  # this link is going; the sender serves the session that follows (a rotation)
                await asyncio.sleep(interval)

    async def _send_request(self, link: Link, method: str, names: list[str]) -> None:
        """Sends one SUBSCRIBE / UNSUBSCRIBE message with a fresh request id."""
        self._req += 1
        rid = self.id * 1_000_000 + self._req
        await link.send_text(orjson.dumps({"method": method, "params": names, "id": rid}).decode())

    # ------------------------------------------------------------------ rotation
    async def _rotate(self, old: _Session, old_receiver: asyncio.Task[None]) -> None:
        self.state = "rotating"
        before = set(self.streams)
        try:
            new, rest = await self._open()
        except Exception as e:  # the old session carries on; the next check tries again
            log.info("connection %d: rotation failed to connect: %s", self.id, e)
            self.state = "open"
            return
        new.held = []
        if self.fragile:
            old.seen = set()
        receiver = asyncio.create_task(self._receive(new))
        switched = False
        try:
            switched = await self._overlap_and_switch(old, new, rest, old_receiver, receiver)
        finally:
            if not switched:  # given up, or stopped meanwhile: the new link goes, the old one carries on
                receiver.cancel()
                new.link.abort()
                old.seen = None
                await asyncio.wait([receiver])
                if not receiver.cancelled():
                    receiver.exception()  # the new link's end is expected here: read, not logged as lost
        if not switched:
            self.state = "open"
            return
        self.rotations += 1
        self.state = "open"
        # Streams added or removed while the new session was being set up went to the old one only.
        added = [n for n in self.streams if n not in before]
        removed = [n for n in before if n not in self.streams]
        self._pending += _requests("SUBSCRIBE", added) + _requests("UNSUBSCRIBE", removed)
        if added or removed:
            self._send_wake.set()
        await old.link.close()

    async def _overlap_and_switch(
        self,
        old: _Session,
        new: _Session,
        rest: list[str],
        old_receiver: asyncio.Task[None],
        receiver: asyncio.Task[None],
    ) -> bool:
        """Subscribes ``rest`` on the new session, waits out the overlap and switches to it; ``False`` if the new
        session never delivered."""
        for method, names in _requests("SUBSCRIBE", rest):
            with contextlib.suppress(LinkClosed):
                await self._send_request(new.link, method, names)
            await asyncio.sleep(2.0 / self.spec.msg_rate)
        start = self.clock.now_ms()
        deadline = start + max(self.options.overlap_s * 1000, 1) + self.options.silence_s * 1000
        while self.clock.now_ms() < deadline:
            if receiver.done() or old_receiver.done():
                break
            if new.frames and self.clock.now_ms() - start >= self.options.overlap_s * 1000:
                break
            await self.clock.sleep(min(0.1, self.options.check_s))
        if receiver.done() or not new.frames:
            return False
        # Switch: stop the old session, feed what the new one held (in order), then let it deliver directly.
        old_receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await old_receiver
        held, new.held = new.held or [], None
        seen, old.seen = old.seen, None
        if seen is not None:
            new.dedupe = seen
            new.dedupe_until_ms = self.clock.now_ms() + int(self.options.overlap_s * 1000) + 5000
        self.session = new  # before the held frames go on, so that they are seen as the new link's
        self._receiver = receiver
        for batch, t in held:
            if seen is not None:
                batch = [f for f in batch if f not in seen]
            self.frames += len(batch)
            if batch:
                self.sink(self, batch, t)
        return True


def _requests(method: str, names: list[str]) -> list[tuple[str, list[str]]]:
    """``(method, names)`` messages for ``names``, at most ``_PER_REQUEST`` names each (none for no names)."""
    return [(method, names[i : i + _PER_REQUEST]) for i in range(0, len(names), _PER_REQUEST)]


def _marker(stream: str) -> bytes:
    return _marker_kind(kind_of(stream))


def _marker_kind(kind: str) -> bytes:
    """``@aggTrade`` (per-symbol stream names); ``!aggTrade`` is checked too (all-market arrays)."""
    return b"@" + kind.encode()


def _reason(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "cancelled"
    exc = task.exception()
    return str(exc) if exc is not None else "receiver ended"
