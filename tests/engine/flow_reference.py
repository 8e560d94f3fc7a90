"""A brute-force reference of the trade-flow windows: keep every counted trade, sum with ``Decimal`` on demand.

It follows the documented semantics (docs/flow.md), not the engine's code: a sliding window of ``H`` ms at ``now``
with edge step ``r`` (:func:`edge_step_ms`) holds the trades with ``start <= T < end``, ``end = (now // r + 1) * r``,
``start = end - H``; an aligned interval ``I`` holds ``[s, s + I)``. A window is complete when trades are known from
before its start, no missing id can lie inside it (a missing id's trade time is between its received neighbours'
times), and it reaches (up to its evaluation time, or its end if earlier) no more than ``GRACE_MS`` past the newest
event time heard. A candle (``candles``) also needs proof that every trade before its end has arrived: a trade counted
at or after its end, or the stream carrying the trades having delivered an event ``PUSH_MS`` past it.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Trade:
    """One aggregate trade."""

    id: int
    time: int
    price: str
    qty: str
    buy: bool

    def frame(self, symbol: str, market: str = "spot") -> bytes:
        """The WebSocket frame Binance would send (combined stream), in the market's key order."""
        s, a, p, q, t, m = symbol, self.id, self.price, self.qty, self.time, str(not self.buy).lower()
        f = self.id * 3
        if market == "spot":
            data = (
                f'{{"e":"aggTrade","E":{t},"s":"{s}","a":{a},"p":"{p}","q":"{q}","f":{f},"l":{f + 2},"T":{t},'
                f'"m":{m},"M":true}}'
            )
        elif market == "usdm":
            data = (
                f'{{"e":"aggTrade","E":{t},"s":"{s}","a":{a},"p":"{p}","q":"{q}","nq":"{q}","f":{f},"l":{f + 2},'
                f'"T":{t},"m":{m}}}'
            )
        else:
            data = (
                f'{{"e":"aggTrade","E":{t},"a":{a},"s":"{s}","p":"{p}","q":"{q}","f":{f},"l":{f + 2},"T":{t},"m":{m}}}'
            )
        return f'{{"stream":"{s.lower()}@aggTrade","data":{data}}}'.encode()

    def row(self) -> dict[str, object]:
        """The REST ``aggTrades`` row."""
        return {
            "a": self.id,
            "p": self.price,
            "q": self.qty,
            "f": self.id * 3,
            "l": self.id * 3 + 2,
            "T": self.time,
            "m": not self.buy,
            "M": True,
        }


def rest_body(trades: list[Trade]) -> bytes:
    """A REST ``aggTrades`` reply body."""
    return json.dumps([t.row() for t in trades]).encode()


@dataclass
class Sums:
    """Exact sums of one window."""

    buy_base: Decimal = Decimal(0)
    sell_base: Decimal = Decimal(0)
    buy_quote: Decimal = Decimal(0)
    sell_quote: Decimal = Decimal(0)
    buy_count: int = 0
    sell_count: int = 0


