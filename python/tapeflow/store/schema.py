"""The store's tables, the version they are at, and the migrations that bring an older file up to it.

A tapeflow store is an SQLite file whose header says so: ``PRAGMA application_id`` is :data:`APPLICATION_ID` and
``PRAGMA user_version`` the schema version it was written at. Money is exact: prices, quantities and notionals are
decimal text exactly as Binance sent them or as the engine counted them (never floats); times are integer ms since
the epoch; aggTrade ids are integers.

Each entry of :data:`MIGRATIONS` takes a file from the version before it to its own; a new file runs them all. A
migration runs in one transaction with the version bump, so a file is either at the old version or the new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "Migration", "migrate"]

#: ``PRAGMA application_id`` of a tapeflow store ("tapf").
APPLICATION_ID = 0x74617066

#: A migration: the version it brings a file to, and its statements.
Migration = tuple[int, Sequence[str]]

_V1 = (
    # key/value facts about the file: market, created_ms, last_alive_ms (the writer's heartbeat), clean_stop_ms.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE symbols (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    # Every liquidation the engine counted, with every field of its forceOrder event as received (``raw``: the
    # event object, replayed into the engine on a warm restart). One row per liquidation, whichever connection
    # delivered it (the unique key is its content).
    """CREATE TABLE liquidations (
        id INTEGER PRIMARY KEY,
        symbol_id INTEGER NOT NULL REFERENCES symbols (id),
        side TEXT NOT NULL CHECK (side IN ('long', 'short')),
        order_side TEXT NOT NULL,
        order_type TEXT NOT NULL,
        time_in_force TEXT NOT NULL,
        status TEXT NOT NULL,
        price TEXT NOT NULL,
        avg_price TEXT NOT NULL,
        qty TEXT NOT NULL,
        last_qty TEXT NOT NULL,
        filled_qty TEXT NOT NULL,
        notional TEXT NOT NULL,
        trade_time INTEGER NOT NULL,
        event_time INTEGER NOT NULL,
        recv_ms INTEGER NOT NULL,
        raw TEXT NOT NULL,
        UNIQUE (symbol_id, trade_time, order_side, filled_qty, avg_price, price)
    )""",
    "CREATE INDEX liquidations_by_time ON liquidations (trade_time)",
    # Completed UTC-aligned flow intervals (1m and the Monitor's intervals), exact.
    """CREATE TABLE intervals (
        symbol_id INTEGER NOT NULL REFERENCES symbols (id),
        interval_ms INTEGER NOT NULL,
        start_ms INTEGER NOT NULL,
        buy_base TEXT NOT NULL,
        sell_base TEXT NOT NULL,
        buy_quote TEXT NOT NULL,
        sell_quote TEXT NOT NULL,
        buy_count INTEGER NOT NULL,
        sell_count INTEGER NOT NULL,
        big_buy_count INTEGER NOT NULL,
        big_sell_count INTEGER NOT NULL,
        first_id INTEGER,
        last_id INTEGER,
        complete INTEGER NOT NULL,
        abandoned INTEGER NOT NULL,
        PRIMARY KEY (symbol_id, interval_ms, start_ms)
    ) WITHOUT ROWID""",
    """CREATE TABLE big_trades (
        symbol_id INTEGER NOT NULL REFERENCES symbols (id),
        trade_id INTEGER NOT NULL,
        time_ms INTEGER NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
        price TEXT NOT NULL,
        qty TEXT NOT NULL,
        notional TEXT NOT NULL,
        PRIMARY KEY (symbol_id, trade_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX big_trades_by_time ON big_trades (time_ms)",
    # aggTrade id ranges found missing, and how each ended.
    """CREATE TABLE trade_gaps (
        id INTEGER PRIMARY KEY,
        symbol_id INTEGER NOT NULL REFERENCES symbols (id),
        from_id INTEGER NOT NULL,
        to_id INTEGER NOT NULL,
        opened_ms INTEGER NOT NULL,
        closed_ms INTEGER,
        state TEXT NOT NULL CHECK (state IN ('open', 'filled', 'abandoned', 'interrupted'))
    )""",
    "CREATE INDEX trade_gaps_by_time ON trade_gaps (opened_ms)",
    # Spans when something was not received: the process down, no liquidation connection live, one connection down.
    """CREATE TABLE outages (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('process', 'liquidations', 'connection')),
        connection INTEGER,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER,
        reason TEXT NOT NULL
    )""",
    "CREATE INDEX outages_by_time ON outages (start_ms)",
    # The engine's flow and liquidation state (its own versioned, checksummed format), and the highest liquidation
    # row it holds: rows after it are replayed on a warm restart.
    """CREATE TABLE checkpoints (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        liquidation_id INTEGER NOT NULL,
        symbols INTEGER NOT NULL,
        data BLOB NOT NULL
    )""",
    # The last aggTrade id counted per symbol, as of the latest checkpoint.
    """CREATE TABLE trade_ids (
        symbol_id INTEGER PRIMARY KEY REFERENCES symbols (id),
        last_id INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
    )""",
)

#: Every migration, oldest first.
MIGRATIONS: tuple[Migration, ...] = ((1, _V1),)

#: The schema version this tapeflow writes.
SCHEMA_VERSION = MIGRATIONS[-1][0]


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Brings the file of ``conn`` (autocommit mode) to the last version of ``migrations``, one transaction per
    step; returns the version it was at. A step that fails is rolled back whole (the file stays at the version
    before it) and its error raised."""
    before = conn.execute("PRAGMA user_version").fetchone()[0]
    version = before
    for target, statements in migrations:
        if target <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if version == 0:  # a new file: marked as a tapeflow store with its first tables
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for sql in statements:
                conn.execute(sql)
            conn.execute(f"PRAGMA user_version = {int(target)}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        version = target
    return int(before)
