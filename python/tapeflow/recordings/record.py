"""Recording a live session: every frame a Monitor receives and every REST body it fetches, in arrival order.

The file is the recording format (:mod:`tapeflow.recordings.format`): ``ws_open`` when a connection opens, ``ws``
for each text frame exactly as received, ``http`` for each REST reply body (exchangeInfo, depth snapshots, aggTrades
pages). The engine sees the same frames and snapshots in the same order, so a replay of the file rebuilds the same
books.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from tapeflow.monitor import Monitor
from tapeflow.recordings.format import RecordingWriter

__all__ = ["record"]


async def record(path: str | Path, *, duration_s: float | None = None, **monitor_kwargs: Any) -> int:
    """Runs a Monitor with ``monitor_kwargs`` and records it to ``path`` for ``duration_s`` seconds of its clock
    (until cancelled when ``None``). Returns the number of records written."""
    writer = RecordingWriter(path)
    try:
        async with Monitor(tap=writer, **monitor_kwargs) as m:
            if duration_s is None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.Event().wait()
            else:
                await m.clock.sleep(duration_s)
            await m.settle()
    finally:
        writer.close()
    return writer.records
