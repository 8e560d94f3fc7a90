"""An exact, slow replay of depth sessions: integer e8 prices and quantities, Binance's official sync rules
(binance-api.md §4), standard-library ``json``. It is the truth the peers' books are compared with, and it is itself
checked line by line against the golden files of tests/data/golden (written by another independent replay).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sessions import Session

E8 = 100_000_000
TOP = 10

Side = tuple[tuple[int, int], ...]
Top = tuple[Side, Side]


def e8(text: str) -> int:
    """A non-negative decimal string as an integer of 1e-8 units; more than 8 decimals is refused."""
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    if len(frac) > 8:
        raise ValueError(f"more than 8 decimals: {text!r}")
    return int(whole or "0") * E8 + int(frac.ljust(8, "0"))


def dec(v: int) -> str:
    """e8 units as a normalised decimal string (no exponent, no trailing zeros): the golden files' form."""
    whole, frac = divmod(v, E8)
    text = f"{frac:08d}".rstrip("0")
    return f"{whole}.{text}" if text else str(whole)


@dataclass
class Book:
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    last: int | None = None  # update id; None while waiting for a snapshot
    first: bool = True  # the next applied diff is the first after the snapshot
    pending: list[dict[str, object]] = field(default_factory=list)

    def set_levels(self, data: dict[str, object]) -> None:
        for key, side in (("b", self.bids), ("a", self.asks)):
            for p, q in data[key]:  # type: ignore[attr-defined]
                price, qty = e8(p), e8(q)
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)

    def top(self, n: int = TOP) -> Top:
        bids = sorted(self.bids.items(), reverse=True)[:n]
        asks = sorted(self.asks.items())[:n]
        return tuple(bids), tuple(asks)

    def digest(self) -> str:
        lines = [f"b,{dec(p)},{dec(q)}\n" for p, q in sorted(self.bids.items(), reverse=True)]
        lines += [f"a,{dec(p)},{dec(q)}\n" for p, q in sorted(self.asks.items())]
        return hashlib.sha256("".join(lines).encode()).hexdigest()


class Reference:
    """Books of one market, synced by the official rules; ``depth`` says whether a diff was applied."""

    def __init__(self, futures: bool) -> None:
        self.futures = futures
        self.books: dict[str, Book] = {}

    def snapshot(self, symbol: str, body: bytes) -> list[str]:
        snap = json.loads(body)
        book = self.books.setdefault(symbol, Book())
        book.bids.clear()
        book.asks.clear()
        book.set_levels({"b": snap["bids"], "a": snap["asks"]})
        book.last, book.first = snap["lastUpdateId"], True
        pending, book.pending = book.pending, []
        return [symbol for data in pending if self._diff(book, data)]

    def depth(self, raw: bytes) -> tuple[str, bool]:
        data = json.loads(raw)["data"]
        symbol = data["s"]
        book = self.books.setdefault(symbol, Book())
        if book.last is None:
            book.pending.append(data)
            return symbol, False
        return symbol, self._diff(book, data)

    def _diff(self, book: Book, data: dict[str, object]) -> bool:
        big_u, u = int(data["U"]), int(data["u"])  # type: ignore[call-overload]
        last = book.last
        assert last is not None
        if book.first:
            stale = u < last if self.futures else u <= last
            if stale:
                return False
            inside = big_u <= last <= u if self.futures else big_u <= last + 1 <= u
            if not inside:
                raise AssertionError(f"{data['s']}: first diff [{big_u}, {u}] does not cover the snapshot {last}")
        else:
            linked = data["pu"] == last if self.futures else big_u == last + 1
            if not linked:
                raise AssertionError(f"{data['s']}: gap after {last} at [{big_u}, {u}]")
        book.set_levels(data)
        book.last, book.first = u, False
        return True


def checkpoints(session: Session, stride: int = 1) -> dict[int, tuple[str, Top]]:
    """For every ``stride``-th event index after which the reference applied a diff (and the last one): the symbol
    and its exact top 10. A snapshot that releases buffered diffs counts as one check point, after all of them."""
    ref = Reference(session.futures)
    out: dict[int, tuple[str, Top]] = {}
    applied_count = 0
    last = len(session.events) - 1
    for i, (symbol, raw) in enumerate(session.events):
        if symbol is not None:
            applied = bool(ref.snapshot(symbol, raw))
        else:
            symbol, applied = ref.depth(raw)
        if applied:
            applied_count += 1
            if applied_count % stride == 0 or i == last:
                out[i] = (symbol, ref.books[symbol].top())
    return out


def check_golden(session: Session) -> int:
    """Replays the session and compares every applied diff with the golden file; returns the lines compared."""
    assert session.golden is not None
    golden = [json.loads(line) for line in session.golden.read_text().splitlines()]
    ref = Reference(session.futures)
    rows: list[dict[str, object]] = []

    def row(symbol: str) -> None:
        book = ref.books[symbol]
        bids, asks = book.top()
        rows.append(
            {
                "symbol": symbol,
                "u": book.last,
                "bids": [[dec(p), dec(q)] for p, q in bids],
                "asks": [[dec(p), dec(q)] for p, q in asks],
                "levels": [len(book.bids), len(book.asks)],
                "digest": book.digest(),
            }
        )

    for symbol, raw in session.events:
        if symbol is not None:
            for s in ref.snapshot(symbol, raw):
                row(s)
        else:
            s, applied = ref.depth(raw)
            if applied:
                row(s)
    assert len(rows) == len(golden), f"{session.name}: {len(rows)} applied diffs, golden has {len(golden)}"
    for n, (mine, theirs) in enumerate(zip(rows, golden, strict=True)):
        assert mine == theirs, f"{session.name}: line {n + 1} differs from the golden file"
    return len(rows)
