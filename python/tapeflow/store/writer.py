"""The store's writer thread: every write is queued here and committed in batches, off the event loop.

The Monitor only queues (a ``SimpleQueue.put``); the thread takes everything queued, runs it in one transaction with
the heartbeat (``meta.last_alive_ms``, the time a crash is dated from), and commits. So the feed never waits on the
disk, and a commit holds everything that arrived while the previous one ran.

A write that fails (a full disk, a read-only file or directory, a file that cannot be opened yet) never reaches the
feed: the batch stays queued, the store says it is failing (:attr:`StoreWriter.state`, ``error``), and the thread
tries again with a growing pause (0.5 s to 5 s). If the backlog passes ``max_pending_rows`` the oldest writes are
given up, and counted in ``lost`` by kind; nothing is dropped silently. A newer checkpoint replaces an older one
still queued.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tapeflow.errors import StoreError

__all__ = ["Op", "StoreWriter"]

log = logging.getLogger("tapeflow.store")

_STOP = object()


@dataclass(frozen=True)
class Op:
    """One queued write: ``run(conn)`` inside the batch's transaction.

    Attributes:
        kind: what it writes (``"liquidations"``, ``"intervals"``, ``"checkpoint"``...), for the counters.
        rows: rows it writes (counted in ``written`` or ``lost``).
        run: the statements.
        latest_only: a newer op of the same kind replaces this one while it waits (checkpoints).
    """

    kind: str
    rows: int
    run: Callable[[sqlite3.Connection], None]
    latest_only: bool = False


class StoreWriter:
    """Commits queued writes on a thread of its own.

    Args:
        connect: opens the writing connection (called on the thread; opened again after a failure).
        heartbeat: the time to write as ``meta.last_alive_ms`` with each commit (the Monitor's clock), or ``None``
            while there is none yet.
        heartbeat_s: the longest time between two commits (an idle store still dates its heartbeat).
        batch_s: the shortest time between two commits (what arrives meanwhile goes in the next one).
        max_pending_rows: backlog (rows) kept while writes fail; past it the oldest writes are given up.
        retry_s: first pause after a failure (doubling up to ``retry_max_s``).
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        heartbeat: Callable[[], int | None],
        *,
        conn: sqlite3.Connection | None = None,
        heartbeat_s: float = 1.0,
        batch_s: float = 0.02,
        max_pending_rows: int = 1_000_000,
        retry_s: float = 0.5,
        retry_max_s: float = 5.0,
    ) -> None:
        self._connect = connect
        self._heartbeat = heartbeat
        self._conn = conn
        self.heartbeat_s = heartbeat_s
        self.batch_s = batch_s
        self.max_pending_rows = max_pending_rows
        self.retry_s = retry_s
        self.retry_max_s = retry_max_s
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending: deque[Op] = deque()
        self._pending_rows = 0
        self._done = threading.Condition()
        self._submitted = 0
        self._settled = 0  # ops committed or given up
        #: ``"starting"``, ``"ok"``, ``"failing"`` or ``"closed"``.
        self.state = "starting"
        #: The last error while failing (``None`` once a commit succeeds).
        self.error: str | None = None
        self.written: dict[str, int] = {}
        self.lost: dict[str, int] = {}
        self.commits = 0
        self.failures = 0
        self.last_commit_ms: int | None = None
        #: CPU seconds the thread spent writing.
        self.cpu_s = 0.0
        self._thread = threading.Thread(target=self._run, name="tapeflow-store", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ loop side
    def submit(self, op: Op) -> None:
        """Queues a write (never blocks)."""
        self._submitted += 1
        self._queue.put(op)

    @property
    def pending_rows(self) -> int:
        """Rows queued and not committed yet (an estimate while the thread runs)."""
        return self._pending_rows

    def flush(self, timeout: float | None = None) -> bool:
        """Waits (blocking) until every write submitted so far is committed or given up; ``False`` on timeout."""
        target = self._submitted
        with self._done:
            return self._done.wait_for(lambda: self._settled >= target or self.state == "closed", timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Commits what is queued (one last try if failing), then stops the thread (blocking). Writes still not
        committed are counted as lost."""
        if not self._thread.is_alive():
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("the store's writer did not stop within %.0f s; %d rows not written", timeout, self._pending_rows)

    # ------------------------------------------------------------------ thread side
    def _take(self, wait_s: float) -> bool:
        """Moves queued ops to the backlog, waiting up to ``wait_s`` for the first; ``True`` once stop was asked."""
        stop = False
        try:
            item = self._queue.get(timeout=max(wait_s, 0.0))
            while True:
                if item is _STOP:
                    stop = True
                else:
                    assert isinstance(item, Op)
                    self._add(item)
                item = self._queue.get_nowait()
        except queue.Empty:
            pass
        return stop

    def _add(self, op: Op) -> None:
        if op.latest_only:
            for old in [o for o in self._pending if o.kind == op.kind]:
                self._pending.remove(old)
                self._pending_rows -= old.rows
                self._settle(1)
        self._pending.append(op)
        self._pending_rows += op.rows
        while self._pending_rows > self.max_pending_rows and len(self._pending) > 1:
            old = self._pending.popleft()
            self._pending_rows -= old.rows
            self.lost[old.kind] = self.lost.get(old.kind, 0) + old.rows
            self._settle(1)

    def _settle(self, n: int) -> None:
        with self._done:
            self._settled += n
            self._done.notify_all()

    def _run(self) -> None:
        conn, self._conn = self._conn, None
        pause = self.retry_s
        retry_at = 0.0
        stop = False
        while True:
            wait = self.heartbeat_s if self.state != "failing" else max(0.0, retry_at - time.monotonic())
            stop = self._take(wait) or stop
            if self.state == "failing" and time.monotonic() < retry_at and not stop:
                continue
            t0 = time.thread_time()
            try:
                if conn is None:
                    conn = self._connect()
                self._commit(conn)
            except (sqlite3.Error, StoreError, OSError) as e:
                self.failures += 1
                if self.state != "failing" or str(e) != self.error:
                    log.warning("the store cannot write (%s): %d rows wait; retrying", e, self._pending_rows)
                self.state, self.error = "failing", str(e)
                if conn is not None:  # opened again on the next try: the file or its directory may have changed
                    conn.close()
                    conn = None
                retry_at = time.monotonic() + pause
                pause = min(pause * 2, self.retry_max_s)
            else:
                pause = self.retry_s
            finally:
                self.cpu_s += time.thread_time() - t0
            if stop:
                break
            if self.state == "ok":
                time.sleep(self.batch_s)
        for op in self._pending:
            self.lost[op.kind] = self.lost.get(op.kind, 0) + op.rows
        if self._pending:
            log.error("the store closed with %d rows not written", self._pending_rows)
        self._settle(len(self._pending))
        self._pending.clear()
        self._pending_rows = 0
        if conn is not None:
            conn.close()
        self.state = "closed"
        with self._done:
            self._done.notify_all()

    def _commit(self, conn: sqlite3.Connection) -> None:
        ops = list(self._pending)
        conn.execute("BEGIN IMMEDIATE")
        try:
            for op in ops:
                op.run(conn)
            now = self._heartbeat()
            if now is not None:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_alive_ms', ?)", (str(now),))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        for op in ops:
            self.written[op.kind] = self.written.get(op.kind, 0) + op.rows
        for _ in ops:
            self._pending.popleft()
        self._pending_rows -= sum(op.rows for op in ops)
        self.commits += 1
        if now is not None:
            self.last_commit_ms = now
        if self.state == "failing":
            log.warning("the store writes again")
        self.state, self.error = "ok", None
        self._settle(len(ops))
