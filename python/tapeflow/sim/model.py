"""The multi-symbol market and its ground truth.

``Market`` steps every symbol through virtual time and collects the frames wanted by the server; ``Truth`` is the
read-only view tests use to assert exact equality: the true book at any update id, the full trade and aggTrade
tapes, every liquidation (pushed or not) and klines recomputed from the trades.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tapeflow.sim.book import ASK, BID, INTERVAL_MS, AggTrade, Kline, Liquidation, Trade, digest
from tapeflow.sim.market import STEP_MS, SymbolModel
from tapeflow.sim.symbols import SymbolSpec
from tapeflow.sim.wire import encode


def _never(_: str) -> bool:
    return False


class Market:
    """All symbols of one simulated market, advanced in 50 ms steps of virtual time.

    A step of 50 ms (``STEP_MS``) puts every Binance push cadence (100, 250, 500, 1000 ms) on a step boundary.

    Args:
        market: ``"spot"``, ``"usdm"`` or ``"coinm"``.
        specs: the symbols.
        seed: the market's seed; the same seed gives the same market, event for event.
        rate: book events per second per symbol (adds, cancels and market orders), in virtual time.
        liq_rate: liquidations per second per symbol (futures only).
        intervals: the kline intervals kept.
        start_ms: virtual start time (ms since the epoch), rounded down to a step.
    """

    def __init__(
        self,
        market: str,
        specs: list[SymbolSpec],
        seed: int,
        *,
        rate: float = 20.0,
        liq_rate: float = 0.2,
        intervals: tuple[str, ...] = ("1m", "5m", "15m", "1h"),
        start_ms: int = 1_767_225_600_000,
    ) -> None:
        self.market = market
        self.now = start_ms - start_ms % STEP_MS
        self.start_ms = self.now
        self.rate = rate
        self.liq_rate = liq_rate
        self.rates: dict[str, float] = {}
        if market == "spot" and "1s" not in intervals:
            intervals = ("1s", *intervals)
        self.intervals = intervals
        self.models = {s.symbol: SymbolModel(market, s, seed, intervals, self.now) for s in specs}
        self._order = list(self.models.values())
        self._wants: Callable[[str], bool] = _never

    @property
    def wants(self) -> Callable[[str], bool]:
        """Called with a stream name; the model builds and encodes only the frames of streams someone wants."""
        return self._wants

    @wants.setter
    def wants(self, fn: Callable[[str], bool]) -> None:
        self._wants = fn
        for m in self._order:
            m.wants = fn

    def set_wants_symbol(self, fn: Callable[[str], bool]) -> None:
        """Sets the test "does any stream of this lower-case symbol have a listener" (lets idle symbols skip work)."""
        for m in self._order:
            m.wants_symbol = fn

    def step(self) -> list[tuple[str, bytes]]:
        """Advances virtual time by one step; returns the frames ``(stream, payload)`` for wanted streams."""
        out: list[tuple[str, bytes]] = []
        wants = self.wants

        def emit(name: str, payload: Any) -> None:
            if wants(name):
                out.append((name, encode(payload)))

        t0 = self.now
        now = t0 + STEP_MS
        for m in self._order:
            if m.due(now) or m.next_event < 0:
                m.tick(t0, self.rates.get(m.spec.symbol, self.rate), self.liq_rate, emit)
        self.now = now
        mark_due = (now % 1000 == 0, now % 3000 == 0)
        for m in self._order:
            m.flush(now, emit, wants, mark_due)
        if self.market != "spot":
            for due, name in ((mark_due[0], "!markPrice@arr@1s"), (mark_due[1], "!markPrice@arr")):
                if due and wants(name):
                    out.append((name, encode([m.mark_price(now) for m in self._order])))
        if now % 1000 == 0:
            if wants("!miniTicker@arr"):
                changed = [m.mini_ticker(now) for m in self._order if m.mini_changed]
                if changed:
                    out.append(("!miniTicker@arr", encode(changed)))
            for m in self._order:
                m.mini_changed = False
        return out

    def gap(self, symbol: str) -> None:
        """Swallows the next diff-depth event of every cadence of ``symbol``: a real sequence gap."""
        m = self.models[symbol.upper()]
        m.suppress = set(m.windows)

    def depth(self, symbol: str, limit: int) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]]:
        """The current book: ``(lastUpdateId, bids, asks)`` with at most ``limit`` levels per side."""
        m = self.models[symbol]
        return m.uid, m.book.levels(BID, limit), m.book.levels(ASK, limit)


@dataclass(frozen=True)
class BookState:
    """The true book of a symbol: the update id it is at, and price → quantity per side (e8 units)."""

    update_id: int
    bids: dict[int, int]
    asks: dict[int, int]

    def digest(self) -> str:
        """SHA-256 in the canonical form of ``tests/data/golden`` (see ``tapeflow.sim.book.digest``)."""
        return digest(self.bids, self.asks)


class Truth:
    """Ground truth of a running simulation, for tests (read-only; values are copies).

    Attributes:
        market: the ``Market`` it reads.
    """

    def __init__(self, market: Market) -> None:
        self.market = market

    def symbols(self) -> list[str]:
        """All symbols, upper case, in model order."""
        return list(self.market.models)

    def spec(self, symbol: str) -> SymbolSpec:
        """The symbol's spec (tick, step, decimals)."""
        return self.market.models[symbol.upper()].spec

    def book(self, symbol: str) -> BookState:
        """The current true book."""
        m = self.market.models[symbol.upper()]
        return BookState(m.uid, dict(m.book.bids), dict(m.book.asks))

    def book_at(self, symbol: str, update_id: int) -> BookState:
        """The true book right after update id ``update_id`` (any id from the start of the run on).

        Raises:
            ValueError: if ``update_id`` is older than the start of the run.
        """
        m = self.market.models[symbol.upper()]
        uid0, bids0, asks0 = m.initial
        if update_id < uid0:
            raise ValueError(f"update id {update_id} predates the simulation ({uid0})")
        sides = (dict(bids0), dict(asks0))
        last = uid0
        for uid, side, price, qty in m.changes:
            if uid > update_id:
                break
            last = uid
            if qty:
                sides[side][price] = qty
            else:
                sides[side].pop(price, None)
        return BookState(last, sides[BID], sides[ASK])

    def update_ids(self, symbol: str) -> list[int]:
        """Every update id of ``symbol`` since the start, in order."""
        return [c[0] for c in self.market.models[symbol.upper()].changes]

    def trades(self, symbol: str) -> list[Trade]:
        """The full trade tape."""
        return list(self.market.models[symbol.upper()].trades)

    def agg_trades(self, symbol: str) -> list[AggTrade]:
        """The full aggTrade tape (closed aggTrades; a futures aggTrade still open is not in it yet)."""
        return list(self.market.models[symbol.upper()].aggs)

    def liquidations(self, symbol: str | None = None) -> list[Liquidation]:
        """Every liquidation so far (``pushed`` marks the one per symbol per second that was published)."""
        models = [self.market.models[symbol.upper()]] if symbol else self.market.models.values()
        out = [liq for m in models for liq in m.liquidations]
        return sorted(out, key=lambda x: (x.T, x.symbol))

    def klines(self, symbol: str, interval: str, start_ms: int | None = None, end_ms: int | None = None) -> list[Kline]:
        """Candles recomputed from the trade tape (only periods with trades), oldest first."""
        return klines_from_trades(self.market.models[symbol.upper()], interval, start_ms, end_ms)


def klines_from_trades(m: SymbolModel, interval: str, start_ms: int | None, end_ms: int | None) -> list[Kline]:
    """Buckets the trades of ``m`` with ``T`` in ``[start_ms, end_ms]`` into candles of ``interval``."""
    dur = INTERVAL_MS[interval]
    times = [t.T for t in m.trades]
    lo = bisect_left(times, start_ms - start_ms % dur) if start_ms is not None else 0
    hi = bisect_right(times, end_ms) if end_ms is not None else len(times)
    out: list[Kline] = []
    for tr in m.trades[lo:hi]:
        if not out or tr.T >= out[-1].open + dur:
            open_ms = tr.T - tr.T % dur
            out.append(Kline(interval, dur, open_ms, tr.p, tr.p, tr.p, tr.p))
        out[-1].add(tr, m.quote(tr.p, tr.q))
    return out