def edge_step_ms(horizon_ms: int) -> int:
    """The documented edge resolution of a horizon: 1 s up to 15 min, 10 s up to 2 h 30 min, 1 min up to 15 h,
    10 min up to 6 d 6 h, 1 h beyond; a finer one where the coarser does not divide the horizon."""
    steps = [1_000, 10_000, 60_000, 600_000, 3_600_000]
    fit = next((i for i, s in enumerate(steps) if horizon_ms // s <= 900), len(steps) - 1)
    return next(s for s in reversed(steps[: fit + 1]) if horizon_ms % s == 0)


def sliding_span(horizon_ms: int, now: int) -> tuple[int, int]:
    """``(start, end)`` of the sliding window of ``horizon_ms`` at ``now``."""
    step = edge_step_ms(horizon_ms)
    end = (now // step + 1) * step
    return end - horizon_ms, end


GRACE_MS = 60_000
"""How far past the newest event time heard a window may reach and still be complete."""
PUSH_MS = 1_000
"""How far past a candle's end the stream carrying its trades must have delivered an event to vouch for them."""


@dataclass
class Model:
    """Every distinct counted trade of one symbol, plus what is known about completeness."""

    trades: dict[int, Trade] = field(default_factory=dict)
    from_time: int | None = None
    abandoned: set[int] = field(default_factory=set)
    contract_size: Decimal | None = None
    """COIN-M: the quote volume of a trade is contracts x contract size (USD), not price x quantity."""
    heard: int | None = None
    """The newest event time heard (ms): of any trade received, or of any other event fed with :meth:`hear`."""
    streamed: int | None = None
    """The newest event time delivered by the one stream that carries the trades (REST rows are not)."""

    def add(self, t: Trade, *, streamed: bool = True) -> None:
        """Counts ``t``, received by the stream (``streamed``) or in a REST page; its frame's event time is its
        trade time."""
        self.trades.setdefault(t.id, t)
        self.hear(t.time)
        if streamed:
            self.streamed = t.time if self.streamed is None else max(self.streamed, t.time)

    def hear(self, time: int) -> None:
        self.heard = time if self.heard is None else max(self.heard, time)

    def sums(self, start: int, end: int) -> Sums:
        s = Sums()
        for t in self.trades.values():
            if start <= t.time < end:
                q = Decimal(t.qty)
                quote = q * (self.contract_size if self.contract_size is not None else Decimal(t.price))
                if t.buy:
                    s.buy_base += q
                    s.buy_quote += quote
                    s.buy_count += 1
                else:
                    s.sell_base += q
                    s.sell_quote += quote
                    s.sell_count += 1
        return s

    def holes(self) -> list[tuple[int, int, int, int]]:
        """``(from_id, to_id, t_lo, t_hi)`` for every run of missing ids between received ones."""
        ids = sorted(self.trades)
        out = []
        for a, b in itertools.pairwise(ids):
            if b > a + 1:
                out.append((a + 1, b - 1, self.trades[a].time, self.trades[b].time))
        return out

    def open_gaps(self) -> list[tuple[int, int]]:
        out = []
        for lo, hi, _, _ in self.holes():
            run: int | None = None
            for i in range(lo, hi + 1):
                if i in self.abandoned:
                    if run is not None:
                        out.append((run, i - 1))
                        run = None
                elif run is None:
                    run = i
            if run is not None:
                out.append((run, hi))
        return out

    def status(self, start: int, end: int, now: int | None = None) -> tuple[bool, bool]:
        """``(complete, abandoned)`` of the trade times ``[start, end)`` evaluated at ``now`` (default: as of its
        end, as a candle)."""
        reach = end - 1 if now is None else min(now, end - 1)
        heard = self.heard is not None and reach <= self.heard + GRACE_MS
        coverage = [min(t.time for t in self.trades.values()) + 1] if self.trades else []
        if self.from_time is not None:
            coverage.append(self.from_time)
        covered = bool(coverage) and min(coverage) <= start
        open_, abandoned = False, False
        for lo, hi, t_lo, t_hi in self.holes():
            if t_lo < end and t_hi >= start:
                if all(i in self.abandoned for i in range(lo, hi + 1)):
                    abandoned = True
                else:
                    open_ = True
        return covered and heard and not open_ and not abandoned, abandoned

    def candle_status(self, start: int, end: int) -> tuple[bool, bool]:
        """``(complete, abandoned)`` of the candle ``[start, end)``: as :meth:`status` as of its end, and proven
        delivered up to its end."""
        complete, abandoned = self.status(start, end)
        newest = max((t.time for t in self.trades.values()), default=None)
        delivered = (newest is not None and newest >= end) or (
            self.streamed is not None and self.streamed >= end + PUSH_MS
        )
        return complete and delivered, abandoned
