"""Checkpoints of the engine: its flow and liquidation state (the engine's own versioned, checksummed bytes) and the
last aggTrade id counted per symbol.

A checkpoint row also notes the highest liquidation row stored when it was written: the writer commits in the order
things were queued, and the Monitor queues a checkpoint after every liquidation the engine had counted by then, so
the rows after it are exactly the liquidations to replay on top of it. The two newest checkpoints are kept (the
older one serves if the newer cannot be read).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tapeflow.store.writer import Op

__all__ = ["KEEP", "Checkpoint", "latest", "save"]

#: A sealed checkpoint: its bytes, or the array ``CheckpointDraft.seal_buffer`` gives.
Sealed = bytes | npt.NDArray[np.uint8]

#: Checkpoints kept.
KEEP = 2


@dataclass(frozen=True)
class Checkpoint:
    """A stored checkpoint.

    Attributes:
        id: its row.
        at_ms: when it was taken (the Monitor's clock).
        liquidation_id: the highest liquidation row stored before it (rows after it are newer than the state).
        symbols: symbols in it.
        data: the engine's bytes (``Engine.restore``).
    """

    id: int
    at_ms: int
    liquidation_id: int
    symbols: int
    data: bytes


def save(data: Sealed | Callable[[], Sealed], last_ids: Mapping[str, int], at_ms: int, symbols: int) -> Op:
    """The write of a checkpoint (a newer one queued before this is written replaces it). ``data`` may be a function
    that makes the bytes (e.g. ``CheckpointDraft.seal_buffer``): it is called once, when the write first runs."""
    id_rows = [(name, last_id, at_ms) for name, last_id in last_ids.items()]
    sealed: list[memoryview] = []

    def run(conn: sqlite3.Connection) -> None:
        if not sealed:
            made = data() if callable(data) else data
            sealed.append(memoryview(made) if isinstance(made, bytes) else made.data)
        (liq_id,) = conn.execute("SELECT coalesce(max(id), 0) FROM liquidations").fetchone()
        row = conn.execute(
            "INSERT INTO checkpoints (at_ms, liquidation_id, symbols, data) VALUES (?, ?, ?, zeroblob(?))",
            (at_ms, liq_id, symbols, sealed[0].nbytes),
        ).lastrowid
        assert row is not None
        _write_blob(conn, row, sealed[0])
        conn.execute(
            "DELETE FROM checkpoints WHERE id NOT IN (SELECT id FROM checkpoints ORDER BY id DESC LIMIT ?)", (KEEP,)
        )
        conn.executemany("INSERT OR IGNORE INTO symbols (name) VALUES (?)", [(r[0],) for r in id_rows])
        conn.executemany(
            "INSERT OR REPLACE INTO trade_ids (symbol_id, last_id, at_ms) "
            "VALUES ((SELECT id FROM symbols WHERE name = ?), ?, ?)",
            id_rows,
        )

    return Op("checkpoint", 1, run, latest_only=True)


#: Bytes of a checkpoint written at a time.
_CHUNK = 1 << 20


def _write_blob(conn: sqlite3.Connection, row: int, view: memoryview) -> None:
    """Writes ``view`` into the checkpoint row's zero blob a chunk at a time. Binding the bytes as a parameter would
    copy them all while holding the GIL (tens of ms for a full market's checkpoint, during which the event loop
    stands still); a blob write lets other threads run while SQLite copies each chunk."""
    with conn.blobopen("checkpoints", "data", row) as blob:
        for at in range(0, len(view), _CHUNK):
            blob.write(view[at : at + _CHUNK])


def latest(conn: sqlite3.Connection) -> list[Checkpoint]:
    """The stored checkpoints, newest first."""
    rows = conn.execute(
        "SELECT id, at_ms, liquidation_id, symbols, data FROM checkpoints ORDER BY id DESC LIMIT ?", (KEEP,)
    ).fetchall()
    return [Checkpoint(int(r[0]), int(r[1]), int(r[2]), int(r[3]), bytes(r[4])) for r in rows]
