"""``Monitor``: one Binance market watched end to end — exact books, taker buy/sell flow windows and liquidations.

Example::

    async with Monitor(market="usdm", symbols="ALL", quote="USDT", flow=["1m", "15m"], big_trade=100_000) as m:
        print(m.volume("BTCUSDT", "15m").buy_quote)
        print(m.book("BTCUSDT", 5).best_bid)
        async for event in m.events():
            print(event)

The Monitor only composes: the symbols come from :mod:`~tapeflow.monitor.universe`, the streams and their routes
from :mod:`~tapeflow.monitor.plan`, the connections live in :mod:`~tapeflow.monitor.connections`, the engine is fed
in order by :mod:`~tapeflow.monitor.worker`, REST bodies go through :mod:`~tapeflow.monitor.bodies`, the engine's
actions are acted on by :mod:`~tapeflow.monitor.actions`, and events reach readers through
:mod:`~tapeflow.monitor.events`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any, Literal, Unpack

from tapeflow._aio import cancel_and_wait
from tapeflow._core import Band, BookView, Engine, LiqCluster, Volume
from tapeflow.clock import Clock, ExchangeClock
from tapeflow.errors import BookNotSyncedError, TapeflowError
from tapeflow.feeds.transports import Transport, resolve_transport
from tapeflow.monitor.config import MonitorConfig, MonitorOptions
from tapeflow.monitor.events import EventHub, EventStream
from tapeflow.monitor.liquidations import Liquidations
from tapeflow.monitor.memory import MemoryReport, measure_memory
from tapeflow.monitor.plan import StreamPlan
from tapeflow.monitor.progress import Progress, measure
from tapeflow.monitor.runtime import Runtime, Tap
from tapeflow.monitor.status import MonitorStatus
from tapeflow.monitor.universe import Watchlist
from tapeflow.monitor.worker import EngineWorker
from tapeflow.store import History, Store
from tapeflow.sync.backfill import TradeBackfill
from tapeflow.sync.rest import RestClient
from tapeflow.sync.snapshots import SnapshotScheduler

__all__ = ["Monitor"]


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
            call per socket read), or a :class:`tapeflow.feeds.Transport` (e.g. ``NativeTransport(ssl=ctx)``).
        clock: time source (default: the exchange's time, read from its ``/time`` at start-up and followed on the
            system clock, at the rate the exchange says its time runs; ``FunctionClock(exchange.now_ms)`` for a
            simulator on a manual clock).
        tap: called with every raw frame and REST body (see :data:`Tap`), e.g. to record the session.
        depth_speed: diff-depth cadence (``"100ms"``, or ``""`` for the market's default).
        snapshot_limit: levels per depth snapshot of a book in use: one named in ``books``, or one read deeper than
            its first snapshot held.
        unread_snapshot_limit: with ``books=True``, levels of each book's first snapshot (100: weight 5 where 1,000
            levels cost 20 on futures and 50 on spot); a book read deeper than it holds for certain is snapshotted
            again at ``snapshot_limit`` (see :meth:`book`). ``None``: every snapshot at ``snapshot_limit``.
        streams_per_connection: cap below the market's 1024.
        routes: USD-M route overrides by stream kind (``{"aggTrade": "market"}``); kinds found silent on their route
            are moved to the other one automatically.
        options: connection timing (silence, pings, rotation...).
        weight_safety: share of the REST weight limit this monitor uses.
        engine_thread: run the engine on a worker thread instead of inline on the event loop (inline is the
            default: measured faster with the websockets transport; each batch still decodes with the GIL released).
        backfill_startup: fetch the longest flow window's trades at start-up.
        extra_streams: more stream names to follow (``"!miniTicker@arr"``, ``"btcusdt@kline_1m"``); their events go
            through the engine, which counts and skips the kinds it does not keep.
        tail_wait_s: after a reconnect, how long a trade stream may stay quiet before its tail is checked by REST.
        store: an SQLite file that keeps what a restart would lose (``None``: none; see docs/store.md): every
            liquidation, completed flow intervals (1m and the flow windows), big trades, gaps, outages, and
            checkpoints of the flow and liquidation state, from which the next start resumes (a warm restart).
            A file that is not a tapeflow store, is damaged or comes from a newer tapeflow is refused at start.
        checkpoint_s: seconds between checkpoints (and one at a clean stop).
        store_retention: history kept in the store (``"240h"``), or ``None`` for ever.

    Raises:
        ValueError / TypeError: an argument is wrong (the message names it).
        StoreError: (at start) the store file is refused.
    """

    def __init__(
        self,
        market: str = "usdm",
        symbols: Literal["ALL"] | Sequence[str] = "ALL",
        *,
        clock: Clock | None = None,
        tap: Tap | None = None,
        **options: Unpack[MonitorOptions],
    ) -> None:
        cfg = MonitorConfig.make(market, symbols, **options)
        self.config = cfg
        self.market = cfg.market
        self.spec = cfg.spec
        self.flow = cfg.flow
        self.has_flow = bool(cfg.flow)
        # One transport for every connection (it may hold shared state, e.g. the native transport's TLS context).
        self.transport: Transport = resolve_transport(cfg.transport)
        self.clock: Clock = clock or ExchangeClock()
        self.tap = tap
        self.watch = Watchlist()
        self.engine: Engine = cfg.make_engine()
        self.events_hub = EventHub(self.clock.now_ms)
        self.liquidations = Liquidations(self.engine, self.clock)
        self.plan = StreamPlan(
            cfg.spec,
            depth_speed=cfg.depth_speed,
            flow=self.has_flow,
            liquidations=cfg.liquidations,
            extra=cfg.extra_streams,
            cap=cfg.streams_per_connection,
            routes=cfg.routes,
        )
        self._refused = 0
        self._runtime: Runtime | None = None
        self._reporter: asyncio.Task[None] | None = None
        self._history: History | None = None

    @property
    def symbols(self) -> list[str]:
        """The symbols watched (known once started)."""
        return self.watch.symbols

    @property
    def book_symbols(self) -> set[str]:
        """The symbols whose books are kept."""
        return self.watch.books

    @property
    def routes(self) -> dict[str, str]:
        """USD-M route overrides by stream kind, as learned so far."""
        return self.plan.routes

    @property
    def runtime(self) -> Runtime:
        """The running parts (REST client, worker, connections, schedulers).

        Raises:
            TapeflowError: the Monitor is not started.
        """
        if self._runtime is None:
            raise TapeflowError("the Monitor is not started: use 'async with Monitor(...)' or 'await m.start()'")
        return self._runtime

    @property
    def worker(self) -> EngineWorker:
        return self.runtime.worker

    @property
    def rest(self) -> RestClient:
        return self.runtime.rest

    @property
    def snapshots(self) -> SnapshotScheduler:
        return self.runtime.snapshots

    @property
    def backfill(self) -> TradeBackfill | None:
        return self.runtime.backfill

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Monitor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Loads the symbol list, opens the connections and starts the background work."""
        if self._runtime is not None:
            return
        cfg = self.config
        store = None
        if cfg.store is not None:
            store = await asyncio.to_thread(Store, cfg.store, market=cfg.market, now_ms=self.clock.now_ms)
        runtime = Runtime(
            self.config,
            engine=self.engine,
            clock=self.clock,
            transport=self.transport,
            tap=self.tap,
            plan=self.plan,
            watch=self.watch,
            events=self.events_hub,
            liquidations=self.liquidations,
            store=store,
        )
        try:
            await runtime.start()
        except BaseException:
            if store is not None:
                await asyncio.to_thread(store.close)
            raise
        self._runtime = runtime
        self._reporter = asyncio.create_task(self._report_progress(), name="tapeflow-progress")

    async def _report_progress(self) -> None:
        """A ``progress`` event every second of start-up, then one ``ready`` event."""
        while True:
            p = self.progress()
            self.events_hub.emit("ready" if p.ready else "progress", None, dataclasses.asdict(p))
            if p.ready:
                return
            await self.clock.sleep(1.0)

    async def close(self) -> None:
        """Closes every connection and stops the background work."""
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            await cancel_and_wait([self._reporter])
            await runtime.close()

    async def wait_connected(self, limit_s: float = 30.0) -> None:
        """Waits until every connection has an open session (real seconds at most ``limit_s``).

        Raises:
            TimeoutError: if some connection is still not open by then.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        while not self.runtime.pool.all_open():
            if loop.time() > deadline:
                raise TimeoutError("connections did not open in time")
            await asyncio.sleep(0.005)

    async def settle(self) -> None:
        """Waits until every frame received so far has been applied and its consequences handled."""
        await self.worker.drain()

    async def flush_store(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109 (a thread's wait, not a task's)
        """Waits (real seconds at most ``timeout``) until everything kept so far is written to the store (e.g.
        before copying the file); ``False`` if it is not (the store is failing: see ``status().store``). ``True``
        without a store."""
        store = self.runtime.persistence.store
        if store is None:
            return True
        await self.settle()
        return await asyncio.to_thread(store.writer.flush, timeout)

    # ------------------------------------------------------------------ live changes
    def subscribe(self, symbols: Sequence[str]) -> None:
        """Starts watching more symbols, live (``SUBSCRIBE`` on existing connections where they have room)."""
        self.runtime.subscribe([s.upper() for s in symbols])

    def unsubscribe(self, symbols: Sequence[str]) -> None:
        """Stops watching symbols, live (``UNSUBSCRIBE``). Their state stays in the engine."""
        self.runtime.unsubscribe({s.upper() for s in symbols})

    def events(self, maxsize: int = 10_000) -> EventStream:
        """Every event from now on: big trades, liquidations, sync and gap changes, connection changes.

        Use as ``async for event in m.events():``. Each stream has its own queue of ``maxsize`` events, registered
        when ``events()`` is called; a reader that falls behind loses the oldest ones (counted in
        ``status().events_dropped``) and never blocks the feed. ``close()`` the stream to stop receiving.
        """
        return self.events_hub.stream(maxsize)

    # ------------------------------------------------------------------ queries
    @property
    def history(self) -> History:
        """The history kept in the store: ``candles(symbol, interval, start, end)``, ``liquidations(...)``,
        ``big_trades(...)`` as NumPy columns (see :class:`tapeflow.store.History`).

        Raises:
            TapeflowError: the Monitor has no store.
        """
        if self.config.store is None:
            raise TapeflowError("the Monitor has no store: pass store='path/to/file.db'")
        if self._history is None:
            self._history = History(self.config.store, self.market)
        return self._history

    def _need_flow(self) -> None:
        if not self.has_flow:
            raise TapeflowError("trade flow is not available (no flow windows, or an engine without flow)")

    def volume(self, symbol: str, window: str = "15m", *, aligned: bool = False, now_ms: int | None = None) -> Volume:
        """Taker buy/sell volume of ``symbol`` over a flow window.

        Args:
            window: one of the monitor's ``flow`` windows.
            aligned: the current UTC-aligned interval (``"15m"``: the current 15-minute candle) instead of the
                sliding window ending now.
            now_ms: the end of the window (default: the monitor's clock).

        Returns:
            the engine's :class:`~tapeflow.Volume` (``buy_base``, ``sell_base``, ``buy_quote``, ``sell_quote``,
            counts, ``vwap``, ``complete`` — false too while a tail check or the start-up fill of the symbol runs,
            see ``checking`` — and ``exact()``...).
        """
        self._need_flow()
        symbol = symbol.upper()
        name = f"{window}@aligned" if aligned else window
        return self.engine.volume(symbol, name, now_ms=now_ms or self.clock.now_ms())

    def volumes(self, window: str = "15m", *, aligned: bool = False, now_ms: int | None = None) -> dict[str, Any]:
        """Every symbol's window at once, as NumPy columns (``symbol``, ``buy_quote``, ``sell_quote``, ``net_quote``,
        ``buy_base``, ``sell_base``, counts, ``vwap``, ``complete``)."""
        self._need_flow()
        name = f"{window}@aligned" if aligned else window
        cols: dict[str, Any] = self.engine.volumes(name, now_ms=now_ms or self.clock.now_ms())
        return cols

    def book(self, symbol: str, depth: int = 10) -> BookView:
        """The top ``depth`` levels of a synced book, with its update id and times.

        A book whose first snapshot was small (``unread_snapshot_limit``) holds its levels for certain down to that
        snapshot's deepest price: a read deeper than that returns the levels it knows (``view.complete`` is
        ``False``), and the book resyncs from a full snapshot (``snapshot_limit``), first in the queue; until then
        reads raise :class:`BookNotSyncedError`.

        Raises:
            BookNotSyncedError: the book is syncing or broke (never served stale); its snapshot is moved to the
                front of the queue.
        """
        symbol = symbol.upper()
        try:
            view = self.engine.book(symbol, depth)
        except BookNotSyncedError:
            self._refused += 1
            if self._runtime is not None:
                self._runtime.snapshots.prioritise(symbol)
            raise
        if not view.complete and self._runtime is not None:
            self._runtime.deepen(symbol)
        return view

    def band(self, symbol: str, pct: float) -> Band | None:
        """Depth within ±``pct`` % of the mid of a synced book (``None`` while a side is empty). A band reaching past
        what a small first snapshot holds for certain has ``complete`` ``False`` and the book resyncs in full, as
        in :meth:`book`."""
        view = self.book(symbol, 1)
        band = self.engine.band(view.symbol, pct)
        if band is not None and not band.complete and self._runtime is not None:
            self._runtime.deepen(view.symbol)
        return band

    def clusters(self, symbol: str) -> list[LiqCluster]:
        """Liquidation price clusters of ``symbol``, decayed to now, with distance from the current mark price."""
        return self.engine.liq_clusters(symbol.upper(), now_ms=self.clock.now_ms())

    def progress(self) -> Progress:
        """How far start-up has come: books synced, symbols whose flow windows are all complete, REST weight (see
        :mod:`tapeflow.monitor.progress` for what "ready" means)."""
        runtime = self.runtime
        now = self.clock.now_ms()
        return measure(
            self.engine,
            self.watch,
            self.flow,
            lambda window, aligned, at: self.volumes(window, aligned=aligned, now_ms=at),
            runtime.rest.status(),
            (now - runtime.started_ms) / 1000,
            now,
        )

    async def ready(self, timeout: float | None = None) -> Progress:  # noqa: ASYNC109 (the documented call)
        """Waits until every kept book is synced and every symbol's flow windows are complete; returns the progress
        then.

        Args:
            timeout: real seconds to wait at most (``None``: no limit).

        Raises:
            TimeoutError: not ready in time (the message says how far it came).
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not (p := self.progress()).ready:
            if deadline is not None and loop.time() >= deadline:
                raise TimeoutError(f"not ready after {timeout:g} s: {p.line()}")
            await asyncio.sleep(0.1)
        return p

    def memory(self) -> MemoryReport:
        """Bytes held by the flow windows, the liquidation store and the books (the engine's count of its buffers),
        per symbol, and the process's resident set size (Linux; ``None`` elsewhere)."""
        return measure_memory(self.engine, self.watch.symbols, self.watch.books)

    def status(self) -> MonitorStatus:
        """Per-connection health, REST budget, sync and backfill state."""
        incomplete = int((~self.volumes(self.flow[0])["complete"]).sum()) if self.has_flow else 0
        return self.runtime.status(incomplete=incomplete, refused=self._refused)
