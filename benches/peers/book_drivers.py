"""cryptofeed and UNICORN driven offline through their own book code.

Neither can be fed frames by a public call without its network layer, so each is built without it and given what the
network would give: cryptofeed its ``message_handler`` with the raw frames and, for the REST snapshot it requests at
a symbol's first diff, the session's recorded snapshot; UNICORN's ``_manage_depth_cache_async`` with a stand-in
for its websocket manager that hands out the parsed frames, and each recorded snapshot when the session has it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Generator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from book_peers import Peer, as_top
from reference import E8, TOP, Reference, Top
from sessions import ROOT, Session

EXCHANGE_INFO = ROOT / "tests" / "data" / "exchange_info"


def _index_top(book: Any) -> tuple[list[Any], list[Any]]:
    bids, asks = book.bids, book.asks
    return [bids.index(i) for i in range(min(TOP, len(bids)))], [asks.index(i) for i in range(min(TOP, len(asks)))]


class _Snapshots:
    """cryptofeed's HTTP connection, answering a depth request with the session's recorded snapshot."""

    def __init__(self, session: Session) -> None:
        self.bodies = {s: raw for s, raw in session.events if s is not None}

    async def read(self, url: str, **_: Any) -> bytes:
        return self.bodies[parse_qs(urlsplit(url).query)["symbol"][0]]


class Cryptofeed(Peer):
    name = "cryptofeed"
    detail = (
        "Binance/BinanceFutures/BinanceDelivery feed: message_handler per frame (msgspec with Decimal), its own "
        "sync (_check_update_id), order-book C SortedDict with Decimal keys; reads in the L2_BOOK callback"
    )

    def __init__(self) -> None:
        from cryptofeed.defines import L2_BOOK
        from cryptofeed.exchanges import Binance, BinanceDelivery, BinanceFutures
        from cryptofeed.symbols import Symbols

        self.l2, self.symbols = L2_BOOK, Symbols
        self.classes: dict[str, Any] = {"spot": Binance, "usdm": BinanceFutures, "coinm": BinanceDelivery}
        for market, cls in self.classes.items():  # the symbol list it would fetch, from the recorded exchangeInfo
            info = json.loads((EXCHANGE_INFO / f"{market}.json").read_text())
            Symbols.set(cls.id, *cls._parse_symbol_data(info))
        self.loop = asyncio.new_event_loop()

    def reset(self, session: Session) -> None:
        cls = self.classes[session.market]
        mapping = self.symbols.get(cls.id)[0]
        if session.name.startswith("generated"):  # generated symbols are not in the exchangeInfo: add them
            mapping.update({f"{s[:-4]}-USDT": s for s in session.symbols})
        to_std = {exchange: std for std, exchange in mapping.items()}
        std = [to_std[s] for s in session.symbols]
        self.cf = cls(symbols=std, channels=[self.l2], callbacks={self.l2: []})
        self.cf.http_conn = _Snapshots(session)
        self.std = dict(zip(session.symbols, std, strict=True))

    def feed(self, symbol: str | None, raw: bytes) -> None:
        if symbol is None:  # snapshots are served on request (the feed asks at a symbol's first diff)
            self.loop.run_until_complete(self.cf.message_handler(raw, None, 0.0))

    def run(self, frames: list[bytes], mode: str) -> None:
        async def best(book: Any, _: float) -> None:
            book.book.bids.index(0), book.book.asks.index(0)

        async def top(book: Any, _: float) -> None:
            _index_top(book.book)

        self.cf.callbacks[self.l2] = {"apply": [], "best": [best], "top10": [top]}[mode]

        async def go() -> None:
            handler = self.cf.message_handler
            for f in frames:
                await handler(f, None, 0.0)

        self.loop.run_until_complete(go())

    def top(self, symbol: str) -> Top | None:
        book = self.cf._l2_book.get(self.std[symbol])
        return None if book is None else as_top(*_index_top(book.book))


def _fixed(v: int, places: int) -> str:
    """e8 units with exactly ``places`` decimals (as Binance prints a symbol's prices or quantities)."""
    text = f"{v // E8}.{v % E8:08d}"
    return text[: len(text) - 8 + places] if places else text[:-9]


class _Stream:
    """The part of UNICORN's websocket manager its depth-cache loop uses: a queue of parsed frames that stops when it
    runs dry, and a hook after each frame (where a user would read the book)."""

    def __init__(self) -> None:
        self.items: list[bytes] = []
        self.i = 0
        self.data: dict[str, Any] = {}
        self.after: Callable[[dict[str, Any]], None] | None = None

    def load(self, frames: list[bytes], after: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.items, self.i, self.after = frames, 0, after

    def is_stop_request(self, stream_id: str | None = None) -> bool:
        return self.i >= len(self.items)

    async def get_stream_data_from_asyncio_queue(self, stream_id: str | None = None) -> dict[str, Any]:
        self.data = orjson.loads(self.items[self.i])
        self.i += 1
        return self.data

    def asyncio_queue_task_done(self, stream_id: str | None = None) -> None:
        if self.after is not None:
            self.after(self.data)

    def get_stream_label(self, stream_id: str | None = None) -> str:
        return "depth"

    def unsubscribe_from_stream(self, **_: Any) -> bool:
        return True


def _init_slots() -> Generator[str, str, None]:
    while True:  # every snapshot request may go ahead (the weight check below always passes)
        yield "INIT"


class _Rest:
    """The REST manager's weight check: always room for a snapshot."""

    def get_used_weight(self) -> dict[str, int]:
        return {"weight": 0, "status_code": 200}


class _InlineThreading:
    """``threading`` as UNICORN's manager module sees it: its snapshot thread runs at once, in the caller."""

    Lock = threading.Lock

    class Thread:
        def __init__(self, target: Callable[..., object], args: tuple[object, ...] = ()) -> None:
            self.target, self.args = target, args

        def start(self) -> None:
            self.target(*self.args)


class Unicorn(Peer):
    name = "UNICORN local depth cache"
    detail = (
        "BinanceLocalDepthCacheManager._manage_depth_cache_async (its sync, gap checks, trimming to 1000 levels per "
        "side on every diff); reads: get_bids/get_asks(limit_count), which sort the whole side. A snapshot it asks "
        "for again (it resyncs when no buffered diff holds the sync point yet) is the exact book at the current frame "
        "(before it on spot, including it on futures, as each market's first-diff rule expects of a fresh snapshot). "
        "It has no COIN-M depth cache: COIN-M frames take its USD-M path (same pu rules)"
    )

    def __init__(self) -> None:
        from unicorn_binance_local_depth_cache import manager
        from unicorn_binance_local_depth_cache.exceptions import DepthCacheOutOfSync

        manager.threading = _InlineThreading  # type: ignore[attr-defined]
        self.cls, self.out_of_sync = manager.BinanceLocalDepthCacheManager, DepthCacheOutOfSync
        self.loop = asyncio.new_event_loop()

    def reset(self, session: Session) -> None:
        # The manager without __init__: no REST client, websocket manager, threads or update check.
        m = self.cls.__new__(self.cls)
        m.exchange = "binance.com" if session.market == "spot" else "binance.com-futures"
        m.depth_caches, m.threading_lock_ask, m.threading_lock_bid = {}, {}, {}
        m.dc_streams, m.dc_streams_lock = {}, threading.Lock()
        m.default_refresh_interval, m.high_performance, m.stop_request = None, False, False
        m._gen_get_init_slot = _init_slots()
        next(m._gen_get_init_slot)
        m.ubwa, m.ubra = _Stream(), _Rest()
        self.stream = m.ubwa
        self.ref = Reference(session.futures)
        self.recorded: dict[str, dict[str, Any]] = {}
        self.places: dict[str, tuple[int, int]] = {}
        self.resnapshots = 0
        m._get_order_book_from_rest = self._snapshot
        for symbol in session.symbols:
            m._add_depthcache(market=symbol)
            m.depth_caches[symbol.lower()]["refresh_request"] = False  # the recorded snapshot arrives by itself
        self.m = m

    def _snapshot(self, market: str) -> dict[str, Any] | None:
        """The recorded snapshot when the session just delivered it, else the exact book as it stands."""
        if (recorded := self.recorded.pop(market, None)) is not None:
            return recorded
        book = self.ref.books.get(market.upper())
        if book is None or book.last is None or market not in self.places:
            return None
        self.resnapshots += 1
        pp, qp = self.places[market]  # decimals as Binance prints this symbol (its keys are these strings)
        bids, asks = sorted(book.bids.items(), reverse=True), sorted(book.asks.items())
        return {
            "lastUpdateId": book.last,
            "bids": [[_fixed(p, pp), _fixed(q, qp)] for p, q in bids],
            "asks": [[_fixed(p, pp), _fixed(q, qp)] for p, q in asks],
        }

    def feed(self, symbol: str | None, raw: bytes) -> None:
        if symbol is not None:
            self.ref.snapshot(symbol, raw)
            snap = self.recorded[symbol.lower()] = orjson.loads(raw)
            level = (snap["bids"] or snap["asks"])[0]
            self.places[symbol.lower()] = (len(level[0].partition(".")[2]), len(level[1].partition(".")[2]))
            self.m._init_depth_cache(market=symbol.lower())
        else:
            # A snapshot asked for while this frame is handled is the book before it (spot: the frame is the next
            # event, U = lastUpdateId + 1) or after it (futures: the frame is the event that holds lastUpdateId,
            # U <= lastUpdateId <= u, as the futures rules expect of the first event after a snapshot).
            if self.ref.futures:
                self.ref.depth(raw)
            self.stream.load([raw])
            self.loop.run_until_complete(self.m._manage_depth_cache_async(stream_id="depth"))
            if not self.ref.futures:
                self.ref.depth(raw)

    def run(self, frames: list[bytes], mode: str) -> None:
        m = self.m

        def best(data: dict[str, Any]) -> None:
            market = data["stream"].split("@")[0]
            m.get_bids(market=market, limit_count=1), m.get_asks(market=market, limit_count=1)

        def top(data: dict[str, Any]) -> None:
            market = data["stream"].split("@")[0]
            m.get_bids(market=market, limit_count=TOP), m.get_asks(market=market, limit_count=TOP)

        self.stream.load(frames, {"apply": None, "best": best, "top10": top}[mode])
        self.loop.run_until_complete(m._manage_depth_cache_async(stream_id="depth"))
        lost = [market for market, cache in m.depth_caches.items() if not cache["is_synchronized"]]
        if lost:  # a resync here would be served a stale book: the timing would not be of a synced cache
            raise RuntimeError(f"UNICORN lost sync during the timed frames: {lost}")

    def top(self, symbol: str) -> Top | None:
        market = symbol.lower()
        try:
            return as_top(
                self.m.get_bids(market=market, limit_count=TOP), self.m.get_asks(market=market, limit_count=TOP)
            )
        except self.out_of_sync:
            return None
