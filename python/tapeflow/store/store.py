"""``Store``: one market's SQLite file — checked and locked when opened, read at start, written by its thread.

Writes (:meth:`Store.submit` with an op from :mod:`~tapeflow.store.journal` or
:mod:`~tapeflow.store.checkpoints`) never block: they go to the writer thread (:mod:`~tapeflow.store.writer`).
Reads at start (the previous run, checkpoints, liquidations to replay) are synchronous and happen before the feed
starts. History queries use their own read connection (:mod:`~tapeflow.store.history`).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tapeflow.store import checkpoints, journal
from tapeflow.store.checkpoints import Checkpoint, Sealed
from tapeflow.store.files import FileLock, check_file, connect_reader, connect_writer
from tapeflow.store.schema import SCHEMA_VERSION
from tapeflow.store.status import StoreStatus
from tapeflow.store.writer import Op, StoreWriter

__all__ = ["Outage", "PreviousRun", "Store"]

log = logging.getLogger("tapeflow.store")


@dataclass(frozen=True)
class PreviousRun:
    """What the file says about the run before this one.

    Attributes:
        created_ms: when the store was first used (the start of its history).
        last_alive_ms: the writer's last heartbeat (a crash is dated from it).
        clean_stop_ms: when it stopped cleanly (``None``: it did not, or is still running).
    """

    created_ms: int | None
    last_alive_ms: int | None
    clean_stop_ms: int | None

    @property
    def stopped_ms(self) -> int | None:
        """When the previous run stopped receiving, as far as the file knows."""
        return self.clean_stop_ms if self.clean_stop_ms is not None else self.last_alive_ms


@dataclass(frozen=True)
class Outage:
    """A stored outage: ``kind`` (``"process"``, ``"liquidations"``, ``"connection"``), ``start_ms``, ``end_ms``
    (``None``: still going), ``connection`` and ``reason``."""

    kind: str
    start_ms: int
    end_ms: int | None
    connection: int | None
    reason: str


class Store:
    """A store file, opened for one Monitor.

    Args:
        path: the file (created, with its directory, if missing).
        market: the market whose data it holds (a file of another market is refused).
        now_ms: the Monitor's clock (heartbeats start with :meth:`begin`).
        writer_options: passed to :class:`~tapeflow.store.writer.StoreWriter` (``heartbeat_s``, ``retry_s``...).

    Raises:
        StoreError: the file is refused (not a store, newer schema, corrupt, another market, in use).
    """

    def __init__(self, path: str | Path, *, market: str, now_ms: Callable[[], int], **writer_options: float) -> None:
        self.path = Path(path).expanduser()
        self.market = market
        self._now_ms = now_ms
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.path)
        locked = self._lock.acquire()
        try:
            version = check_file(self.path, market, locked=locked)
        except BaseException:
            self._lock.release()
            raise
        conn: sqlite3.Connection | None = None
        try:
            conn = connect_writer(self.path, market, checked=True)
            version = SCHEMA_VERSION
        except sqlite3.Error as e:
            log.warning("store %s cannot be written now (%s): it is read, and writes are retried", self.path, e)
        self.readable = version == SCHEMA_VERSION
        self._begun = False
        self.previous = PreviousRun(None, None, None)
        self._next_gap = self._next_outage = 1
        if self.readable:
            self._read_start()
        self.restore = "new"
        self.restore_detail = ""
        self.last_checkpoint_ms: int | None = None
        self.writer = StoreWriter(
            self._connect,
            lambda: now_ms() if self._begun else None,
            conn=conn,
            **writer_options,  # type: ignore[arg-type]
        )

    def _connect(self) -> sqlite3.Connection:
        """The writer's connection, opened again after a failure (the file may have been created only now)."""
        if not self._lock.held:
            self._lock.acquire()
        return connect_writer(self.path, self.market)

    # ------------------------------------------------------------------ reads at start
    def _reader(self) -> sqlite3.Connection:
        return connect_reader(self.path)

    def _read_start(self) -> None:
        conn = self._reader()
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            self.previous = PreviousRun(
                *(int(meta[k]) if k in meta else None for k in ("created_ms", "last_alive_ms", "clean_stop_ms"))
            )
            self._next_gap = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM trade_gaps").fetchone()[0]
            self._next_outage = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM outages").fetchone()[0]
        finally:
            conn.close()

    def checkpoints(self) -> list[Checkpoint]:
        """The stored checkpoints, newest first (none if the file cannot be read at the current schema)."""
        if not self.readable:
            return []
        conn = self._reader()
        try:
            return checkpoints.latest(conn)
        finally:
            conn.close()

    def liquidation_events(
        self,
        *,
        after_id: int = 0,
        since_ms: int | None = None,
        until_ms: int | None = None,
        last: int | None = None,
    ) -> list[bytes]:
        """Stored forceOrder events (as received), oldest first: rows after ``after_id`` with a trade time in
        ``[since_ms, until_ms]``; only the ``last`` newest of them if given."""
        if not self.readable:
            return []
        since = since_ms if since_ms is not None else -(2**62)
        until = until_ms if until_ms is not None else 2**62
        conn = self._reader()
        try:
            rows = conn.execute(
                "SELECT raw FROM (SELECT id, raw FROM liquidations WHERE id > ? AND trade_time BETWEEN ? AND ? "
                "ORDER BY id DESC LIMIT ?) ORDER BY id",
                (after_id, since, until, last or -1),
            ).fetchall()
        finally:
            conn.close()
        return [str(r[0]).encode() for r in rows]

    def outages(self, kinds: tuple[str, ...] = ("process", "liquidations"), since_ms: int = 0) -> list[Outage]:
        """Stored outages of ``kinds`` that end after ``since_ms`` (or have not ended), oldest first."""
        if not self.readable:
            return []
        marks = ", ".join("?" * len(kinds))
        conn = self._reader()
        try:
            rows = conn.execute(
                f"SELECT kind, start_ms, end_ms, connection, reason FROM outages WHERE kind IN ({marks}) "
                "AND (end_ms IS NULL OR end_ms > ?) ORDER BY start_ms",
                (*kinds, since_ms),
            ).fetchall()
        finally:
            conn.close()
        return [Outage(*r) for r in rows]

    # ------------------------------------------------------------------ writes
    def begin(self, now_ms: int) -> None:
        """The run begins (the Monitor's clock is the exchange's now): heartbeats start, and what the last run left
        open is closed at its last heartbeat."""
        self._begun = True
        self.submit(journal.begin_run(now_ms, self.previous.stopped_ms))

    def submit(self, op: Op) -> None:
        """Queues a write for the writer thread (never blocks)."""
        self.writer.submit(op)

    def new_gap_id(self) -> int:
        self._next_gap += 1
        return self._next_gap - 1

    def new_outage_id(self) -> int:
        self._next_outage += 1
        return self._next_outage - 1

    def checkpoint(
        self, data: Sealed | Callable[[], Sealed], last_ids: dict[str, int], at_ms: int, symbols: int
    ) -> None:
        """Queues a checkpoint: its bytes (or ``CheckpointDraft.seal_buffer``'s array), or a function that makes them
        (called once, on the writer thread)."""
        self.last_checkpoint_ms = at_ms
        self.submit(checkpoints.save(data, last_ids, at_ms, symbols))

    def status(self) -> StoreStatus:
        w = self.writer
        return StoreStatus(
            path=str(self.path),
            state=w.state,
            error=w.error,
            pending_rows=w.pending_rows,
            written=dict(w.written),
            lost=dict(w.lost),
            commits=w.commits,
            failures=w.failures,
            last_commit_ms=w.last_commit_ms,
            last_checkpoint_ms=self.last_checkpoint_ms,
            writer_cpu_s=round(w.cpu_s, 3),
            restore=self.restore,
            restore_detail=self.restore_detail,
        )

    def close(self, stop_ms: int | None = None, timeout: float = 10.0) -> None:
        """Notes a clean stop at ``stop_ms`` (if given), writes what is queued, and releases the file (blocking)."""
        if stop_ms is not None and self._begun:
            self.submit(journal.clean_stop(stop_ms))
        self.writer.close(timeout)
        self._lock.release()
