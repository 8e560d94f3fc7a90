"""Paths of the test data: the recorded Binance sessions (shipped once, as package data), golden books and
exchangeInfo replies in tests/data."""

from __future__ import annotations

from pathlib import Path

from tapeflow.recordings import bundled

DATA = Path(__file__).parent / "data"
RECORDINGS = bundled()
GOLDEN = DATA / "golden"
EXCHANGE_INFO = DATA / "exchange_info"


def session_name(recording: Path) -> str:
    """``usdm_sushiusdt_2021-07-22`` for ``.../usdm_sushiusdt_2021-07-22.jsonl.gz``."""
    return recording.name.split(".jsonl", 1)[0]


def recording(name: str) -> Path:
    """The bundled recording called ``name`` (``"usdm_sushiusdt_2021-07-22"``)."""
    return next(p for p in RECORDINGS if session_name(p) == name)


def golden_for(recording: Path) -> Path:
    """The golden book file of a recording."""
    return GOLDEN / f"{session_name(recording)}.golden.jsonl"


def exchange_info(market: str) -> Path:
    """The recorded exchangeInfo of ``market``."""
    return EXCHANGE_INFO / f"{market}.json"
