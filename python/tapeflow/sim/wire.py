"""The simulator's wire formats: Binance's event payloads built from a symbol's true state (binance-api.md §3).

Prices and quantities are integer e8 units inside the simulator; they become decimal strings with the symbol's
precision only here, in the field order Binance uses, so frames are byte-for-byte reproducible.
"""

from __future__ import annotations

from typing import Any

import orjson

from tapeflow.sim.book import ASK, BID, Kline, Ladder, Liquidation
from tapeflow.sim.symbols import E8, SymbolSpec, fmt, fmt_e16

__all__ = ["FUNDING_MS", "WireFormat", "encode"]

FUNDING_MS = 8 * 3_600_000


class WireFormat:
    """The payload builders of :class:`~tapeflow.sim.market.SymbolModel` (which holds the state they read)."""

    market: str
    spec: SymbolSpec
    futures: bool
    uid: int
    book: Ladder
    mini: list[int]

    def px(self, v: int) -> str:
        return fmt(v, self.spec.price_dp)

    def qty(self, v: int) -> str:
        return fmt(v, self.spec.qty_dp)

    def quote(self, p: int, q: int) -> int:
        """Quote (spot/USD-M: price x qty) or base (COIN-M: contracts x size / price) volume in e16 units."""
        if self.market == "coinm":
            return q * self.spec.contract_size * E8 * E8 // p
        return p * q

    def book_ticker_event(self, top: tuple[int, int, int, int], t: int) -> dict[str, Any]:
        b, bq, a, aq = top
        if not self.futures:  # spot bookTicker has no e/E (binance-api.md §3.6)
            return {"u": self.uid, "s": self.spec.symbol, "b": self.px(b), "B": self.qty(bq), "a": self.px(a),
                    "A": self.qty(aq)}  # fmt: skip
        d: dict[str, Any] = {"e": "bookTicker", "u": self.uid, "E": t, "T": t, "s": self.spec.symbol}
        if self.market == "coinm":
            d["ps"] = self.spec.pair
        d.update(b=self.px(b), B=self.qty(bq), a=self.px(a), A=self.qty(aq))
        return d

    def diff_event(
        self, now: int, first: int, last: int, prev_u: int, t: int, levels: tuple[dict[int, int], dict[int, int]]
    ) -> dict[str, Any]:
        """A ``depthUpdate`` diff of the changes ``levels`` with update ids ``first..last`` (``prev_u`` before)."""
        bids = [[self.px(p), self.qty(q)] for p, q in sorted(levels[BID].items(), reverse=True)]
        asks = [[self.px(p), self.qty(q)] for p, q in sorted(levels[ASK].items())]
        d: dict[str, Any] = {"e": "depthUpdate", "E": now}
        if self.futures:
            d["T"] = t
        d["s"] = self.spec.symbol
        if self.market == "coinm":
            d["ps"] = self.spec.pair
        d["U"] = first
        d["u"] = last
        if self.futures:
            d["pu"] = prev_u
        d["b"] = bids
        d["a"] = asks
        return d

    def kline_event(self, k: Kline, now: int, closed: bool) -> dict[str, Any]:
        """A ``kline`` stream event for candle ``k`` (binance-api.md §3.5)."""
        body = {"t": k.open, "T": k.open + k.dur - 1, "s": self.spec.symbol, "i": k.interval, "f": k.f, "L": k.L,
                "o": self.px(k.o), "c": self.px(k.c), "h": self.px(k.h), "l": self.px(k.l), "v": self.qty(k.v),
                "n": k.n, "x": closed, "q": fmt_e16(k.q), "V": self.qty(k.V), "Q": fmt_e16(k.Q), "B": "0"}  # fmt: skip
        return {"e": "kline", "E": now, "s": self.spec.symbol, "k": body}

    def mark(self) -> int:
        """The mark price: the mid of the true book on the tick grid."""
        b, a = self.book.bid, self.book.ask
        return (b + a) // 2 // self.spec.tick * self.spec.tick if b and a else self.spec.start_price

    def mark_price(self, now: int) -> dict[str, Any]:
        """A ``markPriceUpdate`` event (binance-api.md §3.7)."""
        p = fmt(self.mark(), 8)
        d: dict[str, Any] = {"e": "markPriceUpdate", "E": now, "s": self.spec.symbol, "p": p}
        if self.market == "usdm":
            d["ap"] = p
        d.update(P=p, i=p, r="0.00010000", T=now - now % FUNDING_MS + FUNDING_MS)
        return d

    def force_order(self, liq: Liquidation, now: int) -> dict[str, Any]:
        """A ``forceOrder`` event (binance-api.md §3.8)."""
        o: dict[str, Any] = {"s": liq.symbol}
        if self.market == "coinm":
            o["ps"] = self.spec.pair
        o.update(S=liq.side, o="LIMIT", f="IOC", q=self.qty(liq.q), p=self.px(liq.p), ap=self.px(liq.ap),
                 X="FILLED", l=self.qty(liq.last_qty), z=self.qty(liq.q), T=liq.T)  # fmt: skip
        return {"e": "forceOrder", "E": now, "o": o}

    def mini_ticker(self, now: int) -> dict[str, Any]:
        """A ``24hrMiniTicker`` event; the simulator's window is "since start" (its runs are shorter than 24 h)."""
        o, h, l, c, v, q = self.mini  # noqa: E741
        d: dict[str, Any] = {"e": "24hrMiniTicker", "E": now, "s": self.spec.symbol}
        if self.market == "coinm":
            d["ps"] = self.spec.pair
        d.update(c=self.px(c), o=self.px(o), h=self.px(h), l=self.px(l), v=self.qty(v), q=fmt_e16(q))
        return d


def encode(payload: Any) -> bytes:
    """The JSON bytes of a payload (orjson keeps insertion order, so frames are byte-for-byte reproducible)."""
    return orjson.dumps(payload)
