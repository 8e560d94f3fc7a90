"""The writes of a store, one builder per kind of row (each returns an :class:`~tapeflow.store.writer.Op` to queue).

Rows name their symbol; its id in ``symbols`` is found (or made) in the same transaction. Every insert is
idempotent: a liquidation is keyed by its content, a big trade by its id, an interval by its symbol, length and
start, so writing a row twice (two connections, a replay after a restart) keeps one. A stored interval that is
complete is never replaced by an incomplete answer for the same span.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tapeflow.store.writer import Op

__all__ = [
    "BIG_TRADE_FIELDS",
    "INTERVAL_FIELDS",
    "LIQUIDATION_FIELDS",
    "begin_run",
    "big_trades",
    "clean_stop",
    "gap_closed",
    "gap_opened",
    "intervals",
    "liquidations",
    "outage_ended",
    "outage_started",
    "prune",
]

#: The columns of a liquidation row, in order (``symbol`` first; see the ``liquidations`` table).
LIQUIDATION_FIELDS = (
    "symbol",
    "side",
    "order_side",
    "order_type",
    "time_in_force",
    "status",
    "price",
    "avg_price",
    "qty",
    "last_qty",
    "filled_qty",
    "notional",
    "trade_time",
    "event_time",
    "recv_ms",
    "raw",
)
#: The columns of a big-trade row, in order.
BIG_TRADE_FIELDS = ("symbol", "trade_id", "time_ms", "side", "price", "qty", "notional")
#: The columns of :meth:`tapeflow.Engine.closed_intervals` stored for each interval (``interval_ms`` is given).
INTERVAL_FIELDS = (
    "symbol",
    "start_ms",
    "buy_base",
    "sell_base",
    "buy_quote",
    "sell_quote",
    "buy_count",
    "sell_count",
    "big_buy_count",
    "big_sell_count",
    "first_id",
    "last_id",
    "complete",
    "abandoned",
)

_SYMBOL = "(SELECT id FROM symbols WHERE name = ?)"


def _symbols(conn: sqlite3.Connection, names: Iterable[str]) -> None:
    conn.executemany("INSERT OR IGNORE INTO symbols (name) VALUES (?)", [(n,) for n in set(names)])


def liquidations(rows: Sequence[tuple[Any, ...]]) -> Op:
    """Liquidations (tuples in the order of :data:`LIQUIDATION_FIELDS`)."""
    cols = ", ".join(LIQUIDATION_FIELDS[1:])
    sql = f"INSERT OR IGNORE INTO liquidations (symbol_id, {cols}) VALUES ({_SYMBOL}{', ?' * 15})"

    def run(conn: sqlite3.Connection) -> None:
        _symbols(conn, (r[0] for r in rows))
        conn.executemany(sql, rows)

    return Op("liquidations", len(rows), run)


def big_trades(rows: Sequence[tuple[Any, ...]]) -> Op:
    """Big trades (tuples in the order of :data:`BIG_TRADE_FIELDS`)."""
    cols = ", ".join(BIG_TRADE_FIELDS[1:])
    sql = f"INSERT OR IGNORE INTO big_trades (symbol_id, {cols}) VALUES ({_SYMBOL}{', ?' * 6})"

    def run(conn: sqlite3.Connection) -> None:
        _symbols(conn, (r[0] for r in rows))
        conn.executemany(sql, rows)

    return Op("big_trades", len(rows), run)


def intervals(interval_ms: int, cols: Mapping[str, Sequence[Any]]) -> Op:
    """Closed aligned intervals of length ``interval_ms``, as the engine's columns (:data:`INTERVAL_FIELDS`)."""
    columns = [cols[f] for f in INTERVAL_FIELDS]
    rows = [(r[0], interval_ms, *r[1:12], int(bool(r[12])), int(bool(r[13]))) for r in zip(*columns, strict=True)]
    names = ", ".join(INTERVAL_FIELDS[1:])
    updates = ", ".join(f"{f} = excluded.{f}" for f in INTERVAL_FIELDS[2:])
    sql = (
        f"INSERT INTO intervals (symbol_id, interval_ms, {names}) VALUES ({_SYMBOL}, ?{', ?' * 13}) "
        f"ON CONFLICT (symbol_id, interval_ms, start_ms) DO UPDATE SET {updates} "
        "WHERE excluded.complete OR NOT intervals.complete"
    )

    def run(conn: sqlite3.Connection) -> None:
        _symbols(conn, (r[0] for r in rows))
        conn.executemany(sql, rows)

    return Op("intervals", len(rows), run)


def gap_opened(gap_id: int, symbol: str, from_id: int, to_id: int, at_ms: int) -> Op:
    def run(conn: sqlite3.Connection) -> None:
        _symbols(conn, (symbol,))
        conn.execute(
            "INSERT OR IGNORE INTO trade_gaps (id, symbol_id, from_id, to_id, opened_ms, state) "
            f"VALUES (?, {_SYMBOL}, ?, ?, ?, 'open')",
            (gap_id, symbol, from_id, to_id, at_ms),
        )

    return Op("trade_gaps", 1, run)


def gap_closed(gap_id: int, state: str, at_ms: int) -> Op:
    def run(conn: sqlite3.Connection) -> None:
        conn.execute(
            "UPDATE trade_gaps SET state = ?, closed_ms = ? WHERE id = ? AND state = 'open'", (state, at_ms, gap_id)
        )

    return Op("trade_gaps", 1, run)


def outage_started(outage_id: int, kind: str, connection: int | None, start_ms: int, reason: str) -> Op:
    def run(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO outages (id, kind, connection, start_ms, reason) VALUES (?, ?, ?, ?, ?)",
            (outage_id, kind, connection, start_ms, reason),
        )

    return Op("outages", 1, run)


def outage_ended(outage_id: int, end_ms: int) -> Op:
    def run(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE outages SET end_ms = ? WHERE id = ? AND end_ms IS NULL", (end_ms, outage_id))

    return Op("outages", 1, run)


def begin_run(now_ms: int, last_alive_ms: int | None) -> Op:
    """A run begins: the file's first time is noted, and what the last run left open (an outage, a gap being
    filled) is closed at the last time it was alive."""

    def run(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_ms', ?)", (str(now_ms),))
        conn.execute("DELETE FROM meta WHERE key = 'clean_stop_ms'")
        if last_alive_ms is not None:
            conn.execute("UPDATE outages SET end_ms = max(start_ms, ?) WHERE end_ms IS NULL", (last_alive_ms,))
            conn.execute(
                "UPDATE trade_gaps SET state = 'interrupted', closed_ms = max(opened_ms, ?) WHERE state = 'open'",
                (last_alive_ms,),
            )

    return Op("meta", 1, run)


def clean_stop(now_ms: int) -> Op:
    def run(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('clean_stop_ms', ?)", (str(now_ms),))

    return Op("meta", 1, run)


def prune(before_ms: int) -> Op:
    """Drops what is older than ``before_ms``: liquidations (by trade time), big trades, intervals (by start),
    gaps and outages that ended before it."""

    def run(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM liquidations WHERE trade_time < ?", (before_ms,))
        conn.execute("DELETE FROM big_trades WHERE time_ms < ?", (before_ms,))
        conn.execute("DELETE FROM intervals WHERE start_ms < ?", (before_ms,))
        conn.execute("DELETE FROM trade_gaps WHERE closed_ms < ?", (before_ms,))
        conn.execute("DELETE FROM outages WHERE end_ms < ?", (before_ms,))

    return Op("prune", 0, run)
