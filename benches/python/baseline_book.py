"""Pure-Python local books, as people write them: orjson per frame, a dict per side, the same sync checks.

``PyBook`` keys levels by float (fast, inexact); ``ExactPyBook`` parses prices and quantities into integers of 1e-8
units, as tapeflow does, so that sums and comparisons are exact.
"""

from __future__ import annotations

import orjson


class PyBook:
    """Dict-per-side book keyed by float price, following the spot or futures continuity rule."""

    def __init__(self, futures: bool) -> None:
        self.futures = futures
        self.books: dict[str, tuple[dict[float, float], dict[float, float], list[int]]] = {}

    def snapshot(self, symbol: str, body: bytes) -> None:
        snap = orjson.loads(body)
        bids = {float(p): float(q) for p, q in snap["bids"]}
        asks = {float(p): float(q) for p, q in snap["asks"]}
        self.books[symbol] = (bids, asks, [snap["lastUpdateId"]])

    def apply(self, frame: bytes) -> None:
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
            if float(q) == 0.0:
                bids.pop(float(p), None)
            else:
                bids[float(p)] = float(q)
        for p, q in data["a"]:
            if float(q) == 0.0:
                asks.pop(float(p), None)
            else:
                asks[float(p)] = float(q)
        last[0] = data["u"]


def e8(text: str) -> int:
    """A decimal string as an integer of 1e-8 units (``"427.27"`` → ``42727000000``)."""
    whole, _, frac = text.partition(".")
    return int(whole) * 100_000_000 + int(frac.ljust(8, "0")[:8] or 0)


class ExactPyBook(PyBook):
    """A dict-per-side book keyed by integer e8 prices: the same rules, exact numbers."""

    def snapshot(self, symbol: str, body: bytes) -> None:
        snap = orjson.loads(body)
        bids = {e8(p): e8(q) for p, q in snap["bids"]}
        asks = {e8(p): e8(q) for p, q in snap["asks"]}
        self.books[symbol] = (bids, asks, [snap["lastUpdateId"]])  # type: ignore[assignment]

    def apply(self, frame: bytes) -> None:
        data = orjson.loads(frame)["data"]
        book = self.books.get(data["s"])
        if book is None:
            return
        bids, asks, last = book
        if data["u"] <= last[0]:
            return
        if self.futures and data["pu"] != last[0] and data["U"] > last[0]:
            return
        for side, levels in ((bids, data["b"]), (asks, data["a"])):
            for p, q in levels:
                qty = e8(q)
                if qty == 0:
                    side.pop(e8(p), None)  # type: ignore[call-overload]
                else:
                    side[e8(p)] = qty  # type: ignore[index]
        last[0] = data["u"]
