"""Book benchmarks: decode + apply of the recordings' depth frames through the batch API, against a pure-Python
book (orjson + a dict per side) in the same run.

Run: ``make bench-python`` (or ``.venv/bin/pytest benches/python/test_book_bench.py --benchmark-enable``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from baseline_book import ExactPyBook, PyBook

from conftest import Session, synced_engine
from tapeflow import Engine
from tapeflow.recordings import snapshot_symbol

#: The golden digests live with the tests (the recordings themselves ship with the package).
GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "data" / "golden"

ROUNDS = 30


def synced_python_book(session: Session, kind: type[PyBook] = PyBook) -> PyBook:
    book = kind(futures=session.market != "spot")
    for record in session.prefix:
        if record.kind == "http" and (symbol := snapshot_symbol(record.url)):
            book.snapshot(symbol, record.raw)
        elif record.kind == "ws" and b'"depthUpdate"' in record.raw:
            book.apply(record.raw)  # diffs of books not snapshotted yet are skipped, stale ones dropped
    return book


def final_digests(session: Session) -> dict[str, str]:
    """The golden digest of each symbol's book after the last applied event (independent reference)."""
    golden = GOLDEN / f"{session.name}.golden.jsonl"
    out: dict[str, str] = {}
    for line in golden.read_bytes().splitlines():
        row = orjson.loads(line)
        out[row["symbol"]] = row["digest"]
    return out


def run_rounds(
    benchmark: pytest.FixtureRequest,
    setup: Callable[[], tuple[tuple[object, ...], dict[str, object]]],
    target: Callable[..., object],
) -> None:
    benchmark.pedantic(target, setup=setup, rounds=ROUNDS, iterations=1)  # type: ignore[attr-defined]


def frames_and_levels(sessions: list[Session]) -> tuple[int, int]:
    return sum(len(s.depth_frames) for s in sessions), sum(s.level_updates for s in sessions)


@pytest.mark.benchmark(group="book/decode_apply")
def test_engine_batch(benchmark, sessions: list[Session]) -> None:  # type: ignore[no-untyped-def]
    engines: list[Engine] = []

    def setup() -> tuple[tuple[object, ...], dict[str, object]]:
        engines[:] = [synced_engine(s) for s in sessions]
        return (), {}

    def apply() -> None:
        for engine, session in zip(engines, sessions, strict=True):
            engine.apply_frames(session.depth_frames, 0)

    run_rounds(benchmark, setup, apply)
    for engine, session in zip(engines, sessions, strict=True):
        for symbol, digest in final_digests(session).items():
            assert engine.digest(symbol) == digest
    frames, levels = frames_and_levels(sessions)
    benchmark.extra_info.update(frames=frames, level_updates=levels)


@pytest.mark.benchmark(group="book/decode_apply")
def test_engine_per_frame(benchmark, sessions: list[Session]) -> None:  # type: ignore[no-untyped-def]
    engines: list[Engine] = []

    def setup() -> tuple[tuple[object, ...], dict[str, object]]:
        engines[:] = [synced_engine(s) for s in sessions]
        return (), {}

    def apply() -> None:
        for engine, session in zip(engines, sessions, strict=True):
            for frame in session.depth_frames:
                engine.apply_frame(frame, 0)

    run_rounds(benchmark, setup, apply)
    frames, levels = frames_and_levels(sessions)
    benchmark.extra_info.update(frames=frames, level_updates=levels)


@pytest.mark.benchmark(group="book/decode_apply")
@pytest.mark.parametrize("kind", [PyBook, ExactPyBook], ids=["float", "exact"])
def test_python_baseline(benchmark, sessions: list[Session], kind: type[PyBook]) -> None:  # type: ignore[no-untyped-def]
    books: list[PyBook] = []

    def setup() -> tuple[tuple[object, ...], dict[str, object]]:
        books[:] = [synced_python_book(s, kind) for s in sessions]
        return (), {}

    def apply() -> None:
        for book, session in zip(books, sessions, strict=True):
            for frame in session.depth_frames:
                book.apply(frame)

    run_rounds(benchmark, setup, apply)
    if kind is ExactPyBook:  # the exact baseline really keeps the books: its digests are the reference's
        for book, session in zip(books, sessions, strict=True):
            for symbol, digest in final_digests(session).items():
                assert digest_of(book, symbol) == digest
    frames, levels = frames_and_levels(sessions)
    benchmark.extra_info.update(frames=frames, level_updates=levels)


def digest_of(book: PyBook, symbol: str) -> str:
    """The book checksum of the README (``b,<price>,<qty>`` lines from the best bid down, then the asks)."""

    def dec(v: int) -> str:
        whole, frac = divmod(int(v), 100_000_000)
        frac_text = f"{frac:08d}".rstrip("0")
        return f"{whole}.{frac_text}" if frac_text else str(whole)

    bids, asks, _ = book.books[symbol]
    lines = [f"b,{dec(p)},{dec(q)}\n" for p, q in sorted(bids.items(), reverse=True)]
    lines += [f"a,{dec(p)},{dec(q)}\n" for p, q in sorted(asks.items())]
    return hashlib.sha256("".join(lines).encode()).hexdigest()
