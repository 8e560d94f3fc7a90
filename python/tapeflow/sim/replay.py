"""Replay mode: serve a recorded session (a recording file, e.g. one of :func:`tapeflow.recordings.bundled`) instead
of the model.

Each recorded ``ws`` frame is published on its stream at its recorded offset from the first frame (scaled by the
exchange's clock speed: virtual time is recording time); each recorded ``http`` depth snapshot is what
``GET .../depth?symbol=`` answers for its symbol (the first recorded one, as the recorder fetched it right after the
stream began, so a client that buffers diffs syncs exactly as it did live).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson

from tapeflow.recordings.format import market_of_url, read_recording, snapshot_symbol


class Replay:
    """A recording loaded in memory.

    Attributes:
        market: ``spot``, ``usdm`` or ``coinm``.
        symbols: symbols that have a snapshot, upper case.
        frames: ``(offset ms, stream, payload bytes)`` in recorded order.
    """

    def __init__(self, path: str | Path) -> None:
        self.frames: list[tuple[int, str, bytes]] = []
        self.snapshots: dict[str, bytes] = {}
        self.market = "spot"
        t0: float | None = None
        for rec in read_recording(path):
            if rec.kind == "ws_open":
                self.market = market_of_url(rec.url) or "spot"
            elif rec.kind == "ws":
                t0 = rec.t if t0 is None else t0
                frame = orjson.loads(rec.raw)
                stream = frame["stream"]
                prefix = b'{"stream":"' + stream.encode() + b'","data":'
                # Keep the recorded bytes of the payload when the wrapper has the usual spelling.
                raw = rec.raw
                data = raw[len(prefix) : -1] if raw.startswith(prefix) else orjson.dumps(frame["data"])
                self.frames.append((int((rec.t - t0) * 1000), stream, data))
            elif rec.kind == "http" and (sym := snapshot_symbol(rec.url)) is not None:
                self.snapshots.setdefault(sym, rec.raw)
        self.symbols = sorted(self.snapshots)
        self.start_ms: int | None = None
        self.pos = 0

    def due(self, now_ms: int, wants: Callable[[str], bool]) -> list[tuple[str, bytes]]:
        """The frames due by virtual time ``now_ms`` (offsets count from the first call), for wanted streams."""
        if self.start_ms is None:
            self.start_ms = now_ms
        out = []
        while self.pos < len(self.frames) and self.frames[self.pos][0] <= now_ms - self.start_ms:
            _, stream, data = self.frames[self.pos]
            self.pos += 1
            if wants(stream):
                out.append((stream, data))
        return out

    def snapshot(self, symbol: str) -> bytes | None:
        """The recorded depth snapshot of ``symbol``."""
        return self.snapshots.get(symbol)
