"""A pure-Python local book, as people write it: orjson per frame, a dict per side, the same sync checks."""

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
