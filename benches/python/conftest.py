"""Benchmark inputs built from the recorded sessions in tests/data."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tapeflow.recording import Record, market_of_url, read_recording, snapshot_symbol

RECORDINGS = sorted((Path(__file__).parents[2] / "tests" / "data" / "recordings").glob("*.jsonl"))


@dataclass
class Session:
    """A recording split at its last snapshot: the prefix syncs every book, the depth frames after it are timed."""

    name: str
    market: str
    prefix: list[Record]
    depth_frames: list[bytes]
    level_updates: int


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
    return Session(path.stem, market, records[: last + 1], depth, levels)


@pytest.fixture(scope="session")
def sessions() -> list[Session]:
    return [load_session(p) for p in RECORDINGS]


def pytest_configure(config: pytest.Config) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
