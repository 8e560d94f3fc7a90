"""Recorded sessions: one JSON object per line, in the order the client received them.

=========  ===================  ==================================================================
kind       fields               meaning
=========  ===================  ==================================================================
ws_open    ``t``, ``url``       a WebSocket connection was opened at unix time ``t`` (seconds)
ws         ``t``, ``url``,      one text frame exactly as received on that connection
           ``raw``
http       ``t``, ``url``,      a REST reply body (depth snapshots ``/depth?symbol=..``, aggTrades pages)
           ``raw``
=========  ===================  ==================================================================

``tapeflow record`` writes this format (:class:`RecordingWriter`), and ``tapeflow replay``, the simulator's replay
mode and the tests read it (:func:`read_recording`), plain or gzip-compressed. The recorded Binance sessions shipped
with tapeflow are :func:`bundled`.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import IO, Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

import orjson

from tapeflow.errors import TapeflowError

__all__ = [
    "Record",
    "RecordingError",
    "RecordingWriter",
    "agg_trades_query",
    "bundled",
    "market_of_url",
    "read_recording",
    "snapshot_symbol",
]

Kind = Literal["ws_open", "ws", "http"]


class RecordingError(TapeflowError, ValueError):
    """A recording file has a line that is not a valid record.

    Attributes:
        path: the file.
        line: the 1-based line number.
    """

    def __init__(self, message: str, *, path: str = "", line: int = 0) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


@dataclass(frozen=True, slots=True)
class Record:
    """One line of a recording."""

    kind: Kind
    t: float
    url: str
    raw: bytes = b""


def _lines(path: Path) -> Iterator[bytes]:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as gz:
            yield from gz
    else:
        with path.open("rb") as f:
            yield from f


def read_recording(path: str | Path) -> Iterator[Record]:
    """Yields the records of a recording file in order; raises :class:`RecordingError` on a bad line."""
    path = Path(path)
    for n, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
            kind = obj["kind"]
            if kind not in ("ws_open", "ws", "http"):
                raise ValueError(f"unknown record kind {kind!r}")
            record = Record(kind=kind, t=float(obj["t"]), url=str(obj["url"]), raw=obj.get("raw", "").encode())
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as e:
            raise RecordingError(f"{path}:{n}: not a recording line ({e})", path=str(path), line=n) from e
        yield record


class RecordingWriter:
    """Writes records to ``path`` (``.gz`` names are compressed); usable as a Monitor's ``tap``."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        self.path = path
        self._file: IO[bytes] = cast(IO[bytes], gzip.open(path, "wb") if path.suffix == ".gz" else path.open("wb"))
        self.records = 0

    def __call__(self, kind: str, url: str, raw: bytes, t: float) -> None:
        line: dict[str, Any] = {"kind": kind, "t": t, "url": url}
        if kind != "ws_open":
            line["raw"] = raw.decode("utf-8", errors="replace")
        self._file.write(orjson.dumps(line) + b"\n")
        self.records += 1

    def close(self) -> None:
        self._file.close()


def bundled() -> list[Path]:
    """The recorded Binance sessions shipped with tapeflow (spot, USD-M and COIN-M), sorted by name."""
    root = resources.files("tapeflow") / "data" / "recordings"
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))


def market_of_url(url: str) -> str | None:
    """The market of a WebSocket or REST URL: ``"spot"``, ``"usdm"``, ``"coinm"`` or ``None`` if unknown."""
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path
    if host.startswith("fstream") or path.startswith("/fapi/"):
        return "usdm"
    if host.startswith("dstream") or path.startswith("/dapi/"):
        return "coinm"
    if "binance" in host or path.startswith("/api/"):
        return "spot"
    return None


def snapshot_symbol(url: str) -> str | None:
    """The symbol of a REST depth snapshot URL (any API version or host), or ``None`` if not a snapshot."""
    parts = urlsplit(url)
    if not parts.path.rstrip("/").endswith("/depth"):
        return None
    symbols = parse_qs(parts.query).get("symbol")
    return symbols[0].upper() if symbols else None


def agg_trades_query(url: str) -> tuple[str, int | None, int | None] | None:
    """``(symbol, startTime, fromId)`` of a REST aggTrades URL (``startTime`` only when the page was asked by time,
    not by ``fromId``), or ``None`` if the URL is not an aggTrades call."""
    parts = urlsplit(url)
    if not parts.path.rstrip("/").endswith("/aggTrades"):
        return None
    q = parse_qs(parts.query)
    symbols = q.get("symbol")
    if not symbols:
        return None
    start = q.get("startTime")
    from_time = int(start[0]) if start and "fromId" not in q and start[0].isdigit() else None
    ids = q.get("fromId")
    from_id = int(ids[0]) if ids and ids[0].isdigit() else None
    return symbols[0].upper(), from_time, from_id
