"""Book benchmarks: decode + apply of the recordings' depth frames through the batch API, against a pure-Python
book (orjson + a dict per side) in the same run.

Run: ``make bench-python`` (or ``.venv/bin/pytest benches/python/test_book_bench.py --benchmark-enable``).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from baseline_book import PyBook

from conftest import RECORDINGS, Session
from tapeflow import Engine
from tapeflow.recording import snapshot_symbol

ROUNDS = 30


def synced_engine(session: Session) -> Engine:
    engine = Engine(session.market)
    for record in session.prefix:
        if record.kind == "ws":
            engine.apply_frame(record.raw, 0)
        elif record.kind == "http" and (symbol := snapshot_symbol(record.url)):
            engine.apply_snapshot(symbol, record.raw)
    return engine


def synced_python_book(session: Session) -> PyBook:
    book = PyBook(futures=session.market != "spot")
    for record in session.prefix:
        if record.kind == "http" and (symbol := snapshot_symbol(record.url)):
            book.snapshot(symbol, record.raw)
    return book


def final_digests(session: Session) -> dict[str, str]:
    """The golden digest of each symbol's book after the last applied event (independent reference)."""
    golden = RECORDINGS[0].parent.parent / "golden" / f"{session.name}.golden.jsonl"
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
def test_python_baseline(benchmark, sessions: list[Session]) -> None:  # type: ignore[no-untyped-def]
    books: list[PyBook] = []

    def setup() -> tuple[tuple[object, ...], dict[str, object]]:
        books[:] = [synced_python_book(s) for s in sessions]
        return (), {}

    def apply() -> None:
        for book, session in zip(books, sessions, strict=True):
            for frame in session.depth_frames:
                book.apply(frame)

    run_rounds(benchmark, setup, apply)
    frames, levels = frames_and_levels(sessions)
    benchmark.extra_info.update(frames=frames, level_updates=levels)
