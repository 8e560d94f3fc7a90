"""Liquidation statistics of a Monitor's market (``m.liquidations``), from ``!forceOrder@arr``.

Binance pushes at most one liquidation per symbol per second, so these are lower bounds in bursts. Every figure says
whether its span was watched whole (``complete``): liquidations cannot be fetched again, so a span that touches an
outage — the process down, no liquidation connection live — or reaches before the history began is not complete
(see :mod:`~tapeflow.monitor.outages`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from tapeflow._core import Engine, Liquidation
from tapeflow._core import parse_duration as _ms
from tapeflow.clock import Clock
from tapeflow.monitor.outages import Outages, Span

__all__ = ["LiquidationTotal", "Liquidations"]


@dataclass(frozen=True)
class LiquidationTotal:
    """Total liquidated notional over a look-back (quote units; USD on COIN-M with contract sizes set).

    Attributes:
        symbol / side: what was counted (``None``: all symbols, both sides).
        notional / notional_exact: the total, as a float and as exact decimal text.
        count: liquidations counted.
        start_ms / end_ms: the range, ``start_ms <= time < end_ms``.
        complete: every liquidation of the range was received (no outage touches it).
        outages: the outages that touch it, if any.
    """

    symbol: str | None
    side: str | None
    notional: float
    notional_exact: str
    count: int
    start_ms: int
    end_ms: int
    complete: bool
    outages: tuple[Span, ...]


class Liquidations:
    """Totals, series and heatmaps over look-backs ending now, and the most recent liquidations."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        #: The most recent liquidations, newest last.
        self.recent: deque[Liquidation] = deque(maxlen=1000)
        #: The outages of the running Monitor (set when it starts; before that nothing is complete).
        self.coverage: Outages | None = None

    def outages(self, start_ms: int, end_ms: int) -> list[Span]:
        """The outages that lost liquidations in ``[start_ms, end_ms)`` (the span before the history began
        included)."""
        if self.coverage is None:
            return [Span("liquidations", start_ms, end_ms, "not started")]
        return self.coverage.liquidation_gaps(start_ms, end_ms)

    def complete(self, start_ms: int, end_ms: int) -> bool:
        """Every liquidation in ``[start_ms, end_ms)`` was received."""
        return not self.outages(start_ms, end_ms)

    def total(self, symbol: str | None = None, *, lookback: str = "1h", side: str | None = None) -> LiquidationTotal:
        """Liquidated notional over ``lookback`` (``"15m"``, ``"1h"``...), for one symbol or all, by side."""
        t = self._engine.liq_total(symbol, lookback_ms=_ms(lookback), side=side, now_ms=self._clock.now_ms())
        gaps = tuple(self.outages(t.start_ms, t.end_ms))
        return LiquidationTotal(
            t.symbol, t.side, t.notional, t.notional_exact, t.count, t.start_ms, t.end_ms, not gaps, gaps
        )

    def series(
        self, symbol: str | None = None, *, lookback: str = "1h", interval: str = "1m", side: str | None = None
    ) -> Any:
        """``(bucket_starts_ms, notional, count, complete)`` arrays (see ``Engine.liq_series``); ``complete`` says
        per bucket whether every liquidation in it was received."""
        interval_ms = _ms(interval)
        now = self._clock.now_ms()
        starts, notional, count = self._engine.liq_series(
            symbol, lookback_ms=_ms(lookback), interval_ms=interval_ms, side=side, now_ms=now
        )
        return starts, notional, count, self._complete(starts, interval_ms, now - _ms(lookback) + 1, now + 1)

    def heatmap(self, symbol: str, *, lookback: str = "4h", interval: str = "5m") -> Any:
        """``(grid, price_edges, time_starts_ms, complete)`` (see ``Engine.liq_heatmap``); ``complete`` says per
        time bin whether every liquidation in it was received."""
        interval_ms = _ms(interval)
        now = self._clock.now_ms()
        grid, edges, starts = self._engine.liq_heatmap(
            symbol, lookback_ms=_ms(lookback), interval_ms=interval_ms, now_ms=now
        )
        return grid, edges, starts, self._complete(starts, interval_ms, now - _ms(lookback) + 1, now + 1)

    def _complete(self, starts: Any, interval_ms: int, lo: int, hi: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per bucket starting at ``starts`` (clipped to ``[lo, hi)``): no outage touches it."""
        aligned = np.asarray(starts, dtype=np.int64)
        begin = np.maximum(aligned, lo)
        end = np.minimum(aligned + interval_ms, hi)
        ok = np.ones(len(begin), dtype=bool)
        for span in self.outages(lo, hi):
            stop = np.iinfo(np.int64).max if span.end_ms is None else span.end_ms
            ok &= ~((begin < stop) & (end > span.start_ms))
        return ok
