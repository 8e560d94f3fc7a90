"""Benchmark inputs built from the recorded sessions in tests/data."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tapeflow import Engine
from tapeflow.recordings import Record, bundled, market_of_url, read_recording, snapshot_symbol

RECORDINGS = bundled()


@dataclass
class Session:
    """A recording split at its last snapshot: the prefix syncs every book, the depth frames after it are timed."""

    name: str
    market: str
    prefix: list[Record]
    depth_frames: list[bytes]
    level_updates: int


def synced_engine(session: Session) -> Engine:
    """An engine fed a session's prefix: every book synced, ready for the timed diffs."""
    engine = Engine(session.market)
    for record in session.prefix:
        if record.kind == "ws":
            engine.apply_frame(record.raw, 0)
        elif record.kind == "http" and (symbol := snapshot_symbol(record.url)):
            engine.apply_snapshot(symbol, record.raw)
    return engine


def load_session(path: Path) -> Session:
    import orjson

    records = list(read_recording(path))
    last = max(i for i, r in enumerate(records) if r.kind == "http" and snapshot_symbol(r.url))
    depth = [r.raw for r in records[last + 1 :] if r.kind == "ws" and b'"depthUpdate"' in r.raw]
    levels = 0
    for raw in depth:
        data = orjson.loads(raw)["data"]
        levels += len(data["b"]) + len(data["a"])
    market = market_of_url(records[0].url)
    assert market is not None
    return Session(path.name.split(".jsonl", 1)[0], market, records[: last + 1], depth, levels)


@pytest.fixture(scope="session")
def sessions() -> list[Session]:
    return [load_session(p) for p in RECORDINGS]


def pytest_configure(config: pytest.Config) -> None:
    sys.path.insert(0, str(Path(__file__).parent))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Throughput of every benchmark that says how many items a round handles (``extra_info["frames"]`` or
    ``["items"]``), from its median round, and its ratio to the group's baseline(s) measured in the same run."""
    session = getattr(config, "_benchmarksession", None)
    rows = []
    for b in getattr(session, "benchmarks", []):
        items = b.extra_info.get("frames") or b.extra_info.get("items")
        if items and b.stats:
            median = b.stats.median
            rows.append((b.group or "", b.name, items / median, median))
    if not rows:
        return
    terminalreporter.section("throughput (median round)")
    for group, name, rate, median in rows:
        baselines = [r for r in rows if r[0] == group and "baseline" in r[1] and r[1] != name]
        ratio = "  ".join(f"{rate / r[2]:.2f}x {r[1]}" for r in baselines)
        terminalreporter.write_line(f"{group:28} {name:36} {rate:>14,.0f}/s  {median * 1e3:9.3f} ms  {ratio}")
