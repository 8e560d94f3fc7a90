"""``/liquidations/...``: totals and series compatible with the liquidation service tapeflow replaces, the most recent
liquidations, and price clusters.

The old service's requests work unchanged (``minutes``, ``interval_minutes``, ``side=BUY|SELL``, the same bounds, the
same 400 when the interval exceeds the look-back, the same field names and types). What is added: ``symbol=`` (any
watched symbol, or ``ALL``; ``BTCUSDT`` by default as before), ``side=long|short``, and exact totals as decimal
strings beside the rounded floats. ``BUY`` is the raw order side: a buy order closes a short, so ``BUY`` = ``short``.

A look-back of ``minutes`` ending at ``now`` holds the liquidations with ``now - minutes < time <= now``; times are the
exchange's trade times of the liquidation orders. Binance pushes at most one liquidation per symbol per second, so
every figure is a lower bound in bursts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tapeflow._core import LiqCluster
from tapeflow.monitor import Monitor
from tapeflow.serve.models import (
    ClusterOut,
    ClustersOut,
    LiqBucketOut,
    LiqEventOut,
    LiqRecentOut,
    LiqSeriesOut,
    LiqTotalOut,
)
from tapeflow.serve.params import SYMBOL_PATTERN, MonitorDep, ParamError, SymbolPath, known_symbol, to_datetime

__all__ = ["MAX_MINUTES", "router"]

router = APIRouter(prefix="/liquidations", tags=["liquidations"])

#: The old service's retention, and so its largest look-back: 240 hours.
MAX_MINUTES = 14_400
_MIN = 60_000

_SIDES = {"BUY": "short", "SELL": "long", "long": "long", "short": "short"}

Minutes = Annotated[int, Query(ge=1, le=MAX_MINUTES, description="look-back in minutes (1 to 14400)")]
Side = Annotated[
    str | None,
    Query(
        pattern="^(BUY|SELL|long|short)$",
        description="BUY or SELL (the raw order side: SELL liquidates a long), long or short; all when absent",
    ),
]
Symbol = Annotated[str, Query(pattern=r"^([A-Za-z0-9_]{1,32})$", description="a watched symbol, or ALL")]


def _symbol(m: Monitor, symbol: str) -> str | None:
    """``None`` for ``ALL`` (every symbol), else the watched symbol (404 otherwise)."""
    return None if symbol.upper() == "ALL" else known_symbol(m, symbol)


def _window(
    symbol: str | None, side: str | None, minutes: int, now: int, total: tuple[float, str, int]
) -> dict[str, Any]:
    """The fields every look-back answer shares (the old service's, plus the exact total)."""
    notional, exact, count = total
    return {
        "symbol": symbol or "ALL",
        "side": side or "ALL",
        "window_start": to_datetime(now - minutes * _MIN),
        "window_end": to_datetime(now),
        "minutes": minutes,
        "total_notional": round(notional, 2),
        "total_notional_exact": exact,
        "event_count": count,
    }


def _total(m: Monitor, symbol: str | None, side: str | None, lo_ms: int, hi_ms: int) -> tuple[float, str, int]:
    """Notional (float, exact) and count of the liquidations with ``lo_ms <= time <= hi_ms``."""
    t = m.engine.liq_total(symbol, lookback_ms=hi_ms - lo_ms + 1, side=side, now_ms=hi_ms)
    return t.notional, t.notional_exact, t.count


@router.get("/total", response_model=LiqTotalOut)
async def total(m: MonitorDep, minutes: Minutes = 60, side: Side = None, symbol: Symbol = "BTCUSDT") -> LiqTotalOut:
    """Liquidated notional and count over the last ``minutes``."""
    sym = _symbol(m, symbol)
    now = m.clock.now_ms()
    total = _total(m, sym, _SIDES.get(side or ""), now - minutes * _MIN + 1, now)
    return LiqTotalOut(**_window(sym, side, minutes, now, total))


@router.get(
    "/series",
    response_model=LiqSeriesOut,
    responses={400: {"description": "interval_minutes cannot be greater than minutes"}},
)
async def series(
    m: MonitorDep,
    minutes: Minutes = 60,
    interval_minutes: Annotated[int, Query(ge=1, le=MAX_MINUTES, description="bucket width in minutes")] = 1,
    side: Side = None,
    symbol: Symbol = "BTCUSDT",
) -> LiqSeriesOut:
    """Liquidations per bucket of ``interval_minutes`` (aligned to the epoch, UTC), oldest first; only the buckets
    holding a liquidation are listed (the first and last count only their part of the look-back)."""
    if interval_minutes > minutes:
        raise ParamError("interval_minutes", "interval_minutes cannot be greater than minutes", 400)
    sym = _symbol(m, symbol)
    eside = _SIDES.get(side or "")
    now = m.clock.now_ms()
    lo, interval = now - minutes * _MIN + 1, interval_minutes * _MIN
    starts, _notional, counts = m.engine.liq_series(
        sym, lookback_ms=minutes * _MIN, interval_ms=interval, side=eside, now_ms=now
    )
    buckets = []
    for start in starts[counts > 0].tolist():  # one exact sum per non-empty bucket (at most minutes/interval)
        b_notional, b_exact, b_count = _total(m, sym, eside, max(start, lo), min(start + interval - 1, now))
        buckets.append(
            LiqBucketOut(
                bucket_start=to_datetime(start),
                bucket_end=to_datetime(start + interval),
                total_notional=round(b_notional, 2),
                total_notional_exact=b_exact,
                event_count=b_count,
            )
        )
    total = _total(m, sym, eside, lo, now)
    return LiqSeriesOut(**_window(sym, side, minutes, now, total), interval_minutes=interval_minutes, buckets=buckets)


@router.get("/recent", response_model=LiqRecentOut)
async def recent(
    m: MonitorDep,
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN, description="one symbol (default: all)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="how many, newest first")] = 50,
) -> LiqRecentOut:
    """The most recent liquidations received (up to the last 1,000 over all symbols), newest first."""
    sym = None if symbol is None else known_symbol(m, symbol)
    kept = [liq for liq in m.liquidations.recent if sym is None or liq.symbol == sym]
    kept.sort(key=lambda liq: liq.time_ms, reverse=True)
    return LiqRecentOut(
        liquidations=[
            LiqEventOut(
                symbol=liq.symbol,
                time_ms=liq.time_ms,
                side=liq.side,
                order_side=liq.order_side,
                price=liq.price,
                price_exact=liq.price_exact,
                qty=liq.qty,
                qty_exact=liq.qty_exact,
                notional=liq.notional,
                notional_exact=liq.notional_exact,
            )
            for liq in kept[:limit]
        ]
    )


@router.get("/clusters/{symbol}", response_model=ClustersOut)
async def clusters(
    m: MonitorDep,
    symbol: SymbolPath,
    min_strength: Annotated[float, Query(ge=0.0, le=1.0, description="for best: the least strength, 0 to 1")] = 0.0,
    side: Annotated[str | None, Query(pattern="^(long|short)$", description="for best: the dominant side")] = None,
) -> ClustersOut:
    """Price clusters of ``symbol``'s liquidations with exponential time decay, their distance from the mark price,
    and the best cluster (largest decayed notional with ``strength >= min_strength`` and, if given, that side)."""
    sym = known_symbol(m, symbol)
    now = m.clock.now_ms()
    cfg = m.engine.liq_config()
    mark = m.engine.mark_price(sym)
    best = m.engine.best_cluster(sym, min_strength, side, now_ms=now)
    return ClustersOut(
        symbol=sym,
        as_of_ms=now,
        mark_price=mark[0] if mark is not None else None,
        half_life_ms=cfg["half_life_ms"],
        bin_pct=cfg["bin_pct"],
        clusters=[_cluster(c) for c in m.engine.liq_clusters(sym, now_ms=now)],
        best=_cluster(best) if best is not None else None,
    )


def _cluster(c: LiqCluster) -> ClusterOut:
    dist = c.distance_pct
    return ClusterOut(
        price=c.price,
        price_low=c.price_low,
        price_high=c.price_high,
        side=c.side,
        count=c.count,
        count_long=c.count_long,
        count_short=c.count_short,
        notional=c.notional,
        notional_exact=c.notional_exact,
        notional_long=c.notional_long,
        notional_short=c.notional_short,
        decayed=c.decayed,
        strength=c.strength,
        distance_pct=None if dist is None or dist != dist else dist,
        last_time_ms=c.last_time_ms,
    )
