"""Paths of the recorded Binance sessions and golden books shipped in tests/data."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
RECORDINGS = sorted((DATA / "recordings").glob("*.jsonl"))
GOLDEN = DATA / "golden"
EXCHANGE_INFO = DATA / "exchange_info"


def golden_for(recording: Path) -> Path:
    """The golden book file of a recording."""
    return GOLDEN / f"{recording.stem}.golden.jsonl"
