"""Per-symbol market state of the simulator: the true book, the trade tape and running klines.

Everything is integer e8 units (prices, quantities) and e16 units (price x quantity); see ``symbols.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

BID, ASK = 0, 1

#: Kline intervals the simulator keeps (calendar intervals such as ``1M`` are not simulated).
INTERVAL_MS = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}


class Trade(NamedTuple):
    """One trade: id, price (e8), quantity (e8), time (ms), buyer is maker (taker sold)."""

    t: int
    p: int
    q: int
    T: int
    m: bool


class AggTrade(NamedTuple):
    """One aggregate trade: agg id ``a``, price, summed quantity, first/last trade ids, time, buyer is maker."""

    a: int
    p: int
    q: int
    f: int
    l: int  # noqa: E741 (Binance's field name)
    T: int
    m: bool


class Liquidation(NamedTuple):
    """One liquidation order of the model (all of them; ``pushed`` says whether it was the one sent that second)."""

    symbol: str
    side: str
    q: int
    p: int
    ap: int
    last_qty: int
    T: int
    pushed: bool


def digest(bids: dict[int, int], asks: dict[int, int]) -> str:
    """SHA-256 of a book in the canonical text form of the golden files.

    ``b,<price>,<qty>\\n`` per bid from the best down, then ``a,<price>,<qty>\\n`` per ask from the best up, decimals
    with no exponent and no trailing zeros.
    """

    def dec(v: int) -> str:
        whole, frac = divmod(v, 100_000_000)
        s = f"{frac:08d}".rstrip("0")
        return f"{whole}.{s}" if s else str(whole)

    lines = [f"b,{dec(p)},{dec(bids[p])}\n" for p in sorted(bids, reverse=True)]
    lines += [f"a,{dec(p)},{dec(asks[p])}\n" for p in sorted(asks)]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


@dataclass(slots=True)
class Kline:
    """A running candle: exactly the sums of the trades whose time falls in ``[open, open + dur)``."""

    interval: str
    dur: int
    open: int
    o: int
    h: int
    l: int  # noqa: E741 (Binance's field name)
    c: int
    v: int = 0
    q: int = 0  # e16 (spot/USD-M: price x qty; COIN-M: base volume)
    V: int = 0
    Q: int = 0
    n: int = 0
    f: int = -1
    L: int = -1

    def add(self, tr: Trade, quote_e16: int) -> None:
        """Adds one trade of this candle."""
        if self.n == 0:
            self.o = self.h = self.l = tr.p
            self.f = tr.t
        self.h = max(self.h, tr.p)
        self.l = min(self.l, tr.p)
        self.c = tr.p
        self.v += tr.q
        self.q += quote_e16
        if not tr.m:  # taker bought
            self.V += tr.q
            self.Q += quote_e16
        self.n += 1
        self.L = tr.t

    def rolled(self, t_ms: int) -> Kline:
        """The empty candle that follows this one and contains ``t_ms`` (prices carry the last close)."""
        start = t_ms - t_ms % self.dur
        return Kline(self.interval, self.dur, start, self.c, self.c, self.c, self.c)


class Ladder:
    """One book (both sides) with cached best prices; a plain dict per side keeps it simple and exact."""

    __slots__ = ("ask", "asks", "bid", "bids")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.bid = 0  # best bid price, 0 when empty
        self.ask = 0  # best ask price, 0 when empty

    def set(self, side: int, price: int, qty: int) -> None:
        """Sets the absolute quantity at a level (0 removes it) and keeps the best prices current."""
        if side == BID:
            if qty:
                self.bids[price] = qty
                if price > self.bid:
                    self.bid = price
            else:
                self.bids.pop(price, None)
                if price == self.bid:
                    self.bid = max(self.bids, default=0)
        elif qty:
            self.asks[price] = qty
            if self.ask == 0 or price < self.ask:
                self.ask = price
        else:
            self.asks.pop(price, None)
            if price == self.ask:
                self.ask = min(self.asks, default=0)

    def top(self) -> tuple[int, int, int, int]:
        """Best bid price, bid quantity, best ask price, ask quantity (zeros for an empty side)."""
        return self.bid, self.bids.get(self.bid, 0), self.ask, self.asks.get(self.ask, 0)

    def levels(self, side: int, n: int) -> list[tuple[int, int]]:
        """The best ``n`` levels of a side, best first."""
        book = self.bids if side == BID else self.asks
        keys = sorted(book, reverse=side == BID)[:n]
        return [(p, book[p]) for p in keys]
