"""The writer thread: batches, and a full disk that never blocks the caller, is reported, retried and accounted
for row by row."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from tapeflow.store import journal
from tapeflow.store.files import connect_writer
from tapeflow.store.writer import Op, StoreWriter
from tests.store.support import T0, liquidation_row, query


def _full_disk(path: Path, pages: list[int]) -> StoreWriter:
    """A writer whose file may grow to ``pages[0]`` pages (SQLite answers "database or disk is full" past it, as on a
    full disk); the limit is read at every (re)connection."""

    def connect() -> sqlite3.Connection:
        conn = connect_writer(path, "usdm")
        conn.execute(f"PRAGMA max_page_count = {pages[0]}")
        return conn

    return StoreWriter(connect, lambda: T0, heartbeat_s=0.05, retry_s=0.02, retry_max_s=0.05, batch_s=0.0)


def _rows(start: int, n: int) -> list[tuple[object, ...]]:
    return [liquidation_row(f"S{i % 13:04d}USDT", T0 + i * 1000) for i in range(start, start + n)]


def _wait(cond: object, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_writes_are_batched_and_flushed(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    w = StoreWriter(lambda: connect_writer(path, "usdm"), lambda: T0, batch_s=0.01)
    try:
        for i in range(300):
            w.submit(journal.liquidations(_rows(i * 3, 3)))
        assert w.flush(10)
        assert w.written["liquidations"] == 900 and not w.lost
        assert w.commits < 300  # what arrived during a commit went in the next one
        assert query(path, "SELECT count(*) FROM liquidations") == [(900,)]
        assert query(path, "SELECT value FROM meta WHERE key = 'last_alive_ms'") == [(str(T0),)]
    finally:
        w.close()
    assert w.state == "closed"


def test_a_full_disk_fails_loudly_never_blocks_and_loses_nothing_once_space_returns(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    pages = [40]
    w = _full_disk(path, pages)
    try:
        submitted = 0
        t0 = time.perf_counter()
        slowest = 0.0
        for i in range(400):
            t = time.perf_counter()
            w.submit(journal.liquidations(_rows(i * 20, 20)))
            slowest = max(slowest, time.perf_counter() - t)
            submitted += 20
        assert slowest < 0.5 and time.perf_counter() - t0 < 3  # the caller never waits on the disk (GIL turns aside)
        _wait(lambda: w.state == "failing")
        assert "full" in (w.error or "")
        _wait(lambda: w.failures >= 3)  # retried, still full
        assert w.pending_rows > 0 and not w.lost
        stored_while_full = query(path, "SELECT count(*) FROM liquidations")[0][0]
        assert stored_while_full < submitted
        pages[0] = 1_000_000  # space again
        assert w.flush(20)
        assert w.state == "ok" and w.error is None
        assert sum(w.written.get(k, 0) for k in ("liquidations",)) == submitted and not w.lost
        assert query(path, "SELECT count(*) FROM liquidations") == [(submitted,)]
    finally:
        w.close()


def test_a_backlog_past_its_limit_gives_up_the_oldest_and_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    pages = [8]  # not even the tables fit: every write fails
    w = _full_disk(path, pages)
    w.max_pending_rows = 100
    try:
        for i in range(30):
            w.submit(journal.liquidations(_rows(i * 10, 10)))
        _wait(lambda: sum(w.lost.values()) >= 200)
        pages[0] = 1_000_000
        assert w.flush(20)
        assert w.lost == {"liquidations": 200} and w.written["liquidations"] == 100
        got = [r[0] for r in query(path, "SELECT trade_time FROM liquidations ORDER BY trade_time")]
        assert got == [T0 + i * 1000 for i in range(200, 300)]  # the newest were kept
    finally:
        w.close()


def test_closing_while_writes_fail_counts_what_was_not_written(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    w = _full_disk(path, [8])
    w.submit(journal.liquidations(_rows(0, 25)))
    _wait(lambda: w.state == "failing")
    w.close(timeout=10)
    assert w.state == "closed" and w.lost == {"liquidations": 25} and w.pending_rows == 0


def test_a_newer_checkpoint_replaces_one_still_waiting(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    gate = threading.Event()

    def connect() -> sqlite3.Connection:
        gate.wait(10)
        return connect_writer(path, "usdm")

    w = StoreWriter(connect, lambda: T0)
    try:
        seen = []
        for i in range(5):
            w.submit(Op("checkpoint", 1, lambda conn, i=i: seen.append(i), latest_only=True))
        time.sleep(0.1)
        gate.set()
        assert w.flush(10)
        assert seen == [4] and w.written == {"checkpoint": 1} and not w.lost
    finally:
        w.close()
