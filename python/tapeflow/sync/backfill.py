"""Trade backfill by aggTrade id: every gap the engine reports is fetched back with ``fromId``, page by page.

Ids, not times: ``GET aggTrades?fromId=<first missing>`` returns the trades from that id on, so a page that overlaps
what the stream delivered is deduplicated by the engine, and nothing between two ids can be missed. The engine's
windows stay ``complete = False`` while a gap is open. A gap the exchange can no longer fill (its history window has
passed) is abandoned explicitly, and the windows that cover it say so.

After a reconnect, a symbol that has not traded since may have lost its last trades without any later id to reveal
the gap; it gets a *tail check* (``fromId = last + 1``) and counts as incomplete until that is done (the engine's
``begin_check``/``end_check``: "complete" is decided in the engine alone).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from dataclasses import dataclass
from typing import Protocol

from tapeflow._aio import cancel_and_wait
from tapeflow._core import TradesPage
from tapeflow.clock import Clock
from tapeflow.errors import RestError
from tapeflow.markets import MarketSpec
from tapeflow.sync.admission import FILL, GAP
from tapeflow.sync.rest import RestClient

__all__ = ["BackfillStatus", "BackfillTarget", "TradeBackfill"]

log = logging.getLogger("tapeflow.sync")

PAGE = 1000


@dataclass(frozen=True)
class BackfillStatus:
    """Counters of the trade backfill.

    Attributes:
        gaps_reported: gaps the engine reported.
        gaps_filled: gaps fetched back completely.
        gaps_abandoned: gaps (or parts) the exchange could no longer serve.
        pages: aggTrades pages fetched.
        trades_fetched: rows received in those pages (duplicates of streamed trades included).
        tail_checks: tail checks done after reconnects.
        queued: jobs waiting (gaps, tail checks, start-up fills).
        in_flight: jobs running.
    """

    gaps_reported: int
    gaps_filled: int
    gaps_abandoned: int
    pages: int
    trades_fetched: int
    tail_checks: int
    queued: int
    in_flight: int


@dataclass(frozen=True)
class _Job:
    kind: str  # "gap", "tail", "start"
    symbol: str
    from_id: int = 0
    to_id: int = 0
    from_time_ms: int = 0


class BackfillTarget(Protocol):
    """Where fetched trades go: the engine's flow state (through the Monitor's worker)."""

    async def apply_trades(
        self, symbol: str, body: bytes, from_time_ms: int | None, from_id: int | None
    ) -> TradesPage | None:
        """Feeds an aggTrades page (``from_time_ms``: it answers a ``startTime`` query; ``from_id``: a ``fromId``
        one); its :class:`~tapeflow.TradesPage`, or ``None`` if the body was malformed (it changed nothing)."""
        ...

    async def abandon(self, symbol: str, from_id: int, to_id: int) -> None:
        """Tells the engine ids ``from_id..=to_id`` cannot be filled."""
        ...

    def open_gaps(self, symbol: str) -> list[tuple[int, int]]:
        """The engine's open gaps of ``symbol``."""
        ...

    def last_trade_id(self, symbol: str) -> int | None:
        """The highest aggTrade id the engine counted for ``symbol``."""
        ...

    def begin_check(self, symbol: str) -> None:
        """``symbol``'s windows are incomplete until the matching :meth:`end_check` (a check is running)."""
        ...

    def end_check(self, symbol: str) -> None: ...


