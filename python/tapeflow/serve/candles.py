"""Candles of taker flow (aligned intervals, like Binance klines split by taker side) for ``/candles/{symbol}``.

:func:`candles` is the one place that knows where candles come from. Today that is memory: the engine keeps the
current interval and the last ``flow_history`` completed ones of each flow window. A store that keeps older
intervals extends this function (memory first, the store for what lies before ``kept_from_ms``), and the route
stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from tapeflow.monitor import Monitor
from tapeflow.serve.models import CandleOut
from tapeflow.serve.params import exact, finite

__all__ = ["Candles", "candles"]


@dataclass(frozen=True)
class Candles:
    """The candles of one query, oldest first, and the oldest start held in memory."""

    candles: list[CandleOut]
    kept_from_ms: int | None


def candles(m: Monitor, symbol: str, interval: str, start_ms: int | None, end_ms: int | None, limit: int) -> Candles:
    """The candles of ``symbol`` for one of the Monitor's flow windows whose start lies in ``[start_ms, end_ms)``.

    Args:
        m: the Monitor.
        symbol: a watched symbol.
        interval: one of ``m.flow``.
        start_ms / end_ms: bounds on the candle starts (``None``: unbounded).
        limit: at most this many, the newest kept.
    """
    name = f"{interval}@aligned"
    starts = m.engine.candles(symbol, name)["start_ms"]
    kept_from = int(starts[0]) if len(starts) else None
    chosen = [s for s in starts.tolist() if (start_ms is None or s >= start_ms) and (end_ms is None or s < end_ms)][
        -limit:
    ]
    out = []
    for s in chosen:  # one engine call per candle: the exact sums of that interval
        v = m.engine.volume(symbol, name, now_ms=s)
        e = v.exact()
        out.append(
            CandleOut(
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
        )
    return Candles(out, kept_from)
