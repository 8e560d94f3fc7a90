"""Local books side by side: tapeflow and the peers people use, each behind the same small interface.

Every peer gets raw frame bytes and pays for its own parsing (orjson, or the peer's own parser where it brings one).
Peers that are only a book structure (python-binance's ``DepthCache``, bmoscon's C ``order-book``, nautilus_trader's
PyO3 ``OrderBook``, sortedcontainers, a plain dict) sit behind :class:`Synced`, the official sync rules in plain
Python, identical for all of them; cryptofeed and UNICORN bring their own sync code and are driven through it
(``book_drivers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from reference import E8, TOP, Top, e8
from sessions import Session

MODES = ("apply", "best", "top10")


def to_e8(x: object) -> int:
    """A peer's number as e8 units, exactly (-1 if it is not a multiple of 1e-8)."""
    if isinstance(x, str):
        return e8(x)
    d = Decimal(repr(x)) if isinstance(x, float) else Decimal(str(x))
    v = d * E8
    return int(v) if v == v.to_integral_value() else -1


def as_top(bids: Any, asks: Any) -> Top:
    return tuple((to_e8(p), to_e8(q)) for p, q in bids), tuple((to_e8(p), to_e8(q)) for p, q in asks)


@dataclass
class Check:
    """A peer's top 10 against the exact reference at every check point of a session."""

    points: int = 0
    wrong: int = 0
    unsynced: int = 0
    wrong_symbols: set[str] = field(default_factory=set)
    example: str = ""


class Peer:
    """One contender: ``setup`` (untimed) leaves every book synced; ``run`` is what is timed."""

    name = ""
    detail = ""
    modes: tuple[str, ...] = MODES

    def setup(self, session: Session) -> None:
        self.reset(session)
        for symbol, raw in session.parts[0]:
            self.feed(symbol, raw)

    def reset(self, session: Session) -> None:
        raise NotImplementedError

    def feed(self, symbol: str | None, raw: bytes) -> None:
        raise NotImplementedError

    def run(self, frames: list[bytes], mode: str) -> None:
        raise NotImplementedError

    def top(self, symbol: str) -> Top | None:
        """The exact top 10 (None when the peer has no synced book for ``symbol``)."""
        raise NotImplementedError

    def check(self, session: Session, points: dict[int, tuple[str, Top]]) -> Check:
        self.reset(session)
        out = Check()
        for i, (symbol, raw) in enumerate(session.events):
            self.feed(symbol, raw)
            if i in points:
                sym, want = points[i]
                got = self.top(sym)
                out.points += 1
                if got != want:
                    out.wrong += 1
                    out.unsynced += got is None
                    out.wrong_symbols.add(sym)
                    out.example = out.example or f"{sym} after event {i}: got {got and got[0][:2]}, want {want[0][:2]}"
        return out


def _symbol(frame: bytes) -> str:
    """The symbol of a combined-stream frame, from its stream name (``{"stream":"nknusdt@depth...``)."""
    return frame[11 : frame.index(b"@", 11)].decode().upper()


class TapeflowPerFrame(Peer):
    name = "tapeflow (per frame)"
    detail = (
        "Engine.apply_frame: one call per frame; reads: Engine.best(symbol) for the best bid/ask (one tuple of "
        "floats), Engine.book(symbol, depth) for the top 10"
    )

    def reset(self, session: Session) -> None:
        from tapeflow import Engine

        self.engine = Engine(session.market)

    def feed(self, symbol: str | None, raw: bytes) -> None:
        if symbol is None:
            self.engine.apply_frame(raw, 0)
        else:
            self.engine.apply_snapshot(symbol, raw)

    def run(self, frames: list[bytes], mode: str) -> None:
        apply, book, best = self.engine.apply_frame, self.engine.book, self.engine.best
        if mode == "apply":
            for f in frames:
                apply(f, 0)
        elif mode == "best":
            for f in frames:
                apply(f, 0)
                best(_symbol(f))
        else:
            for f in frames:
                apply(f, 0)
                view = book(_symbol(f), TOP)
                view.bids, view.asks  # noqa: B018

    def top(self, symbol: str) -> Top | None:
        from tapeflow import BookNotSyncedError

        try:
            view = self.engine.book(symbol, TOP)
        except BookNotSyncedError:
            return None
        return as_top(view.bids_exact(), view.asks_exact())

    def digest(self, symbol: str) -> str:
        return self.engine.digest(symbol)


class TapeflowBatch(TapeflowPerFrame):
    name = "tapeflow (batch)"
    detail = "Engine.apply_frames: every timed frame of a session in one call"
    modes = ("apply",)

    def run(self, frames: list[bytes], mode: str) -> None:
        self.engine.apply_frames(frames, 0)


class Synced(Peer):
    """The official sync rules (binance-api.md §4) in front of a peer's book: buffer until the snapshot, the first-diff
    rule, then ``U == last + 1`` (spot) or ``pu == last`` (futures); a gap discards the book until a new snapshot."""

    def reset(self, session: Session) -> None:
        self.futures = session.futures
        self.books: dict[str, list[Any]] = {}  # symbol -> [book, last update id or None, first diff next, pending]

    def feed(self, symbol: str | None, raw: bytes) -> None:
        if symbol is None:
            self.apply(raw)
            return
        snap = orjson.loads(raw)
        st = self.books.setdefault(symbol, [None, None, True, []])
        st[0] = self.new_book(symbol, snap)
        st[1], st[2] = snap["lastUpdateId"], True
        pending, st[3] = st[3], []
        for data in pending:
            self._slow(st, data)

    def apply(self, frame: bytes) -> str:
        data = orjson.loads(frame)["data"]
        symbol = data["s"]
        st = self.books.get(symbol)
        if st is None or st[1] is None or st[2]:
            if st is None:
                st = self.books[symbol] = [None, None, True, []]
            self._slow(st, data)
        elif (data["pu"] if self.futures else data["U"] - 1) == st[1]:
            self.update(st[0], data)
            st[1] = data["u"]
        else:
            st[0], st[1] = None, None  # a gap: wait for a new snapshot
        return symbol

    def _slow(self, st: list[Any], data: dict[str, Any]) -> None:
        last = st[1]
        if last is None:
            st[3].append(data)
            return
        big_u, u = data["U"], data["u"]
        if (u < last) if self.futures else (u <= last):
            return
        if (big_u <= last <= u) if self.futures else (big_u <= last + 1 <= u):
            self.update(st[0], data)
            st[1], st[2] = u, False
        else:
            st[0], st[1] = None, None

    def run(self, frames: list[bytes], mode: str) -> None:
        apply, books = self.apply, self.books
        if mode == "apply":
            for f in frames:
                apply(f)
        elif mode == "best":
            best = self.best
            for f in frames:
                best(books[apply(f)][0])
        else:
            read = self.read
            for f in frames:
                read(books[apply(f)][0])

    def top(self, symbol: str) -> Top | None:
        st = self.books.get(symbol)
        if st is None or st[1] is None or st[2]:
            return None
        bids, asks = self.read(st[0])
        return as_top(bids, asks)

    # A peer's book operations.
    def new_book(self, symbol: str, snap: dict[str, Any]) -> Any:
        raise NotImplementedError

    def update(self, book: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def best(self, book: Any) -> Any:
        raise NotImplementedError

    def read(self, book: Any) -> tuple[Any, Any]:
        """The top 10 levels of each side, best first."""
        raise NotImplementedError
