"""What runs while a Monitor is started: the REST client, the engine worker, the connections, the snapshot scheduler,
the trade backfill, and the callbacks that tie them together.

Start-up loads ``exchangeInfo`` (an unknown symbol fails here, before anything else runs), opens the planned
connections, and queues the start-up fill of the longest flow window for every symbol. Every change to the engine —
frame batches, REST bodies, book resets — goes through the worker in arrival order.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence

import orjson

from tapeflow._core import Action, BatchResult, Engine
from tapeflow.clock import RATE_HEADER, Clock, ExchangeClock
from tapeflow.errors import TapeflowError
from tapeflow.feeds.connection import FeedConnection
from tapeflow.feeds.transports.base import Transport
from tapeflow.markets import kind_of
from tapeflow.monitor.actions import ActionRouter
from tapeflow.monitor.bodies import EngineBodies
from tapeflow.monitor.config import MonitorConfig
from tapeflow.monitor.connections import ConnectionPool
from tapeflow.monitor.events import EventHub
from tapeflow.monitor.liquidations import Liquidations
from tapeflow.monitor.persistence import Persistence
from tapeflow.monitor.plan import StreamPlan, symbol_of
from tapeflow.monitor.status import MonitorStatus
from tapeflow.monitor.universe import Watchlist, parse_exchange_info
from tapeflow.monitor.worker import EngineWorker
from tapeflow.store import Store
from tapeflow.sync.backfill import TradeBackfill
from tapeflow.sync.budget import in_flight_for
from tapeflow.sync.rest import RestClient
from tapeflow.sync.snapshots import SnapshotScheduler

__all__ = ["Runtime", "Tap"]

log = logging.getLogger("tapeflow.monitor")

#: A feed lag beyond this (ms, either way) means the Monitor's clock is not the exchange's.
CLOCK_TOLERANCE_MS = 60_000
#: Readings of the exchange's time at start-up; the one with the shortest round trip is followed.
CLOCK_SAMPLES = 3

#: ``tap(kind, url, raw, t)``: ``kind`` is ``"ws_open"`` (``raw`` empty), ``"ws"`` (one frame) or ``"http"`` (a REST
#: reply body); ``t`` is the receive time in seconds since the epoch on the monitor's clock.
Tap = Callable[[str, str, bytes, float], None]


class Runtime:
    """The running parts of one Monitor (made by :meth:`tapeflow.Monitor.start`, ended by ``close``)."""

    def __init__(
        self,
        cfg: MonitorConfig,
        *,
        engine: Engine,
        clock: Clock,
        transport: Transport,
        tap: Tap | None,
        plan: StreamPlan,
        watch: Watchlist,
        events: EventHub,
        liquidations: Liquidations,
        store: Store | None = None,
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.clock = clock
        self.tap = tap
        self.plan = plan
        self.watch = watch
        self.events = events
        self.liquidations = liquidations
        self.worker = EngineWorker(engine, self.on_batch, threaded=cfg.engine_thread)
        self.rest = RestClient(
            cfg.rest_url, clock=clock, weight_limit=cfg.spec.weight_limit, safety=cfg.weight_safety, tap=tap
        )
        self.pool = ConnectionPool(
            plan,
            ws_url=cfg.ws_url,
            transport=transport,
            clock=clock,
            options=cfg.options,
            sink=self.on_frames,
            symbols=lambda: self.watch.symbols,
            on_up=self.on_up,
            on_down=self.on_down,
            on_open=self.on_open,
            on_live=self.on_live,
            on_moved=self.on_moved,
            events=events,
        )
        self.persistence = Persistence(store, cfg, engine, self.worker, clock, liquidations)
        self.bodies = EngineBodies(engine, self.worker, self._on_body_actions, events, self.persistence.abandoned)
        self.started_ms = clock.now_ms()
        self._clock_warned = False
        self.snapshots: SnapshotScheduler
        self.backfill: TradeBackfill | None = None
        self.router: ActionRouter

    async def start(self) -> None:
        cfg, spec = self.cfg, self.cfg.spec
        try:
            await self.rest.start()
            if isinstance(self.clock, ExchangeClock):
                await self._follow_exchange_clock(self.clock)
            body = await self.rest.get(spec.rest_prefix + "/exchangeInfo", None, spec.exchange_info_weight)
            universe = parse_exchange_info(body, spec, cfg.symbols, cfg.quote)
            self.started_ms = now = self.clock.now_ms()
            persistence = self.persistence
            persistence.restore(now)  # before any symbol is tracked: the engine is as the checkpoint left it
            self.watch.reset(universe.symbols, cfg.books)
            for s in universe.symbols:
                self.engine.track(s)
            for s, size in universe.contract_sizes.items():
                self.engine.set_contract_size(s, size)
            persistence.resume(universe.contract_sizes, now)
        except BaseException:  # an unknown symbol or an unreadable store fails here: nothing may be left running
            self.worker.stop()
            await self.rest.close()
            raise
        if universe.weight_limit is not None:
            self.rest.weight_limit = universe.weight_limit
        # Enough requests going at once to spend the minute's budget while each is out (the REST client's own limit
        # on requests at once is the sum).
        per_min = self.rest.weight_limit * cfg.weight_safety
        snapshot_workers = in_flight_for(per_min, spec.depth_weight(cfg.unread_snapshot_limit or cfg.snapshot_limit))
        fill_workers = in_flight_for(per_min, spec.agg_trades_weight)
        self.rest.concurrency = snapshot_workers + fill_workers
        self.snapshots = SnapshotScheduler(
            self.rest,
            spec,
            cfg.snapshot_limit,
            self.bodies,
            self.clock,
            unread_limit=cfg.unread_snapshot_limit,
            in_use=cfg.books if isinstance(cfg.books, tuple) else (),
            workers=snapshot_workers,
        )
        if cfg.flow:
            self.backfill = TradeBackfill(self.rest, spec, self.bodies, self.clock, workers=fill_workers)
        self.router = ActionRouter(
            lambda: self.watch.books, self.snapshots, self.backfill, self.pool, self.events, self.liquidations.recent
        )
        self.pool.open(self.plan.shards(self.watch.symbols, self.watch.books))
        if self.backfill is not None and cfg.backfill_startup:
            self._start_backfill(self.backfill)
        persistence.start_upkeep(now, self._flow_ready)

    def _flow_ready(self) -> bool:
        """Every watched symbol's flow windows are complete now."""
        if not self.cfg.flow:
            return True
        now = self.clock.now_ms()
        for w in self.cfg.flow:
            for name in (w, f"{w}@aligned"):
                cols = self.engine.volumes(name, now_ms=now)
                if not cols["complete"][self.watch.watched(cols["symbol"])].all():
                    return False
        return True

    def _start_backfill(self, backfill: TradeBackfill) -> None:
        """Symbols restored from the store are filled from their last counted id on (their stream shows the gap,
        or a tail check fetches it); the others from the start of the longest window."""
        longest = self.cfg.longest_window_ms
        now = self.clock.now_ms()
        since = min(now - longest, now - now % longest)
        warm, cold = self.persistence.split_backfill(self.watch.symbols)
        for s in cold:
            backfill.start(s, since)
        if warm:
            backfill.after_reconnect(warm, self.cfg.tail_wait_s)
        for s, a, b in self.persistence.restored_gaps(now):
            backfill.gap(s, a, b)

    async def _follow_exchange_clock(self, clock: ExchangeClock) -> None:
        """Reads the exchange's time (``GET /time``, weight 1) :data:`CLOCK_SAMPLES` times so that "now" is the
        exchange's now, and follows the reading with the shortest round trip: a reading is taken to describe the
        middle of its round trip, which is only as right as the round trip is symmetric, and the first one also
        carries the connection's set-up (TCP and TLS handshakes)."""
        best: tuple[int, int, int, float] | None = None
        for _ in range(CLOCK_SAMPLES):
            sent = time.time_ns()
            body, headers = await self.rest.get_reply(self.cfg.spec.rest_prefix + "/time", None, 1)
            received = time.time_ns()
            try:
                reading = (int(orjson.loads(body)["serverTime"]), sent, received, float(headers.get(RATE_HEADER, "1")))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                raise TapeflowError(f"the exchange's /time reply is not readable: {body[:100]!r}") from e
            if best is None or received - sent < best[2] - best[1]:
                best = reading
        assert best is not None
        server_ms, sent, received, rate = best
        if not rate > 0:
            raise TapeflowError(
                "the exchange's clock stands still (a simulator on a manual clock): pass its clock, "
                "e.g. Monitor(..., clock=FunctionClock(exchange.now_ms))"
            )
        clock.follow(server_ms, sent, received, rate)
        if abs(clock.offset_ms) > 60_000 or rate != 1:
            log.info(
                "the exchange's clock is %.1f s %s this machine's%s: following the exchange's",
                abs(clock.offset_ms) / 1000,
                "ahead of" if clock.offset_ms > 0 else "behind",
                f" and runs at {rate:g}x" if rate != 1 else "",
            )

    async def close(self) -> None:
        await self.pool.stop()
        await self.snapshots.stop()
        if self.backfill is not None:
            await self.backfill.stop()
        await self.worker.drain()
        await self.persistence.close()
        self.worker.stop()
        await self.rest.close()

    # ------------------------------------------------------------------ feed callbacks
    def on_open(self, url: str) -> None:
        if self.tap is not None:
            self.tap("ws_open", url, b"", self.clock.now_ms() / 1000)

    def on_frames(self, conn: FeedConnection, frames: list[bytes], recv_ms: int) -> None:
        tap = self.tap
        if tap is not None:
            url = conn.session.link.url if conn.session is not None else ""
            t = recv_ms / 1000
            for f in frames:
                tap("ws", url, f, t)
        self.worker.submit_frames(conn, frames, recv_ms)

    def on_batch(self, conn: FeedConnection, result: BatchResult, frames: list[bytes]) -> None:
        if result.last_event_time_ms is not None:
            lag = result.recv_ts_ns // 1_000_000 - result.last_event_time_ms
            conn.record_lag(lag)
            if abs(lag) > CLOCK_TOLERANCE_MS and not self._clock_warned:
                self._warn_clock(lag)
        if result.actions:
            self.router.handle(result.actions, conn)
            self.persistence.actions(result.actions, frames, result.recv_ts_ns // 1_000_000)

    def _on_body_actions(self, actions: Sequence[Action]) -> None:
        self.router.handle(actions, None)
        self.persistence.actions(actions, None, self.clock.now_ms())

    def _warn_clock(self, lag_ms: int) -> None:
        """Once: the events' times are far from the Monitor's clock, so its windows would not end at the exchange's
        now."""
        self._clock_warned = True
        log.warning(
            "events are %.0f s %s this monitor's clock: its windows would not end at the exchange's now (use the "
            "default clock, which follows the exchange, or a clock that reads it)",
            abs(lag_ms) / 1000,
            "behind" if lag_ms > 0 else "ahead of",
        )

    def on_up(self, conn: FeedConnection, first: bool) -> None:
        self.persistence.up(conn)
        self.events.emit("connected", None, {"connection": conn.id, "route": conn.route, "first": first})
        if first or self.backfill is None:
            return
        # Trades lost at the end of the broken session show up as a gap only once the symbol trades again: symbols
        # that have not traded again shortly after the reconnect get their tail checked by REST.
        symbols = [symbol_of(s) for s in conn.data_streams() if kind_of(s) == "aggTrade"]
        if symbols:
            self.backfill.after_reconnect(symbols, self.cfg.tail_wait_s)

    def on_live(self, conn: FeedConnection, streams: list[str]) -> None:
        # A symbol's start-up fill goes once its trade stream is delivered: every trade after the page comes by stream.
        if self.backfill is not None:
            symbols = [symbol_of(s) for s in streams if kind_of(s) == "aggTrade"]
            if symbols:
                self.backfill.live(symbols)

    def on_moved(self, streams: list[str]) -> None:
        # Trade streams confirmed on a route that delivered nothing: what their start-up fills took for granted (that
        # every later trade would come by the stream) did not hold.
        if self.backfill is not None:
            symbols = [symbol_of(s) for s in streams if kind_of(s) == "aggTrade"]
            if symbols:
                self.backfill.moved(symbols, self.cfg.tail_wait_s)

    def on_down(self, conn: FeedConnection, reason: str) -> None:
        self.persistence.down(conn, reason)
        self.events.emit("disconnected", None, {"connection": conn.id, "route": conn.route, "reason": reason})
        # Books fed by this connection missed diffs: discard them (after every frame already queued) so no read is
        # served from a stale book; the next diff asks for a snapshot.
        symbols = [symbol_of(s) for s in conn.data_streams() if kind_of(s) == "depth"]
        if symbols:
            engine = self.engine

            def reset() -> None:
                for sym in symbols:
                    engine.reset_book(sym)

            self.worker.call(reset)

    def deepen(self, symbol: str) -> None:
        """A read needed more of ``symbol``'s book than its first snapshot holds: it resyncs from a full snapshot,
        which goes first (once: a book already in full is left as it is)."""
        if self.snapshots.deepen(symbol):
            self.worker.call(functools.partial(self.engine.reset_book, symbol))

    # ------------------------------------------------------------------ live changes
    def subscribe(self, symbols: Sequence[str]) -> None:
        new = self.watch.add(symbols)
        for s in new:
            self.worker.call(functools.partial(self.engine.track, s))  # in order with the frames already queued
        if new:
            self.pool.subscribe(self.plan.symbol_streams(new, self.watch.books))

    def unsubscribe(self, symbols: set[str]) -> None:
        self.watch.remove(symbols)
        self.pool.unsubscribe(symbols)

    # ------------------------------------------------------------------ status
    def status(self, *, incomplete: int, refused: int) -> MonitorStatus:
        engine = self.engine
        stats = engine.stats()
        return MonitorStatus(
            market=self.cfg.market,
            now_ms=self.clock.now_ms(),
            symbols=len(self.watch.symbols),
            connections=self.pool.statuses(),
            rest=self.rest.status(),
            snapshots=self.snapshots.status(),
            backfill=self.backfill.status() if self.backfill is not None else None,
            books=engine.sync_counts(self.watch.books),
            gaps_open=len(engine.gaps()) if self.cfg.flow else 0,
            trades_backfilled=self.bodies.trades_backfilled,
            incomplete=incomplete,
            frames=stats.frames,
            malformed=stats.malformed + self.bodies.malformed,
            unknown=stats.unknown,
            routes=self.plan.route_table(),
            engine_backlog=self.worker.backlog,
            unsynced_reads_refused=refused,
            events_dropped=self.events.dropped,
            liquidation_copies=self.persistence.copies(list(self.pool)),
            store=self.persistence.status(),
        )
