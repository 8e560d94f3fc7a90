"""Liquidation statistics of a Monitor's market (``m.liquidations``), from ``!forceOrder@arr``.

Binance pushes at most one liquidation per symbol per second, so these are lower bounds in bursts.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tapeflow._core import Engine, LiqTotal, Liquidation
from tapeflow._core import parse_duration as _ms
from tapeflow.clock import Clock

__all__ = ["Liquidations"]


class Liquidations:
    """Totals, series and heatmaps over look-backs ending now, and the most recent liquidations."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        #: The most recent liquidations, newest last.
        self.recent: deque[Liquidation] = deque(maxlen=1000)

    def total(self, symbol: str | None = None, *, lookback: str = "1h", side: str | None = None) -> LiqTotal:
        """Liquidated notional over ``lookback`` (``"15m"``, ``"1h"``...), for one symbol or all, by side."""
        return self._engine.liq_total(symbol, lookback_ms=_ms(lookback), side=side, now_ms=self._clock.now_ms())

    def series(
        self, symbol: str | None = None, *, lookback: str = "1h", interval: str = "1m", side: str | None = None
    ) -> Any:
        """``(bucket_starts_ms, notional, count)`` arrays (see ``Engine.liq_series``)."""
        return self._engine.liq_series(
            symbol, lookback_ms=_ms(lookback), interval_ms=_ms(interval), side=side, now_ms=self._clock.now_ms()
        )

    def heatmap(self, symbol: str, *, lookback: str = "4h", interval: str = "5m") -> Any:
        """``(grid, price_edges, time_starts_ms)`` (see ``Engine.liq_heatmap``)."""
        return self._engine.liq_heatmap(
            symbol, lookback_ms=_ms(lookback), interval_ms=_ms(interval), now_ms=self._clock.now_ms()
        )
