"""Candles of taker flow (aligned intervals, like Binance klines split by taker side) for ``/candles/{symbol}``.

:func:`candles` is the one place that knows where candles come from. Memory first: the engine keeps the current
interval and the last ``flow_history`` (60) completed ones of each kept interval. Older ones come from the store
(``m.history``), which holds every completed interval written a few seconds after it ended. The two are stitched at
the oldest start held in memory (``kept_from_ms``): memory answers from there on, the store before it, so no
interval is served twice and none is skipped between them. A query reads at most ``limit`` intervals: the newest
``limit`` aligned starts of the range, whatever its length.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tapeflow._core import parse_duration
from tapeflow.errors import TapeflowError
from tapeflow.monitor import Monitor
from tapeflow.serve.models import CandleOut
from tapeflow.serve.params import exact, finite

__all__ = ["Candles", "candles"]


@dataclass(frozen=True)
class Candles:
    """The candles of one query, oldest first; the oldest start held in memory; why the store could not be read
    (``None``: it was, or was not needed, or there is none)."""

    candles: list[CandleOut]
    kept_from_ms: int | None
    store_error: str | None = None


async def candles(
    m: Monitor, symbol: str, interval: str, start_ms: int | None, end_ms: int | None, limit: int
) -> Candles:
    """The candles of ``symbol`` for one of the Monitor's aligned intervals whose start lies in
    ``[start_ms, end_ms)``, the newest ``limit`` of them.

    Args:
        m: the Monitor.
        symbol: a watched symbol.
        interval: one of the Monitor's kept intervals (``m.flow``, and ``1m`` with a store).
        start_ms / end_ms: bounds on the candle starts (``None``: unbounded).
        limit: at most this many, the newest kept.
    """
    iv = parse_duration(interval)
    starts: list[int] = m.engine.candles(symbol, f"{interval}@aligned")["start_ms"].tolist()
    kept_from = starts[0] if starts else None
    if end_ms is None:  # up to the current interval (memory's newest; the clock's without any in memory)
        now = m.clock.now_ms()
        end_ms = (starts[-1] if starts else now - now % iv) + iv
    # Starts are multiples of the interval: [end - limit * iv, end) holds at most ``limit`` of them.
    lo = end_ms - limit * iv if start_ms is None else max(start_ms, end_ms - limit * iv)
    older: list[CandleOut] = []
    error = None
    top = end_ms if kept_from is None else min(end_ms, kept_from)
    if m.config.store is not None and lo < top:
        try:
            older = await asyncio.to_thread(_stored, m, symbol, interval, iv, lo, top)
        except (OSError, sqlite3.Error, TapeflowError) as e:  # a store that cannot be read: memory still answers
            error = f"the store could not be read: {e}"
    recent = [_from_memory(m, symbol, interval, s) for s in starts if lo <= s < end_ms]
    return Candles((older + recent)[-limit:], kept_from, error)


def _from_memory(m: Monitor, symbol: str, interval: str, start: int) -> CandleOut:
    v = m.engine.volume(symbol, f"{interval}@aligned", now_ms=start)  # the exact sums of that interval
    e = v.exact()
    return CandleOut(
        start_ms=v.start_ms,
        end_ms=v.end_ms,
        buy_base=v.buy_base,
        sell_base=v.sell_base,
        buy_quote=v.buy_quote,
        sell_quote=v.sell_quote,
        buy_base_exact=exact(e["buy_base"]) or "0",
        sell_base_exact=exact(e["sell_base"]) or "0",
        buy_quote_exact=exact(e["buy_quote"]) or "0",
        sell_quote_exact=exact(e["sell_quote"]) or "0",
        buy_count=v.buy_count,
        sell_count=v.sell_count,
        vwap=finite(v.vwap),
        complete=v.complete,
        source="memory",
    )


def _stored(m: Monitor, symbol: str, interval: str, iv: int, lo: int, hi: int) -> list[CandleOut]:
    """The stored intervals starting in ``[lo, hi)`` (on a thread: the file is read with a connection of its own)."""
    c = m.history.candles(symbol, interval, start=lo, end=hi)
    return [_from_row(c, i, iv) for i in range(len(c["start_ms"]))]


def _from_row(c: dict[str, Any], i: int, iv: int) -> CandleOut:
    d = {k: Decimal(c[f"{k}_exact"][i]) for k in ("buy_base", "sell_base", "buy_quote", "sell_quote")}
    base = d["buy_base"] + d["sell_base"]
    start = int(c["start_ms"][i])
    return CandleOut(
        start_ms=start,
        end_ms=start + iv,
        buy_base=float(c["buy_base"][i]),
        sell_base=float(c["sell_base"][i]),
        buy_quote=float(c["buy_quote"][i]),
        sell_quote=float(c["sell_quote"][i]),
        buy_base_exact=exact(d["buy_base"]) or "0",
        sell_base_exact=exact(d["sell_base"]) or "0",
        buy_quote_exact=exact(d["buy_quote"]) or "0",
        sell_quote_exact=exact(d["sell_quote"]) or "0",
        buy_count=int(c["buy_count"][i]),
        sell_count=int(c["sell_count"][i]),
        vwap=float((d["buy_quote"] + d["sell_quote"]) / base) if base else None,
        complete=bool(c["complete"][i]),
        source="store",
    )
