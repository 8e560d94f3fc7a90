"""Recording a live session: every frame a Monitor receives and every REST body it fetches, in arrival order.

The file is the recording format ``tapeflow replay`` reads (see :mod:`tapeflow.recording`): ``ws_open`` when a
connection opens, ``ws`` for each text frame exactly as received, ``http`` for each REST reply body (exchangeInfo,
depth snapshots, aggTrades pages). The engine sees the same frames and snapshots in the same order, so a replay of the
file rebuilds the same books.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from pathlib import Path
from typing import IO, Any, cast

import orjson

from tapeflow.monitor import Monitor

__all__ = ["Recorder", "record"]


class Recorder:
    """A ``tap`` for :class:`tapeflow.Monitor` that writes the recording format (``.gz`` names are compressed)."""

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


async def record(path: str | Path, *, duration_s: float | None = None, **monitor_kwargs: Any) -> int:
    """Runs a Monitor with ``monitor_kwargs`` and records it to ``path`` for ``duration_s`` seconds of its clock
    (until cancelled when ``None``). Returns the number of records written."""
    recorder = Recorder(path)
    try:
        async with Monitor(tap=recorder, **monitor_kwargs) as m:
            if duration_s is None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.Event().wait()
            else:
                await m.clock.sleep(duration_s)
            await m.settle()
    finally:
        recorder.close()
    return recorder.records
