"""Queries over a store's history: flow candles, liquidations and big trades (``m.history``, ``tapeflow export``).

Each query has two forms: NumPy columns (floats for arithmetic, with the exact decimal text beside them as
``<name>_exact``), and plain rows of exact values for exports. Times are ms since the epoch; a range is
``start <= time < end`` (a candle's time is its start, a liquidation's its trade time). Queries open their own
read-only connection, so they run beside the writer (the file is in WAL mode) and from any thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tapeflow._core import parse_duration
from tapeflow.store.files import check_file, connect_reader

__all__ = ["KINDS", "History", "Query"]

_FAR = 2**62


@dataclass(frozen=True)
class Query:
    """The SQL of one kind of history: its columns (name, type) where type is ``"int"``, ``"str"``, ``"dec"``
    (exact decimal text, also given as float) or ``"bool"``."""

    columns: tuple[tuple[str, str], ...]
    sql: str


#: The history kinds and how they are read. ``{where}`` is filled by :meth:`History.rows`.
KINDS: dict[str, Query] = {
    "candles": Query(
        (
            ("symbol", "str"),
            ("interval_ms", "int"),
            ("start_ms", "int"),
            ("buy_base", "dec"),
            ("sell_base", "dec"),
            ("buy_quote", "dec"),
            ("sell_quote", "dec"),
            ("buy_count", "int"),
            ("sell_count", "int"),
            ("big_buy_count", "int"),
            ("big_sell_count", "int"),
            ("first_id", "int"),
            ("last_id", "int"),
            ("complete", "bool"),
            ("abandoned", "bool"),
        ),
        "SELECT s.name, i.interval_ms, i.start_ms, i.buy_base, i.sell_base, i.buy_quote, i.sell_quote, i.buy_count, "
        "i.sell_count, i.big_buy_count, i.big_sell_count, i.first_id, i.last_id, i.complete, i.abandoned "
        "FROM intervals i JOIN symbols s ON s.id = i.symbol_id "
        "WHERE i.start_ms >= ? AND i.start_ms < ? {where} ORDER BY i.start_ms, s.name",
    ),
    "liquidations": Query(
        (
            ("symbol", "str"),
            ("trade_time_ms", "int"),
            ("event_time_ms", "int"),
            ("side", "str"),
            ("order_side", "str"),
            ("order_type", "str"),
            ("time_in_force", "str"),
            ("status", "str"),
            ("price", "dec"),
            ("avg_price", "dec"),
            ("qty", "dec"),
            ("last_qty", "dec"),
            ("filled_qty", "dec"),
            ("notional", "dec"),
        ),
        "SELECT s.name, l.trade_time, l.event_time, l.side, l.order_side, l.order_type, l.time_in_force, l.status, "
        "l.price, l.avg_price, l.qty, l.last_qty, l.filled_qty, l.notional "
        "FROM liquidations l JOIN symbols s ON s.id = l.symbol_id "
        "WHERE l.trade_time >= ? AND l.trade_time < ? {where} ORDER BY l.trade_time, l.id",
    ),
    "big_trades": Query(
        (
            ("symbol", "str"),
            ("trade_id", "int"),
            ("time_ms", "int"),
            ("side", "str"),
            ("price", "dec"),
            ("qty", "dec"),
            ("notional", "dec"),
        ),
        "SELECT s.name, b.trade_id, b.time_ms, b.side, b.price, b.qty, b.notional "
        "FROM big_trades b JOIN symbols s ON s.id = b.symbol_id "
        "WHERE b.time_ms >= ? AND b.time_ms < ? {where} ORDER BY b.time_ms, s.name, b.trade_id",
    ),
}
_ALIAS = {"candles": "i", "liquidations": "l", "big_trades": "b"}


class History:
    """The history kept in a store file (``m.history``, or opened on a file directly).

    Args:
        path: the store file.
        market: the market it must hold (``None``: any).

    Raises:
        StoreError: the file is refused (as when a Monitor opens it).
    """

    def __init__(self, path: str | Path, market: str | None = None) -> None:
        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise FileNotFoundError(f"no store at {str(self.path)!r}")
        check_file(self.path, market)

    def market(self) -> str:
        """The market the file holds."""
        conn = connect_reader(self.path)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'market'").fetchone()
        except sqlite3.Error:
            row = None
        finally:
            conn.close()
        return str(row[0]) if row else ""

    def rows(
        self,
        kind: str,
        *,
        symbol: str | None = None,
        start: int | None = None,
        end: int | None = None,
        interval: str | None = None,
        side: str | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Rows of ``kind`` (``"candles"``, ``"liquidations"``, ``"big_trades"``) in time order, exact (decimals as
        text, flags as bool), in the order of ``KINDS[kind].columns``.

        Args:
            symbol: one symbol (default: all).
            start / end: the range ``start <= time < end`` (ms; default: everything).
            interval: candles of this length only (``"1m"``, ``"15m"``...).
            side: ``"long"``/``"short"`` for liquidations, ``"buy"``/``"sell"`` for big trades.
        """
        q = KINDS.get(kind)
        if q is None:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        a = _ALIAS[kind]
        where = ""
        args: list[int | str] = [start if start is not None else -_FAR, end if end is not None else _FAR]
        if symbol is not None:
            where += " AND s.name = ?"
            args.append(symbol.upper())
        if interval is not None:
            if kind != "candles":
                raise ValueError("interval applies to candles only")
            where += f" AND {a}.interval_ms = ?"
            args.append(parse_duration(interval))
        if side is not None:
            allowed = ("long", "short") if kind == "liquidations" else ("buy", "sell")
            if kind == "candles" or side not in allowed:
                raise ValueError(f"side of {kind} must be one of {', '.join(allowed)}, got {side!r}")
            where += f" AND {a}.side = ?"
            args.append(side)
        bools = [i for i, (_, t) in enumerate(q.columns) if t == "bool"]
        conn = connect_reader(self.path)
        try:
            for row in conn.execute(q.sql.format(where=where), args):
                if bools:
                    row = tuple(bool(v) if i in bools else v for i, v in enumerate(row))
                yield row
        finally:
            conn.close()

    def columns(self, kind: str, **filters: Any) -> dict[str, np.ndarray[Any, Any]]:
        """The rows of :meth:`rows` as NumPy columns: ints as int64 (``first_id``/``last_id``: -1 without trades),
        text as objects, flags as bool, decimals as float64 with the exact text in ``<name>_exact``."""
        rows = list(self.rows(kind, **filters))
        return _columns(KINDS[kind].columns, rows)

    def candles(
        self, symbol: str, interval: str = "1m", start: int | None = None, end: int | None = None
    ) -> dict[str, np.ndarray[Any, Any]]:
        """Completed aligned intervals of ``symbol``, oldest first: ``start_ms``, ``buy_base``, ``sell_base``,
        ``buy_quote``, ``sell_quote`` (float64, and ``*_exact`` text), counts, ``first_id``/``last_id``,
        ``complete`` (every trade of it was counted) and ``abandoned``."""
        return self.columns("candles", symbol=symbol, interval=interval, start=start, end=end)

    def liquidations(
        self, symbol: str | None = None, start: int | None = None, end: int | None = None, side: str | None = None
    ) -> dict[str, np.ndarray[Any, Any]]:
        """Stored liquidations by trade time: ``symbol``, ``trade_time_ms``, ``event_time_ms``, ``side``,
        ``order_side``, order type/time in force/status, ``price``, ``avg_price``, ``qty``, ``last_qty``,
        ``filled_qty``, ``notional`` (float64, and ``*_exact`` text as received)."""
        return self.columns("liquidations", symbol=symbol, start=start, end=end, side=side)

    def big_trades(
        self, symbol: str | None = None, start: int | None = None, end: int | None = None, side: str | None = None
    ) -> dict[str, np.ndarray[Any, Any]]:
        """Stored big trades by time: ``symbol``, ``trade_id``, ``time_ms``, ``side`` (taker), ``price``, ``qty``,
        ``notional`` (float64, and ``*_exact`` text)."""
        return self.columns("big_trades", symbol=symbol, start=start, end=end, side=side)


def _columns(spec: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]]) -> dict[str, np.ndarray[Any, Any]]:
    out: dict[str, np.ndarray[Any, Any]] = {}
    for i, (name, kind) in enumerate(spec):
        values = [r[i] for r in rows]
        if kind == "int":
            out[name] = np.array([-1 if v is None else v for v in values], dtype=np.int64)
        elif kind == "bool":
            out[name] = np.array(values, dtype=bool)
        elif kind == "dec":
            exact = np.array(values, dtype=object)
            out[name] = exact.astype(np.float64) if len(values) else np.zeros(0)
            out[f"{name}_exact"] = exact
        else:
            out[name] = np.array(values, dtype=object)
    return out
