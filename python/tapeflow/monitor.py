"""``Monitor``: the entry point that wires connections, REST, snapshots, backfill and the engine together.

Example::

    async with Monitor(market="usdm", symbols="ALL", quote="USDT", flow=["1m", "15m"], big_trade=100_000) as m:
        print(m.volume("BTCUSDT", "15m").buy_quote)
        print(m.book("BTCUSDT", 5).best_bid)
        async for event in m.events():
            print(event)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from tapeflow._aio import cancel_and_wait
from tapeflow._core import (
    Action,
    BatchResult,
    BigTrade,
    BookGap,
    BookSynced,
    BookView,
    ControlReply,
    Engine,
    LiqCluster,
    LiqTotal,
    Liquidation,
    ServerShutdown,
    SnapshotNeeded,
    TradeGap,
    TradesPage,
    Volume,
)
from tapeflow._core import parse_duration as _window_ms
from tapeflow.errors import BookNotSyncedError, TapeflowError
from tapeflow.feeds.clock import Clock, SystemClock
from tapeflow.feeds.connection import ConnectionOptions, ConnectionStatus, FeedConnection
from tapeflow.feeds.streams import MARKETS, kind_of, plan_shards, route_of
from tapeflow.feeds.transport import Transport, default_transport
from tapeflow.feeds.worker import EngineWorker
from tapeflow.sync.backfill import BackfillStatus, TradeBackfill
from tapeflow.sync.rest import RestClient, RestStatus
from tapeflow.sync.snapshots import SnapshotScheduler, SnapshotStatus

__all__ = ["EventStream", "Monitor", "MonitorEvent", "MonitorStatus", "Tap"]

log = logging.getLogger("tapeflow.monitor")

#: ``tap(kind, url, raw, t)``: ``kind`` is ``"ws_open"`` (``raw`` empty), ``"ws"`` (one frame) or ``"http"`` (a REST
#: reply body); ``t`` is the receive time in seconds since the epoch on the monitor's clock.
Tap = Callable[[str, str, bytes, float], None]


@dataclass(frozen=True)
class MonitorEvent:
    """Something that happened, from :meth:`Monitor.events`.

    Attributes:
        kind: ``"big_trade"``, ``"liquidation"``, ``"synced"`` (a book is exact), ``"book_gap"`` (a book broke and is
            resyncing), ``"trade_gap"`` (aggTrade ids are missing; backfill started), ``"gap_abandoned"``,
            ``"connected"``, ``"disconnected"``, ``"route_changed"``.
        symbol: the symbol, if the event is about one.
        time_ms: when it happened (exchange time for market events, the monitor's clock otherwise).
        data: details (prices, quantities, ids, connection, reason...).
    """

    kind: str
    symbol: str | None
    time_ms: int
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MonitorStatus:
    """A health report (see :meth:`Monitor.status`).

    Attributes:
        market: the market.
        now_ms: the monitor's clock.
        symbols: symbols watched.
        connections: one entry per stream connection.
        rest: REST client and weight budget.
        snapshots: snapshot scheduler counters.
        backfill: trade backfill counters (``None`` without flow).
        books: number of books per state (``SYNCED``, ``SYNCING``, ``GAP``).
        gaps_open: aggTrade gaps not filled yet, over all symbols.
        trades_backfilled: trades counted from REST pages (gap fills, tail checks, start-up fills), not duplicates.
        incomplete: symbols whose flow windows are not complete right now.
        frames: frames received; malformed: frames that were not valid JSON events (skipped);
        unknown: unknown event types by name (counted and skipped).
        routes: the route used for each USD-M stream kind (learned: a kind found silent is moved).
        engine_backlog: batches waiting for the engine; unsynced_reads_refused: book reads refused because the book
            was not synced; events_dropped: events a slow ``events()`` reader missed.
    """

    market: str
    now_ms: int
    symbols: int
    connections: tuple[ConnectionStatus, ...]
    rest: RestStatus
    snapshots: SnapshotStatus
    backfill: BackfillStatus | None
    books: Mapping[str, int]
    gaps_open: int
    trades_backfilled: int
    incomplete: int
    frames: int
    malformed: int
    unknown: Mapping[str, int]
    routes: Mapping[str, str]
    engine_backlog: int
    unsynced_reads_refused: int
    events_dropped: int


class Liquidations:
    """Liquidation statistics of the monitor's market (``m.liquidations``), from ``!forceOrder@arr``.

    Binance pushes at most one liquidation per symbol per second, so these are lower bounds in bursts.
    """

    def __init__(self, monitor: Monitor) -> None:
        self._m = monitor
        #: The most recent liquidations, newest last.
        self.recent: deque[Any] = deque(maxlen=1000)

    def total(self, symbol: str | None = None, *, lookback: str = "1h", side: str | None = None) -> LiqTotal:
        """Liquidated notional over ``lookback`` (``"15m"``, ``"1h"``...), for one symbol or all, by side."""
        m = self._m
        return m.engine.liq_total(symbol, lookback_ms=_window_ms(lookback), side=side, now_ms=m.clock.now_ms())

    def series(
        self, symbol: str | None = None, *, lookback: str = "1h", interval: str = "1m", side: str | None = None
    ) -> Any:
        """``(bucket_starts_ms, notional, count)`` arrays (see ``Engine.liq_series``)."""
        m = self._m
        return m.engine.liq_series(
            symbol,
            lookback_ms=_window_ms(lookback),
            interval_ms=_window_ms(interval),
            side=side,
            now_ms=m.clock.now_ms(),
        )

    def heatmap(self, symbol: str, *, lookback: str = "4h", interval: str = "5m") -> Any:
        """``(grid, price_edges, time_starts_ms)`` (see ``Engine.liq_heatmap``)."""
        m = self._m
        return m.engine.liq_heatmap(
            symbol, lookback_ms=_window_ms(lookback), interval_ms=_window_ms(interval), now_ms=m.clock.now_ms()
        )


class EventStream:
    """An async iterator of :class:`MonitorEvent` (see :meth:`Monitor.events`)."""

    def __init__(self, monitor: Monitor, maxsize: int) -> None:
        self._monitor = monitor
        self.queue: asyncio.Queue[MonitorEvent] = asyncio.Queue(maxsize)
        monitor._subscribers.append(self.queue)

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
            self._monitor._subscribers.remove(self.queue)


class Monitor:
    """Watches one Binance market: exact books, taker buy/sell flow windows and liquidations, kept up by itself.

    Use as ``async with Monitor(...) as m:``. Everything runs on the current event loop (the engine inline, or on a
    thread of its own with ``engine_thread=True``); queries are plain method calls.

    Args:
        market: ``"spot"``, ``"usdm"`` or ``"coinm"``.
        symbols: ``"ALL"`` (every trading symbol, filtered by ``quote``) or a list of symbols.
        quote: quote asset filter for ``"ALL"`` (``None``: every quote asset; COIN-M contracts are all quoted in USD,
            so it does not apply there).
        books: keep local order books: ``True`` (every symbol), ``False``, or a list of symbols.
        flow: flow windows, e.g. ``["1m", "15m"]``: each is both a sliding horizon and an aligned interval.
            Empty: no trade streams.
        big_trade: notional threshold (quote units) of a big trade (an event and a counter), or ``None``.
        liquidations: follow ``!forceOrder@arr`` and ``!markPrice@arr@1s`` (futures).
        ws_url / rest_url: base URLs (default: Binance's for the market; the simulator's in tests).
        transport: ``"websockets"`` (default), ``"picows"``, ``"native"`` (WebSocket framing parsed in Rust, one
            call per socket read), or a :class:`tapeflow.feeds.transport.Transport` (e.g. ``NativeTransport(ssl=ctx)``).
        clock: time source (default wall clock; ``FunctionClock(exchange.now_ms)`` for the simulator).
        tap: called with every raw frame and REST body (see :data:`Tap`), e.g. to record the session.
        depth_speed: diff-depth cadence (``"100ms"``, or ``""`` for the market's default).
        snapshot_limit: levels per depth snapshot.
        streams_per_connection: cap below the market's 1024.
        routes: USD-M route overrides by stream kind (``{"aggTrade": "market"}``); kinds found silent on their route
            are moved to the other one automatically.
        options: connection timing (silence, pings, rotation...).
        weight_safety: share of the REST weight limit this monitor uses.
        engine_thread: run the engine on a worker thread instead of inline on the event loop (inline is the
            default: measured faster with the websockets transport, see the README benchmark; each batch still
            decodes with the GIL released).
        backfill_startup: fetch the longest flow window's trades at start-up.
        extra_streams: more stream names to follow (``"!miniTicker@arr"``, ``"btcusdt@kline_1m"``); their events go
            through the engine, which counts and skips the kinds it does not keep.
        tail_wait_s: after a reconnect, how long a trade stream may stay quiet before its tail is checked by REST.
    """

    def __init__(
        self,
        market: str = "usdm",
        symbols: Literal["ALL"] | Sequence[str] = "ALL",
        *,
        quote: str | None = "USDT",
        books: bool | Sequence[str] = True,
        flow: Sequence[str] = ("1m", "15m"),
        big_trade: float | None = None,
        liquidations: bool = True,
        ws_url: str | None = None,
        rest_url: str | None = None,
        transport: str | Transport | None = None,
        clock: Clock | None = None,
        tap: Tap | None = None,
        depth_speed: str = "100ms",
        snapshot_limit: int = 1000,
        streams_per_connection: int | None = None,
        routes: Mapping[str, str] | None = None,
        options: ConnectionOptions | None = None,
        weight_safety: float = 0.8,
        engine_thread: bool = False,
        backfill_startup: bool = True,
        extra_streams: Sequence[str] = (),
        tail_wait_s: float = 3.0,
    ) -> None:
        if market not in MARKETS:
            raise ValueError(f"unknown market {market!r}: expected 'spot', 'usdm' or 'coinm'")
        self.market = market
        self.spec = MARKETS[market]
        self._symbols_arg = symbols
        self.quote = quote
        self._books_arg = books
        self.flow = tuple(flow)
        for w in self.flow:
            _window_ms(w)
        self.big_trade = big_trade
        self.want_liquidations = liquidations and market != "spot"
        self.ws_url = (ws_url or self.spec.ws_url).rstrip("/")
        self.rest_url = (rest_url or self.spec.rest_url).rstrip("/")
        # One transport for every connection (it may hold shared state, e.g. the native transport's TLS context).
        self.transport: Transport = (
            default_transport(transport) if transport is None or isinstance(transport, str) else transport
        )
        self.clock: Clock = clock or SystemClock()
        self.tap = tap
        self.depth_speed = depth_speed
        self.snapshot_limit = snapshot_limit
        self.streams_per_connection = streams_per_connection
        self.routes: dict[str, str] = dict(routes or {})
        self.options = options or ConnectionOptions()
        self.weight_safety = weight_safety
        self.engine_thread = engine_thread
        self.backfill_startup = backfill_startup
        self.extra_streams = list(extra_streams)
        self.tail_wait_s = tail_wait_s
        self.symbols: list[str] = []
        self.book_symbols: set[str] = set()
        self.liquidations = Liquidations(self)
        self.engine: Engine = self._make_engine()
        self.has_flow = bool(self.flow)
        self._connections: dict[int, FeedConnection] = {}
        self._next_cid = 1
        self._subscribers: list[asyncio.Queue[MonitorEvent]] = []
        self._events_dropped = 0
        self._malformed = 0
        self._refused = 0
        self._trades_backfilled = 0
        self._route_flips: dict[str, int] = {}
        self._started = False
        self._tasks: list[asyncio.Task[None]] = []
        self.rest: RestClient
        self.snapshots: SnapshotScheduler
        self.backfill: TradeBackfill | None = None
        self.worker: EngineWorker

    # ------------------------------------------------------------------ engine
    def _make_engine(self) -> Engine:
        kwargs: dict[str, Any] = {}
        if self.flow:
            kwargs["flow_horizons"] = self.flow
            kwargs["flow_intervals"] = self.flow
            if self.big_trade is not None:
                kwargs["big_trade"] = (float(self.big_trade),)
        return Engine(self.market, **kwargs)

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Monitor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Loads the symbol list, opens the connections and starts the background work."""
        if self._started:
            return
        self._started = True
        self.worker = EngineWorker(self.engine, self._on_batch, threaded=self.engine_thread)
        self.rest = RestClient(
            self.rest_url,
            clock=self.clock,
            weight_limit=self.spec.weight_limit,
            safety=self.weight_safety,
            tap=self.tap,
        )
        try:
            await self.rest.start()
            await self._load_symbols()  # an unknown symbol fails here: nothing may be left running
        except BaseException:
            self.worker.stop()
            await self.rest.close()
            self._started = False
            raise
        prefix = self.spec.rest_prefix
        self.snapshots = SnapshotScheduler(
            self.rest,
            prefix + "/depth",
            self.snapshot_limit,
            self.spec.depth_weight(self.snapshot_limit),
            self._apply_snapshot,
            self._snapshot_failed,
            self.clock,
        )
        if self.has_flow:
            self.backfill = TradeBackfill(
                self.rest,
                prefix + "/aggTrades",
                self.spec.agg_trades_weight,
                self._apply_trades,
                self._abandon,
                self._open_gaps,
                self._last_trade_id,
                self.clock,
                self.engine.begin_check,
                self.engine.end_check,
            )
        for shard in plan_shards(self.market, self._streams(), cap=self.streams_per_connection, routes=self.routes):
            self._new_connection(shard.route, shard.streams)
        if self.has_flow and self.backfill is not None and self.backfill_startup:
            longest = max(_window_ms(w) for w in self.flow)
            now = self.clock.now_ms()
            since = min(now - longest, now - now % longest)
            for s in self.symbols:
                self.backfill.start(s, since)

    async def close(self) -> None:
        """Closes every connection and stops the background work."""
        if not self._started:
            return
        self._started = False
        for c in list(self._connections.values()):
            await c.stop()
        await self.snapshots.stop()
        if self.backfill is not None:
            await self.backfill.stop()
        await cancel_and_wait(self._tasks)
        await self.worker.drain()
        self.worker.stop()
        await self.rest.close()

    async def wait_connected(self, limit_s: float = 30.0) -> None:
        """Waits until every connection has an open session (real seconds at most ``limit_s``).

        Raises:
            TimeoutError: if some connection is still not open by then.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        while not all(c.state == "open" and c.session is not None for c in self._connections.values()):
            if loop.time() > deadline:
                raise TimeoutError("connections did not open in time")
            await asyncio.sleep(0.005)

    async def settle(self) -> None:
        """Waits until every frame received so far has been applied and its consequences handled."""
        await self.worker.drain()

    async def _load_symbols(self) -> None:
        body = await self.rest.get(self.spec.rest_prefix + "/exchangeInfo", None, 20 if self.market == "spot" else 1)
        info = orjson.loads(body)
        for limit in info.get("rateLimits", []):
            if limit.get("rateLimitType") == "REQUEST_WEIGHT" and limit.get("interval") == "MINUTE":
                self.rest.weight_limit = int(limit["limit"]) // max(1, int(limit.get("intervalNum", 1)))
        known: dict[str, dict[str, Any]] = {s["symbol"]: s for s in info.get("symbols", [])}
        if self._symbols_arg == "ALL":
            chosen = [
                name
                for name, s in known.items()
                if s.get("status", s.get("contractStatus")) == "TRADING"
                and (self.quote is None or self.market == "coinm" or s.get("quoteAsset") == self.quote)
            ]
        else:
            chosen = [s.upper() for s in self._symbols_arg]
            missing = [s for s in chosen if s not in known]
            if missing:
                raise TapeflowError(f"unknown symbols on {self.market}: {', '.join(missing)}")
        self.symbols = chosen
        if self._books_arg is True:
            self.book_symbols = set(chosen)
        elif self._books_arg:
            self.book_symbols = {s.upper() for s in self._books_arg}
        for s in chosen:
            self.engine.track(s)
            if self.market == "coinm" and "contractSize" in known[s]:
                self.engine.set_contract_size(s, str(known[s]["contractSize"]))

    # ------------------------------------------------------------------ streams and connections
    def _streams(self) -> list[str]:
        out: list[str] = []
        speed = f"@{self.depth_speed}" if self.depth_speed else ""
        for s in self.symbols:
            low = s.lower()
            if s in self.book_symbols:
                out.append(f"{low}@depth{speed}")
            if self.flow:
                out.append(f"{low}@aggTrade")
        if self.want_liquidations:
            out += ["!forceOrder@arr", "!markPrice@arr@1s"]
        return out + [s for s in self.extra_streams if s not in out]

    def _canary(self, route: str, streams: list[str]) -> str | None:
        """A stream with a fixed cadence on this route, unless the connection carries one already."""
        if "!markPrice@arr@1s" in streams or not self.symbols:
            return None
        sym = self.symbols[0].lower()
        if self.market == "spot":
            return f"{sym}@depth5"
        if route == "public":
            return f"{sym}@depth5@500ms"
        return f"{sym}@markPrice@1s"

    def _new_connection(self, route: str, streams: list[str]) -> FeedConnection:
        cid = self._next_cid
        self._next_cid += 1
        conn = FeedConnection(
            cid,
            self.spec,
            self.ws_url,
            route,
            streams,
            canary=self._canary(route, streams),
            transport=self.transport,
            clock=self.clock,
            sink=self._sink,
            options=self.options,
            on_up=self._on_up,
            on_down=self._on_down,
            on_silent_kinds=self._on_silent_kinds,
            on_open=self._on_open,
        )
        self._connections[cid] = conn
        conn.start()
        return conn

    def _on_open(self, url: str) -> None:
        if self.tap is not None:
            self.tap("ws_open", url, b"", self.clock.now_ms() / 1000)

    def _sink(self, conn: FeedConnection, frames: list[bytes], recv_ms: int) -> None:
        tap = self.tap
        if tap is not None:
            url = conn.session.link.url if conn.session is not None else ""
            t = recv_ms / 1000
            for f in frames:
                tap("ws", url, f, t)
        self.worker.submit_frames(conn, frames, recv_ms)

    def _on_up(self, conn: FeedConnection, first: bool) -> None:
        self._emit("connected", None, {"connection": conn.id, "route": conn.route, "first": first})
        if first or self.backfill is None:
            return
        # Trades lost at the end of the broken session show up as a gap only once the symbol trades again: symbols
        # that have not traded again shortly after the reconnect get their tail checked by REST.
        symbols = [s.split("@", 1)[0].upper() for s in conn.data_streams() if kind_of(s) == "aggTrade"]
        if symbols:
            self.backfill.after_reconnect(symbols, self.tail_wait_s)

    def _on_down(self, conn: FeedConnection, reason: str) -> None:
        self._emit("disconnected", None, {"connection": conn.id, "route": conn.route, "reason": reason})
        # Books fed by this connection missed diffs: discard them (after every frame already queued) so no read is
        # served from a stale book; the next diff asks for a snapshot.
        symbols = [s.split("@", 1)[0].upper() for s in conn.data_streams() if kind_of(s) == "depth"]
        if symbols:
            engine = self.engine

            def reset() -> None:
                for sym in symbols:
                    engine.reset_book(sym)

            self.worker.call(reset)

    def _on_silent_kinds(self, conn: FeedConnection, kinds: list[str]) -> None:
        if not self.spec.routed:
            log.warning("connection %d: %s deliver nothing", conn.id, ", ".join(kinds))
            return
        for kind in kinds:
            flips = self._route_flips.get(kind, 0)
            if flips >= 2:  # tried both routes: the streams are quiet, not misrouted
                continue
            self._route_flips[kind] = flips + 1
            new_route = "market" if conn.route == "public" else "public"
            self.routes[kind] = new_route
            moved = [s for s in conn.data_streams() if kind_of(s) == kind]
            if not moved:
                continue
            conn.unsubscribe(moved)
            self._subscribe(new_route, moved)
            self._emit(
                "route_changed", None, {"kind": kind, "from": conn.route, "to": new_route, "streams": len(moved)}
            )

    def _subscribe(self, route: str, streams: list[str]) -> None:
        cap = min(self.streams_per_connection or self.spec.max_streams, self.spec.max_streams)
        rest = list(streams)
        for c in self._connections.values():
            if not rest:
                return
            if c.route == route and c.state in ("open", "rotating", "connecting", "backoff"):
                room = cap - len(c.streams)
                if room > 0 and all(kind_of(s) == kind_of(rest[0]) for s in c.data_streams()):
                    c.subscribe(rest[:room])
                    rest = rest[room:]
        for i in range(0, len(rest), cap):
            self._new_connection(route, rest[i : i + cap])

    def subscribe(self, symbols: Sequence[str]) -> None:
        """Starts watching more symbols, live (``SUBSCRIBE`` on existing connections where they have room)."""
        new = [s.upper() for s in symbols if s.upper() not in self.symbols]
        if not new:
            return
        self.symbols += new
        if self._books_arg is True:
            self.book_symbols.update(new)
        for s in new:
            self.worker.call(functools.partial(self.engine.track, s))  # in order with the frames already queued
        speed = f"@{self.depth_speed}" if self.depth_speed else ""
        streams = [f"{s.lower()}@depth{speed}" for s in new if s in self.book_symbols]
        streams += [f"{s.lower()}@aggTrade" for s in new] if self.flow else []
        by_route: dict[str, list[str]] = {}
        for st in streams:
            by_route.setdefault(route_of(self.market, st, self.routes), []).append(st)
        for route, names in by_route.items():
            by_kind: dict[str, list[str]] = {}
            for n in names:
                by_kind.setdefault(kind_of(n), []).append(n)
            for group in by_kind.values():
                self._subscribe(route, group)

    def unsubscribe(self, symbols: Sequence[str]) -> None:
        """Stops watching symbols, live (``UNSUBSCRIBE``). Their state stays in the engine."""
        gone = {s.upper() for s in symbols}
        self.symbols = [s for s in self.symbols if s not in gone]
        self.book_symbols -= gone
        for c in self._connections.values():
            names = [s for s in c.data_streams() if s.split("@", 1)[0].upper() in gone]
            if names:
                c.unsubscribe(names)

    # ------------------------------------------------------------------ engine results
    def _on_batch(self, conn: FeedConnection, result: BatchResult) -> None:
        if result.last_event_time_ms is not None:
            conn.record_lag(result.recv_ts_ns // 1_000_000 - result.last_event_time_ms)
        if result.actions:
            self._handle(result.actions, conn)

    def _handle(self, actions: Sequence[Action], conn: FeedConnection | None) -> None:
        for a in actions:
            match a:
                case SnapshotNeeded(sym):
                    if sym in self.book_symbols:
                        self.snapshots.request(sym)
                case BookSynced(sym, last_update_id):
                    self._emit("synced", sym, {"last_update_id": last_update_id})
                case BookGap(sym, expected, got):
                    self._emit("book_gap", sym, {"expected": expected, "got": got})
                case ControlReply(rid, _, code, msg):
                    owner = self._connections.get(rid // 1_000_000) if rid is not None else None
                    err = (code, msg or "") if code is not None else None
                    if owner is not None and rid is not None:
                        owner.on_control(rid, err)
                case ServerShutdown() if conn is not None:
                    conn.rotate()
                case TradeGap(sym, from_id, to_id) if self.backfill is not None:
                    self.backfill.gap(sym, from_id, to_id)
                    self._emit("trade_gap", sym, {"from_id": from_id, "to_id": to_id})
                case BigTrade():
                    big = {"trade_id": a.trade_id, "price": a.price, "qty": a.qty, "notional": a.notional}
                    self._emit("big_trade", a.symbol, {**big, "side": a.side}, a.time_ms)
                case Liquidation() if self.want_liquidations:
                    self.liquidations.recent.append(a)
                    data: dict[str, object] = {"side": a.side, "price": a.price, "qty": a.qty, "notional": a.notional}
                    self._emit("liquidation", a.symbol, data, a.time_ms)

    async def _apply_snapshot(self, symbol: str, body: bytes) -> None:
        engine = self.engine
        try:
            actions = await self.worker.call(lambda: engine.apply_snapshot(symbol, body))
        except ValueError as e:  # DecodeError: a broken body; ask again
            log.warning("snapshot of %s is malformed: %s", symbol, e)
            self._malformed += 1
            self._snapshot_failed(symbol)
            self.snapshots.request(symbol)
            return
        self._handle(actions, None)

    def _snapshot_failed(self, symbol: str) -> None:
        # Through the worker, like every other engine change, so it lands in order with the queued frames.
        self.worker.call(functools.partial(self.engine.snapshot_failed, symbol))

    async def _apply_trades(
        self, symbol: str, body: bytes, from_time_ms: int | None, from_id: int | None
    ) -> TradesPage | None:
        engine = self.engine
        try:
            page: TradesPage = await self.worker.call(
                lambda: engine.apply_agg_trades(symbol, body, from_time_ms=from_time_ms, from_id=from_id)
            )
        except ValueError as e:
            log.warning("aggTrades page of %s is malformed: %s", symbol, e)
            self._malformed += 1
            return None
        self._trades_backfilled += page.counted
        if page.abandoned is not None:
            a, b = page.abandoned
            self._emit("gap_abandoned", symbol, {"from_id": a, "to_id": b})
        self._handle(page.actions, None)
        return page

    async def _abandon(self, symbol: str, from_id: int, to_id: int) -> None:
        engine = self.engine
        await self.worker.call(lambda: engine.abandon_gap(symbol, from_id, to_id))
        self._emit("gap_abandoned", symbol, {"from_id": from_id, "to_id": to_id})

    def _open_gaps(self, symbol: str) -> list[tuple[int, int]]:
        engine = self.engine
        return [(a, b) for _, a, b in engine.gaps(symbol)]

    def _last_trade_id(self, symbol: str) -> int | None:
        engine = self.engine
        value: int | None = engine.last_trade_id(symbol)
        return value

    # ------------------------------------------------------------------ events
    def _emit(self, kind: str, symbol: str | None, data: Mapping[str, Any], time_ms: int | None = None) -> None:
        if not self._subscribers:
            return
        event = MonitorEvent(kind, symbol, time_ms if time_ms is not None else self.clock.now_ms(), data)
        for q in self._subscribers:
            if q.full():
                q.get_nowait()
                self._events_dropped += 1
            q.put_nowait(event)

    def events(self, maxsize: int = 10_000) -> EventStream:
        """Every event from now on: big trades, liquidations, sync and gap changes, connection changes.

        Use as ``async for event in m.events():``. Each stream has its own queue of ``maxsize`` events, registered
        when ``events()`` is called; a reader that falls behind loses the oldest ones (counted in
        ``status().events_dropped``) and never blocks the feed. ``close()`` the stream to stop receiving.
        """
        return EventStream(self, maxsize)

    # ------------------------------------------------------------------ queries
    def volume(self, symbol: str, window: str = "15m", *, aligned: bool = False, now_ms: int | None = None) -> Volume:
        """Taker buy/sell volume of ``symbol`` over a flow window.

        Args:
            window: one of the monitor's ``flow`` windows.
            aligned: the current UTC-aligned interval (``"15m"``: the current 15-minute candle) instead of the
                sliding window ending now.
            now_ms: the end of the window (default: the monitor's clock).

        Returns:
            the engine's :class:`Volume` (``buy_base``, ``sell_base``, ``buy_quote``, ``sell_quote``, counts, ``vwap``,
            ``complete``, ``exact()``...).
        """
        if not self.has_flow:
            raise TapeflowError("trade flow is not available (no flow windows, or an engine without flow)")
        symbol = symbol.upper()
        engine = self.engine
        return engine.volume(symbol, f"{window}@aligned" if aligned else window, now_ms=now_ms or self.clock.now_ms())

    def volumes(self, window: str = "15m", *, aligned: bool = False, now_ms: int | None = None) -> dict[str, Any]:
        """Every symbol's window at once, as NumPy columns (``symbol``, ``buy_quote``, ``sell_quote``, ``net_quote``,
        ``buy_base``, ``sell_base``, counts, ``vwap``, ``complete``)."""
        if not self.has_flow:
            raise TapeflowError("trade flow is not available (no flow windows, or an engine without flow)")
        engine = self.engine
        cols: dict[str, Any] = engine.volumes(
            f"{window}@aligned" if aligned else window, now_ms=now_ms or self.clock.now_ms()
        )
        return cols

    def book(self, symbol: str, depth: int = 10) -> BookView:
        """The top ``depth`` levels of a synced book, with its update id and times.

        Raises:
            BookNotSyncedError: the book is syncing or broke (never served stale); its snapshot is moved to the
                front of the queue.
        """
        symbol = symbol.upper()
        try:
            return self.engine.book(symbol, depth)
        except BookNotSyncedError:
            self._refused += 1
            self.snapshots.prioritise(symbol) if self._started else None
            raise

    def clusters(self, symbol: str) -> list[LiqCluster]:
        """Liquidation price clusters of ``symbol``, decayed to now, with distance from the current mark price."""
        return self.engine.liq_clusters(symbol.upper(), now_ms=self.clock.now_ms())

    def status(self) -> MonitorStatus:
        """Per-connection health, REST budget, sync and backfill state."""
        books = self.engine.sync_counts(self.book_symbols)
        stats = self.engine.stats()
        engine = self.engine
        gaps_open = len(engine.gaps()) if self.has_flow else 0
        incomplete = 0
        if self.has_flow and self.flow:
            cols = self.volumes(self.flow[0])
            incomplete = int((~cols["complete"]).sum())
        routes = {
            k: route_of(self.market, f"x@{k}", self.routes) for k in ("depth", "aggTrade", "forceOrder", "markPrice")
        }
        return MonitorStatus(
            market=self.market,
            now_ms=self.clock.now_ms(),
            symbols=len(self.symbols),
            connections=tuple(c.status() for c in self._connections.values()),
            rest=self.rest.status(),
            snapshots=self.snapshots.status(),
            backfill=self.backfill.status() if self.backfill is not None else None,
            books=books,
            gaps_open=gaps_open,
            trades_backfilled=self._trades_backfilled,
            incomplete=incomplete,
            frames=stats.frames,
            malformed=stats.malformed + self._malformed,
            unknown=stats.unknown,
            routes=routes if self.spec.routed else {},
            engine_backlog=self.worker.backlog,
            unsynced_reads_refused=self._refused,
            events_dropped=self._events_dropped,
        )