class TradeBackfill:
    """Fetches missing aggTrades and feeds them to the engine.

    Args:
        rest: the REST client.
        spec: the market (aggTrades path and weight).
        target: where the trades go.
        clock: the feed's clock.
        workers: jobs at once.
    """

    def __init__(
        self,
        rest: RestClient,
        spec: MarketSpec,
        target: BackfillTarget,
        clock: Clock,
        *,
        workers: int = 4,
    ) -> None:
        self.rest = rest
        self.path = spec.rest_prefix + "/aggTrades"
        self.weight = spec.agg_trades_weight
        self.target = target
        self.clock = clock
        self._queue: asyncio.PriorityQueue[tuple[int, int, _Job]] = asyncio.PriorityQueue()
        self._seq = itertools.count()
        self._queued: set[_Job] = set()
        self._in_flight = 0
        self.gaps_reported = self.gaps_filled = self.gaps_abandoned = 0
        self.pages = self.trades_fetched = self.tail_checks = 0
        self._starting: dict[str, tuple[int, int]] = {}  # symbol -> (from_time_ms, wait deadline)
        self._live: set[str] = set()  # symbols whose trade stream is delivered
        self._from: dict[str, int] = {}  # symbol -> the time its start-up fill begins at
        self._filling: set[str] = set()  # symbols whose start-up fill is queued or on its way
        self._watcher: asyncio.Task[None] | None = None
        self._tasks = [asyncio.create_task(self._worker(), name=f"tapeflow-backfill-{i}") for i in range(workers)]

    # ------------------------------------------------------------------ requests
    def gap(self, symbol: str, from_id: int, to_id: int) -> None:
        """Queues a gap the engine reported."""
        self.gaps_reported += 1
        self._put(0, _Job("gap", symbol, from_id, to_id))

    def tail(self, symbol: str) -> None:
        """Queues a tail check (after a reconnect); the symbol is incomplete until it is done."""
        self.target.begin_check(symbol)
        self._put(1, _Job("tail", symbol))

    def after_reconnect(self, symbols: list[str], wait_s: float) -> None:
        """Symbols whose stream was broken: incomplete now; after ``wait_s``, a symbol that traded since (its next id
        revealed any gap to the engine) is complete again, the others get a tail check."""
        before = {s: self.target.last_trade_id(s) for s in symbols}
        for s in symbols:
            self.target.begin_check(s)

        async def later() -> None:
            await self.clock.sleep(wait_s)
            for s in symbols:
                if self.target.last_trade_id(s) == before[s]:
                    self.tail(s)
                self._release(_Job("tail", s))

        task = asyncio.create_task(later())
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    def start(self, symbol: str, from_time_ms: int, wait_s: float = 30.0) -> None:
        """Fills ``symbol`` from ``from_time_ms`` on, once its trade stream is delivered (:meth:`live`), or it has
        delivered a first trade, or after ``wait_s``: then every trade after the page comes by the stream, and the
        engine finds any hole between the two by id. A fill made before the stream was known to be delivered, that
        found no trade at all, is done again at the symbol's first trade (the trades between it and the stream's
        start could not be checked otherwise). Incomplete meanwhile."""
        self.target.begin_check(symbol)
        self._from[symbol] = from_time_ms
        self._starting[symbol] = (from_time_ms, self.clock.now_ms() + int(wait_s * 1000))
        self._watch()

    def moved(self, symbols: list[str], wait_s: float) -> None:
        """The trade streams of ``symbols`` were confirmed but delivered nothing, and now go by another route: a
        start-up fill that found no trade proved nothing (trades may have happened since, unseen), so it is done
        again at the symbol's first trade; a symbol with counted trades is checked as after a reconnect (a hole
        shows at its next trade, or a tail check finds it)."""
        self._live.difference_update(symbols)
        again = [s for s in symbols if self.target.last_trade_id(s) is None and s in self._from]
        for s in again:
            # A start still waiting, queued or on its way sees the stream as not delivered and does this itself.
            if s not in self._starting and s not in self._filling:
                self.target.begin_check(s)
                self._starting[s] = (self._from[s], 2**62)
        if again:
            self._watch()
        rest = [s for s in symbols if s not in again]
        if rest:
            self.after_reconnect(rest, wait_s)

    def live(self, symbols: list[str]) -> None:
        """The trade streams of ``symbols`` are delivered (their subscription is confirmed)."""
        self._live.update(symbols)

    def _watch(self) -> None:
        """Starts the task that sends the waiting start-up fills (once)."""
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch_starts())
            self._tasks.append(self._watcher)

    async def _watch_starts(self) -> None:
        while True:
            now = self.clock.now_ms()
            for symbol, (from_time, deadline) in list(self._starting.items()):
                if symbol in self._live or self.target.last_trade_id(symbol) is not None or now >= deadline:
                    del self._starting[symbol]
                    self._filling.add(symbol)
                    self._put(2, _Job("start", symbol, from_time_ms=from_time))
            await self.clock.sleep(0.1 if self._starting else 0.5)

    def _put(self, priority: int, job: _Job) -> None:
        if job in self._queued:
            if job.kind != "gap":
                self._release(job)  # the same check is queued already
            return
        self._queued.add(job)
        self._queue.put_nowait((priority, next(self._seq), job))

    def _release(self, job: _Job) -> None:
        if job.kind in ("tail", "start"):
            self.target.end_check(job.symbol)
        if job.kind == "start" and job not in self._queued:  # (a duplicate of a queued start leaves it queued)
            self._filling.discard(job.symbol)

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)

    def status(self) -> BackfillStatus:
        return BackfillStatus(
            self.gaps_reported,
            self.gaps_filled,
            self.gaps_abandoned,
            self.pages,
            self.trades_fetched,
            self.tail_checks,
            len(self._queued),
            self._in_flight,
        )

    # ------------------------------------------------------------------ work
    async def _worker(self) -> None:
        while True:
            _, _, job = await self._queue.get()
            self._queued.discard(job)
            self._in_flight += 1
            try:
                await self._run(job)
            except RestError as e:
                log.info("backfill %s of %s failed (%s); retrying", job.kind, job.symbol, e)
                if not e.permanent:
                    await self.clock.sleep(random.uniform(1.0, 3.0))
                    self._in_flight -= 1
                    self._queued.add(job)
                    self._queue.put_nowait((1, next(self._seq), job))
                    continue
                self._release(job)
            except Exception:
                log.exception("backfill %s of %s crashed", job.kind, job.symbol)
                self._release(job)
            else:
                self._release(job)
            self._in_flight -= 1

    async def _page(
        self,
        symbol: str,
        params: dict[str, object],
        *,
        from_time_ms: int | None = None,
        from_id: int | None = None,
        priority: int = GAP,
    ) -> TradesPage | None:
        """Fetches one page and feeds it to the engine; ``None`` if it was malformed."""
        body = await self.rest.get(self.path, params, self.weight, priority=priority)
        self.pages += 1
        page = await self.target.apply_trades(symbol, body, from_time_ms, from_id)
        if page is not None:
            self.trades_fetched += page.rows
        return page

    async def _run(self, job: _Job) -> None:
        symbol = job.symbol
        if job.kind == "start":
            live = symbol in self._live  # delivered before the page was asked for: nothing can fall between
            params: dict[str, object] = {"symbol": symbol, "startTime": job.from_time_ms, "limit": PAGE}
            await self._page(symbol, params, from_time_ms=job.from_time_ms, priority=FILL)
            # The rest (up to the live stream) shows up as a gap in the engine and is filled by id.
            self._filling.discard(symbol)
            # No trade at all, and the stream's start unknown (or it moved while the page was out): again at the
            # first trade (still incomplete).
            if self.target.last_trade_id(symbol) is None and not (live and symbol in self._live):
                self.target.begin_check(symbol)
                self._starting[symbol] = (job.from_time_ms, 2**62)
            return
        if job.kind == "tail":
            self.tail_checks += 1
            last = self.target.last_trade_id(symbol)
            if last is None:
                return
            await self._fill(symbol, last + 1, None)
            return
        # A gap: fill it unless it closed meanwhile (another page covered it).
        if not any(a <= job.to_id and b >= job.from_id for a, b in self.target.open_gaps(symbol)):
            return
        if await self._fill(symbol, job.from_id, job.to_id):
            self.gaps_filled += 1

    async def _fill(self, symbol: str, from_id: int, to_id: int | None) -> bool:
        """Pages from ``from_id`` until ``to_id`` (or the newest trade) is covered; ``False`` if the exchange could
        not serve part of the range (that part is abandoned)."""
        fid = from_id
        whole = True
        while True:
            page = await self._page(symbol, {"symbol": symbol, "fromId": fid, "limit": PAGE}, from_id=fid)
            if page is None:  # malformed (logged): the gap stays open in the engine
                return False
            if page.first_id is None or page.last_id is None:
                if to_id is not None and fid <= to_id:  # nothing from fid on: the exchange has no such trades
                    await self.target.abandon(symbol, fid, to_id)
                    self.gaps_abandoned += 1
                    whole = False
                return whole
            if page.abandoned is not None:  # the oldest ids are past the exchange's history window: the engine
                self.gaps_abandoned += 1  # marked them abandoned
                whole = False
            if (to_id is not None and page.last_id >= to_id) or page.rows < PAGE:
                return whole
            fid = page.last_id + 1
