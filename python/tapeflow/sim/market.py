"""The deterministic market model: per-symbol books, trades, aggTrades, klines, mark price and liquidations.

Time advances in fixed 50 ms steps of virtual time (``Market.step``). Within a step each symbol draws a seeded
number of book events (limit adds, cancels, market orders that trade through the book, liquidations on futures); at
the step's end the interval streams whose cadence divides the step boundary are flushed (diff depth, partial depth,
klines, mark price, tickers, the one-liquidation-per-second snapshot). Real-time streams (trade, spot aggTrade,
bookTicker) are emitted as their events happen. The output of a step is a list of ``(stream name, payload bytes)``
for the streams someone wants; the model itself evolves identically whether anyone listens or not, so the same seed
always gives the same market.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tapeflow.sim.book import ASK, BID, INTERVAL_MS, AggTrade, Kline, Ladder, Liquidation, Trade
from tapeflow.sim.symbols import SymbolSpec
from tapeflow.sim.wire import WireFormat

STEP_MS = 50

#: Diff-depth stream suffixes by cadence (binance-api.md §3.1).
DIFF_STREAMS = {
    "spot": {100: "@depth@100ms", 1000: "@depth"},
    "usdm": {100: "@depth@100ms", 250: "@depth", 500: "@depth@500ms"},
    "coinm": {100: "@depth@100ms", 250: "@depth", 500: "@depth@500ms"},
}
KLINE_PUSH_MS = {"spot": 2000, "usdm": 250, "coinm": 250}
MINI_PUSH_MS = {"spot": 1000, "usdm": 2000, "coinm": 500}

Emit = Callable[[str, Any], None]
_NEVER = float("inf")


class _Window:
    """Changes accumulated for one diff-depth cadence since its last push."""

    __slots__ = ("first", "last", "levels", "prev_u", "t")

    def __init__(self, prev_u: int) -> None:
        self.first = 0
        self.last = 0
        self.t = 0
        self.levels: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self.prev_u = prev_u


class SymbolModel(WireFormat):
    """The true state of one symbol and the events it emits."""

    def __init__(self, market: str, spec: SymbolSpec, seed: int, intervals: tuple[str, ...], start_ms: int) -> None:
        self.market = market
        self.spec = spec
        self.futures = market != "spot"
        self.name = spec.symbol.lower()
        self.rng = random.Random(f"{seed}/{market}/{spec.symbol}")
        rng = self.rng
        self.book = Ladder()
        self.uid = rng.randint(10**9, 4 * 10**9)
        self.trade_id = rng.randint(10**6, 10**8)
        self.agg_id = rng.randint(10**6, 10**8)
        tick, step = spec.tick, spec.step
        mid = spec.start_price
        for i in range(1, 41):
            self.book.set(BID, mid - tick * i, step * rng.randint(1, 400))
            self.book.set(ASK, mid + tick * i, step * rng.randint(1, 400))
        #: Ground truth: the book at ``initial_uid`` and every change after it as (update id, side, price, qty).
        self.initial = (self.uid, dict(self.book.bids), dict(self.book.asks))
        self.changes: list[tuple[int, int, int, int]] = []
        self.trades: list[Trade] = []
        self.aggs: list[AggTrade] = []
        self.liquidations: list[Liquidation] = []
        self._open_agg: list[Any] | None = None  # futures: [a, p, q, f, l, T, m, first_T]
        self.windows = {ms: _Window(self.uid) for ms in DIFF_STREAMS[market]}
        self.suppress: set[int] = set()  # cadences whose next diff is swallowed (injected sequence gap)
        self.klines = {iv: Kline(iv, INTERVAL_MS[iv], start_ms - start_ms % INTERVAL_MS[iv], mid, mid, mid, mid)
                       for iv in intervals}  # fmt: skip
        self.closed: list[Kline] = []
        self._liq: Liquidation | None = None
        self.mini = [mid, mid, mid, mid, 0, 0]  # o, h, l, c, v, q(e16)
        self.mini_changed = False
        #: Set by ``Market``: whether a stream has a listener (payloads of unwanted streams are never built).
        self.wants: Callable[[str], bool] = lambda _: False
        self.n_ticker = self.name + "@bookTicker"
        self.n_trade = self.name + "@trade"
        self.n_agg = self.name + "@aggTrade"
        #: Set by ``Market``: whether any stream of this symbol has a listener.
        self.wants_symbol: Callable[[str], bool] = lambda _: False
        self.unflushed = 0  # diff windows holding changes not pushed yet
        self.next_event = -1.0  # virtual ms of the next book event (float: exponential arrivals)
        self.next_liq = -1.0
        self.n_diff = {ms: self.name + sfx for ms, sfx in DIFF_STREAMS[market].items()}
        self.n_partial = {ms: [(n, f"{self.name}@depth{n}{sfx.replace('@depth', '')}") for n in (5, 10, 20)]
                          for ms, sfx in DIFF_STREAMS[market].items()}  # fmt: skip

    # ---------------------------------------------------------------- book changes
    def _set(self, side: int, price: int, qty: int, t: int, emit: Emit) -> None:
        book = self.book
        before = book.top()
        book.set(side, price, qty)
        # Spot ids are contiguous; futures ids jump (other internal events use ids too), binance-api.md §4.
        self.uid += 1 if not self.futures else self.rng.randint(1, 4)
        self.changes.append((self.uid, side, price, qty))
        for w in self.windows.values():
            if not w.first:
                w.first = self.uid
                self.unflushed += 1
            w.last = self.uid
            w.t = t
            w.levels[side][price] = qty
        top = book.top()
        if top != before and self.wants(self.n_ticker):
            emit(self.n_ticker, self.book_ticker_event(top, t))

    # ---------------------------------------------------------------- events
    def due(self, end: int) -> bool:
        """Whether an event falls before ``end`` (a cheap test, so idle symbols cost next to nothing per step)."""
        return self.next_event < end or self.next_liq < end

    def tick(self, t0: int, rate: float, liq_rate: float, emit: Emit) -> None:
        """Applies the events of the step ``[t0, t0 + STEP_MS)``: Poisson arrivals drawn as exponential gaps."""
        rng, end = self.rng, t0 + STEP_MS
        if self.next_event < 0:  # first step: draw the first arrivals
            self.next_event = t0 + rng.expovariate(rate / 1000) if rate > 0 else _NEVER
            self.next_liq = t0 + rng.expovariate(liq_rate / 1000) if liq_rate > 0 and self.futures else _NEVER
        # The two arrival streams are merged in time order: trade ids (and aggTrade ids) follow trade time, as on
        # Binance, where the flow windows' completeness relies on it.
        while min(self.next_event, self.next_liq) < end:
            if self.next_liq < self.next_event:
                self._liquidate(int(self.next_liq), emit)
                self.next_liq = self.next_liq + rng.expovariate(liq_rate / 1000) if liq_rate > 0 else _NEVER
                continue
            t = int(self.next_event)
            r = rng.random()
            if r < 0.45:
                self._add(t, emit)
            elif r < 0.75:
                self._cancel(t, emit)
            else:
                self._market(t, rng.random() < 0.5, self.spec.step * rng.randint(1, 300), emit)
            self.next_event = self.next_event + rng.expovariate(rate / 1000) if rate > 0 else _NEVER

    def _add(self, t: int, emit: Emit) -> None:
        rng, book, tick = self.rng, self.book, self.spec.tick
        side = rng.randrange(2)
        d = min(int(rng.expovariate(0.15)), 60)
        price = book.ask - tick * (1 + d) if side == BID else book.bid + tick * (1 + d)
        if price <= 0 or not book.bid or not book.ask:
            return
        levels = book.bids if side == BID else book.asks
        self._set(side, price, levels.get(price, 0) + self.spec.step * rng.randint(1, 300), t, emit)

    def _cancel(self, t: int, emit: Emit) -> None:
        rng = self.rng
        side = rng.randrange(2)
        levels = self.book.bids if side == BID else self.book.asks
        if len(levels) < 8:
            self._add(t, emit)
            return
        price = rng.choice(list(levels))
        qty = levels[price]
        cut = self.spec.step * rng.randint(1, max(1, qty // self.spec.step))
        self._set(side, price, max(0, qty - cut) if rng.random() < 0.7 else 0, t, emit)

    def _market(self, t: int, buy: bool, qty: int, emit: Emit) -> list[tuple[int, int]]:
        """A taker order walking up to 3 levels of the opposite side; returns its fills ``(price, qty)``."""
        book, rng, step = self.book, self.rng, self.spec.step
        side = ASK if buy else BID
        levels = book.asks if buy else book.bids
        fills: list[tuple[int, int]] = []
        for _ in range(3):
            if qty <= 0 or len(levels) < 4:
                break
            price = book.ask if buy else book.bid
            avail = levels[price]
            fill = min(qty, avail)
            qty -= fill
            # A level holds several maker orders: one taker fill prints as 1-3 trades (one aggTrade on spot).
            parts = min(rng.randint(1, 3), fill // step)
            cuts = sorted(rng.sample(range(1, fill // step), parts - 1)) if parts > 1 else []
            sizes = [(b - a) * step for a, b in zip([0, *cuts], [*cuts, fill // step], strict=True)]
            for size in sizes:
                self._trade(price, size, t, not buy, emit)
            if not self.futures:
                self._close_agg(t, emit)
            self._set(side, price, avail - fill, t, emit)
            fills.append((price, fill))
        return fills

    def _trade(self, price: int, qty: int, t: int, buyer_maker: bool, emit: Emit) -> None:
        self.trade_id += 1
        tr = Trade(self.trade_id, price, qty, t, buyer_maker)
        self.trades.append(tr)
        qv = self.quote(price, qty)
        for k in self.klines.values():
            if t >= k.open + k.dur:
                self.closed.append(k)
                k = self.klines[k.interval] = k.rolled(t)
            k.add(tr, qv)
        m = self.mini
        m[1], m[2], m[3] = max(m[1], price), min(m[2], price), price
        m[4] += qty
        m[5] += qv
        self.mini_changed = True
        name = self.n_trade
        if not self.wants(name):
            pass
        elif self.futures:
            emit(name, {"e": "trade", "E": t, "T": t, "s": self.spec.symbol, "t": tr.t, "p": self.px(price),
                        "q": self.qty(qty), "X": "MARKET", "m": buyer_maker})  # fmt: skip
        else:
            emit(name, {"e": "trade", "E": t, "s": self.spec.symbol, "t": tr.t, "p": self.px(price),
                        "q": self.qty(qty), "T": t, "m": buyer_maker, "M": True})  # fmt: skip
        oa = self._open_agg
        # Spot: one aggTrade per taker order and price. Futures: same price and taker side within 100 ms
        # (binance-api.md §3.4).
        if oa is not None and oa[1] == price and oa[6] == buyer_maker and (not self.futures or t - oa[7] < 100):
            oa[2] += qty
            oa[4] = tr.t
            oa[5] = t
            return
        self._close_agg(t, emit)
        self.agg_id += 1
        self._open_agg = [self.agg_id, price, qty, tr.t, tr.t, t, buyer_maker, t]

    def _close_agg(self, pushed: int, emit: Emit) -> None:
        """Closes the open aggregate trade and pushes it, as an event of time ``pushed``: on futures an aggregate is
        pushed once its 100 ms have passed, so its event time follows its trade time (by 5-160 ms in the
        recordings)."""
        oa = self._open_agg
        if oa is None:
            return
        self._open_agg = None
        ag = AggTrade(oa[0], oa[1], oa[2], oa[3], oa[4], oa[5], oa[6])
        self.aggs.append(ag)
        sym, name = self.spec.symbol, self.n_agg
        if not self.wants(name):
            return
        if self.market == "spot":
            payload = {"e": "aggTrade", "E": pushed, "s": sym, "a": ag.a, "p": self.px(ag.p), "q": self.qty(ag.q),
                       "f": ag.f, "l": ag.l, "T": ag.T, "m": ag.m, "M": True}  # fmt: skip
        elif self.market == "usdm":
            payload = {"e": "aggTrade", "E": pushed, "s": sym, "a": ag.a, "p": self.px(ag.p), "q": self.qty(ag.q),
                       "nq": self.qty(ag.q), "f": ag.f, "l": ag.l, "T": ag.T, "m": ag.m}  # fmt: skip
        else:
            payload = {"e": "aggTrade", "E": pushed, "a": ag.a, "s": sym, "p": self.px(ag.p), "q": self.qty(ag.q),
                       "f": ag.f, "l": ag.l, "T": ag.T, "m": ag.m}  # fmt: skip
        emit(name, payload)

    def _liquidate(self, t: int, emit: Emit) -> None:
        rng, tick = self.rng, self.spec.tick
        buy = rng.random() < 0.5  # BUY closes a short, SELL closes a long (binance-api.md §7)
        fills = self._market(t, buy, self.spec.step * rng.randint(50, 800), emit)
        if not fills:
            return
        q = sum(f for _, f in fills)
        ap = sum(p * f for p, f in fills) // q // tick * tick
        worst = fills[-1][0]
        bankrupt = worst + tick * 20 if buy else max(tick, worst - tick * 20)
        liq = Liquidation(self.spec.symbol, "BUY" if buy else "SELL", q, bankrupt, ap, fills[-1][1], t, False)
        cur = self._liq
        # One pushed per symbol per second: the largest on USD-M, the latest on COIN-M (binance-api.md §7).
        if cur is not None:
            self.liquidations.append(cur)
        if cur is None or self.market == "coinm" or q * ap > cur.q * cur.ap:
            self._liq = liq
        else:
            self.liquidations.append(liq)

    # ---------------------------------------------------------------- interval pushes
    def flush(self, now: int, emit: Emit, wants: Callable[[str], bool], mark_due: tuple[bool, bool]) -> None:
        """Emits the interval streams due at the step boundary ``now``."""
        listening = self.wants_symbol(self.name)
        if not (listening or self.unflushed or self.closed or self._liq is not None or self._open_agg is not None):
            return  # nothing pending and nobody listening: an idle symbol costs one test per step
        if self.futures and self._open_agg is not None and now - self._open_agg[7] >= 100:
            self._close_agg(now, emit)
        for ms, w in self.windows.items():
            if now % ms:
                continue
            if listening:
                self._partials(now, ms, w, emit, wants)
            if not w.first:
                continue
            self.unflushed -= 1
            name = self.n_diff[ms]
            if ms in self.suppress:
                self.suppress.discard(ms)
            elif wants(name):
                emit(name, self.diff_event(now, w.first, w.last, w.prev_u, w.t, w.levels))
            w.prev_u = w.last
            w.first = 0
            w.levels = ({}, {})
        if listening or self.closed:
            self._push_klines(now, emit, wants)
        if listening and now % MINI_PUSH_MS[self.market] == 0 and wants(self.name + "@miniTicker"):
            emit(self.name + "@miniTicker", self.mini_ticker(now))
        if self.futures:
            if now % 1000 == 0 and self._liq is not None:
                liq = self._liq._replace(pushed=True)
                self.liquidations.append(liq)
                self._liq = None
                for name in (self.name + "@forceOrder", "!forceOrder@arr"):
                    if wants(name):
                        emit(name, self.force_order(liq, now))
            if listening and mark_due[0] and wants(self.name + "@markPrice@1s"):
                emit(self.name + "@markPrice@1s", self.mark_price(now))
            if listening and mark_due[1] and wants(self.name + "@markPrice"):
                emit(self.name + "@markPrice", self.mark_price(now))

    def _partials(self, now: int, ms: int, w: _Window, emit: Emit, wants: Callable[[str], bool]) -> None:
        for n, name in self.n_partial[ms]:
            if not wants(name):
                continue
            bids = [[self.px(p), self.qty(q)] for p, q in self.book.levels(BID, n)]
            asks = [[self.px(p), self.qty(q)] for p, q in self.book.levels(ASK, n)]
            if not self.futures:  # spot partial depth: lastUpdateId/bids/asks only (binance-api.md §3.3)
                emit(name, {"lastUpdateId": self.uid, "bids": bids, "asks": asks})
                continue
            d: dict[str, Any] = {"e": "depthUpdate", "E": now, "T": w.t or now, "s": self.spec.symbol}
            if self.market == "coinm":
                d["ps"] = self.spec.pair
            d.update(U=w.first or self.uid, u=self.uid, pu=w.prev_u, b=bids, a=asks)
            emit(name, d)

    def _push_klines(self, now: int, emit: Emit, wants: Callable[[str], bool]) -> None:
        if now % 250:  # every push cadence and every candle boundary is a multiple of 250 ms
            return
        for k in self.closed:
            name = f"{self.name}@kline_{k.interval}"
            if wants(name):
                emit(name, self.kline_event(k, now, True))
        self.closed.clear()
        for iv, k in self.klines.items():
            if now >= k.open + k.dur:
                name = f"{self.name}@kline_{iv}"
                if wants(name):
                    emit(name, self.kline_event(k, now, True))
                k = self.klines[iv] = k.rolled(now)
            period = 1000 if iv == "1s" else KLINE_PUSH_MS[self.market]
            name = f"{self.name}@kline_{iv}"
            if now % period == 0 and wants(name):
                emit(name, self.kline_event(k, now, False))
