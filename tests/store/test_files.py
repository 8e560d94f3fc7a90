"""Opening a store: bad files refused with the file and the reason, and never written; migrations by version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tapeflow.errors import StoreError
from tapeflow.store import Store, journal
from tapeflow.store.schema import APPLICATION_ID, SCHEMA_VERSION, migrate
from tests.store.support import T0, digest, liquidation_row, open_store, query


def _stored(path: Path, n: int = 50) -> None:
    store = open_store(path)
    store.submit(journal.liquidations([liquidation_row(f"S{i % 7:04d}USDT", T0 + i * 1000) for i in range(n)]))
    store.checkpoint(b"state" * 1000, {"S0000USDT": 41}, T0, 1)
    store.close(T0 + 60_000)


def _refused(path: Path, reason: str, market: str = "usdm") -> StoreError:
    before = digest(path)
    with pytest.raises(StoreError) as info:
        Store(path, market=market, now_ms=lambda: T0)
    assert info.value.reason == reason
    assert info.value.path == str(path) and str(path) in str(info.value)
    assert digest(path) == before  # nothing in it was overwritten (nor a log started beside it)
    return info.value


def test_a_new_file_becomes_a_store_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "usdm.db"
    _stored(path)
    assert query(path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert query(path, "SELECT count(*) FROM liquidations") == [(50,)]
    store = Store(path, market="usdm", now_ms=lambda: T0)
    try:
        assert store.previous.created_ms == T0 and store.previous.clean_stop_ms == T0 + 60_000
        assert [c.data for c in store.checkpoints()] == [b"state" * 1000]
        assert store.checkpoints()[0].liquidation_id == 50
    finally:
        store.close()


def test_a_text_file_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my trading notes\n" * 100)
    e = _refused(path, "not_a_store")
    assert "not an SQLite database" in str(e)


def test_another_programs_database_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance TEXT)")
    conn.execute("INSERT INTO accounts VALUES (1, '100')")
    conn.commit()
    conn.close()
    _refused(path, "not_a_store")
    assert query(path, "SELECT * FROM accounts") == [(1, "100")]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    _stored(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    e = _refused(path, "newer_schema")
    assert f"schema version {SCHEMA_VERSION + 1}" in str(e)


@pytest.mark.parametrize("where", ["middle", "truncated"])
def test_a_damaged_file_is_refused(tmp_path: Path, where: str) -> None:
    path = tmp_path / "usdm.db"
    _stored(path, n=2000)
    data = bytearray(path.read_bytes())
    page = query(path, "PRAGMA page_size")[0][0]
    assert len(data) > 8 * page
    if where == "middle":
        data[3 * page : 6 * page] = b"\xa5" * (3 * page)  # pages of tables and indexes overwritten
    else:
        data = data[: 4 * page + 100]
    path.write_bytes(bytes(data))
    e = _refused(path, "corrupt")
    assert "damaged" in str(e) or "cannot read" in str(e)


def test_another_markets_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    _stored(path)
    e = _refused(path, "other_market", market="spot")
    assert "holds usdm data, not spot" in str(e)


def test_a_store_in_use_by_another_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    first = open_store(path)
    try:
        with pytest.raises(StoreError) as info:
            Store(path, market="usdm", now_ms=lambda: T0)
        assert info.value.reason == "in_use"
    finally:
        first.close()
    Store(path, market="usdm", now_ms=lambda: T0).close()  # free again


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    path.touch()
    open_store(path).close(T0)
    assert query(path, "PRAGMA application_id") == [(APPLICATION_ID,)]


def test_migrations_run_in_order_and_a_failed_step_leaves_the_version(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    v1 = (1, ["CREATE TABLE t (a INTEGER)", "INSERT INTO t VALUES (7)"])
    v2 = (2, ["ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'", "UPDATE t SET b = 'y'"])
    broken = (3, ["CREATE TABLE u (c INTEGER)", "INSERT INTO no_such_table VALUES (1)"])
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, [v1]) == 0
    assert migrate(conn, [v1, v2]) == 1
    assert conn.execute("SELECT a, b FROM t").fetchall() == [(7, "y")]
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, [v1, v2, broken])
    assert conn.execute("PRAGMA user_version").fetchone() == (2,)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'u'").fetchone() == (0,)  # rolled back
    assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    conn.close()
