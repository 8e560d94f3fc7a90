"""Book structures behind the shared sync rules (:class:`book_peers.Synced`): how each peer stores levels, applies
a diff and answers "best bid/ask" and "top 10", written the way each library's documentation and own managers do it.
"""

from __future__ import annotations

import heapq
from typing import Any

from book_peers import Synced
from reference import TOP


class PlainDict(Synced):
    name = "dict (float keys)"
    detail = "a dict per side keyed by float price; best via max/min, top 10 via heapq (baseline)"

    def new_book(self, symbol: str, snap: dict[str, Any]) -> Any:
        return {float(p): float(q) for p, q in snap["bids"]}, {float(p): float(q) for p, q in snap["asks"]}

    def update(self, book: Any, data: dict[str, Any]) -> None:
        for side, key in zip(book, ("b", "a"), strict=True):
            for p, q in data[key]:
                qty = float(q)
                if qty:
                    side[float(p)] = qty
                else:
                    side.pop(float(p), None)

    def best(self, book: Any) -> Any:
        bids, asks = book
        bid, ask = max(bids), min(asks)
        return (bid, bids[bid]), (ask, asks[ask])

    def read(self, book: Any) -> tuple[Any, Any]:
        bids, asks = book
        return heapq.nlargest(TOP, bids.items()), heapq.nsmallest(TOP, asks.items())


class SortedContainers(Synced):
    name = "sortedcontainers"
    detail = "SortedDict per side keyed by float price (baseline)"

    def __init__(self) -> None:
        from sortedcontainers import SortedDict

        self.sorted_dict = SortedDict

    def new_book(self, symbol: str, snap: dict[str, Any]) -> Any:
        make = self.sorted_dict
        return make({float(p): float(q) for p, q in snap["bids"]}), make({float(p): float(q) for p, q in snap["asks"]})

    update = PlainDict.update

    def best(self, book: Any) -> Any:
        return book[0].peekitem(-1), book[1].peekitem(0)

    def read(self, book: Any) -> tuple[Any, Any]:
        bids, asks = book
        return bids.items()[-TOP:][::-1], asks.items()[:TOP]


class BmosconOrderBook(Synced):
    name = "order-book (bmoscon, C)"
    detail = "order_book.OrderBook: C SortedDict per side, float keys; reads by index (its documented top-of-book use)"

    def __init__(self) -> None:
        from order_book import OrderBook

        self.order_book = OrderBook

    def new_book(self, symbol: str, snap: dict[str, Any]) -> Any:
        ob = self.order_book()
        bids, asks = ob.bids, ob.asks
        for p, q in snap["bids"]:
            bids[float(p)] = float(q)
        for p, q in snap["asks"]:
            asks[float(p)] = float(q)
        return ob

    def update(self, book: Any, data: dict[str, Any]) -> None:
        for side, key in ((book.bids, "b"), (book.asks, "a")):
            for p, q in data[key]:
                price, qty = float(p), float(q)
                if qty:
                    side[price] = qty
                elif price in side:
                    del side[price]

    def best(self, book: Any) -> Any:
        return book.bids.index(0), book.asks.index(0)

    def read(self, book: Any) -> tuple[Any, Any]:
        bids, asks = book.bids, book.asks
        return [bids.index(i) for i in range(min(TOP, len(bids)))], [asks.index(i) for i in range(min(TOP, len(asks)))]


class PythonBinance(Synced):
    name = "python-binance DepthCache"
    detail = (
        "binance.ws.depthcache.DepthCache fed by its manager's _apply_orders (float values, price-string keys); "
        "reads: get_bids()/get_asks(), which sort the whole side"
    )

    def __init__(self) -> None:
        from binance.ws.depthcache import DepthCache, DepthCacheManager

        self.depth_cache, self.manager = DepthCache, DepthCacheManager

    def new_book(self, symbol: str, snap: dict[str, Any]) -> Any:
        # The manager object without its REST client and socket: only the depth cache it applies orders to.
        mgr = object.__new__(self.manager)
        mgr._depth_cache = self.depth_cache(symbol)
        mgr._apply_orders(snap)  # what DepthCacheManager._init_cache does with the REST snapshot
        return mgr

    def update(self, book: Any, data: dict[str, Any]) -> None:
        book._apply_orders(data)

    def best(self, book: Any) -> Any:
        dc = book._depth_cache
        return dc.get_bids()[0], dc.get_asks()[0]

    def read(self, book: Any) -> tuple[Any, Any]:
        dc = book._depth_cache
        return dc.get_bids()[:TOP], dc.get_asks()[:TOP]


class Nautilus(Synced):
    name = "nautilus_trader OrderBook (PyO3)"
    detail = (
        "nautilus_pyo3.OrderBook (L2_MBP): one BookOrder per level (Price/Quantity.from_str), update or delete; "
        "reads: best_*_price/size, bids(10)/asks(10) with each level's exact size (BookLevel.size() is a float that "
        "can be off in the last bits, e.g. 516666.00000000006)"
    )

    def __init__(self) -> None:
        from nautilus_trader.core import nautilus_pyo3 as n

        self.n = n
        self.sides = (n.OrderSide.BUY, n.OrderSide.SELL)

    def new_book(self, symbol: str, snap: dict[str, Any]) -> Any:
        n = self.n
        book = n.OrderBook(n.InstrumentId.from_str(f"{symbol}.BINANCE"), n.BookType.L2_MBP)
        self.update(book, {"b": snap["bids"], "a": snap["asks"], "u": snap["lastUpdateId"]})
        return book

    def update(self, book: Any, data: dict[str, Any]) -> None:
        n = self.n
        order, price_of, qty_of = n.BookOrder, n.Price.from_str, n.Quantity.from_str
        seq = data["u"]
        for side, key in zip(self.sides, ("b", "a"), strict=True):
            for p, q in data[key]:
                qty = qty_of(q)
                if qty.is_zero():
                    book.delete(order(side, price_of(p), qty, 0), 0, seq, 0)
                else:
                    book.update(order(side, price_of(p), qty, 0), 0, seq, 0)

    def best(self, book: Any) -> Any:
        return (book.best_bid_price(), book.best_bid_size()), (book.best_ask_price(), book.best_ask_size())

    def read(self, book: Any) -> tuple[Any, Any]:
        bids = [(lv.price, lv.first().size) for lv in book.bids(TOP)]
        return bids, [(lv.price, lv.first().size) for lv in book.asks(TOP)]
