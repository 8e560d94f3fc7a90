"""Pure-Python local books, as people write them: orjson per frame, a dict per side, the same sync checks.

``PyBook`` keys levels by float (fast, inexact); ``ExactPyBook`` parses prices and quantities into integers of 1e-8
units, as tapeflow does, so that sums and comparisons are exact.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson


def e8(text: str) -> int:
    """A decimal string as an integer of 1e-8 units (``"427.27"`` → ``42727000000``)."""
    whole, _, frac = text.partition(".")
    return int(whole) * 100_000_000 + int(frac.ljust(8, "0")[:8] or 0)


class PyBook:
    """Dict-per-side book keyed by float price, following the spot or futures continuity rule."""

    parse: Callable[[str], float | int] = staticmethod(float)

    def __init__(self, futures: bool) -> None:
        self.futures = futures
        self.books: dict[str, tuple[dict[float | int, float | int], dict[float | int, float | int], list[int]]] = {}

    def snapshot(self, symbol: str, body: bytes) -> None:
        num = self.parse
        snap = orjson.loads(body)
        bids = {num(p): num(q) for p, q in snap["bids"]}
        asks = {num(p): num(q) for p, q in snap["asks"]}
        self.books[symbol] = (bids, asks, [snap["lastUpdateId"]])

    def apply(self, frame: bytes) -> None:
        num = self.parse
        data = orjson.loads(frame)["data"]
        book = self.books.get(data["s"])
        if book is None:
            return
        bids, asks, last = book
        if data["u"] <= last[0]:
            return
        if self.futures and data["pu"] != last[0] and data["U"] > last[0]:
            return
        for p, q in data["b"]:
            qty = num(q)
            if qty == 0:
                bids.pop(num(p), None)
            else:
                bids[num(p)] = qty
        for p, q in data["a"]:
            qty = num(q)
            if qty == 0:
                asks.pop(num(p), None)
            else:
                asks[num(p)] = qty
        last[0] = data["u"]


class ExactPyBook(PyBook):
    """The same book keyed by integer e8 prices: exact numbers."""

    parse = staticmethod(e8)
