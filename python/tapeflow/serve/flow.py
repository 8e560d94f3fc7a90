"""``/flow``, ``/flow/{symbol}``, ``/candles/{symbol}``, ``/trades/big``: taker buy/sell flow (the ranking of
``/flow`` is in :mod:`~tapeflow.serve.ranking`)."""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from tapeflow._core import Volume
from tapeflow.monitor import Monitor, MonitorEvent
from tapeflow.serve.candles import candles as candle_source
from tapeflow.serve.models import BigTradeOut, CandlesOut, FlowOut, FlowWindowOut
from tapeflow.serve.params import MonitorDep, ParamError, SymbolPath, exact, finite, known_symbol, window_of
from tapeflow.serve.ranking import RankingCache

__all__ = ["router"]

router = APIRouter(tags=["flow"])

Window = Annotated[str | None, Query(max_length=16, description="one of the server's flow windows (default 15m)")]
Aligned = Annotated[
    bool, Query(description="the current UTC-aligned interval (the 15m candle) instead of the sliding window")
]
Sort = Literal["net", "buy", "sell", "abs_net"]


def _volume(m: Monitor, symbol: str, window: str, aligned: bool, now: int) -> tuple[Volume, dict[str, Decimal]]:
    v = m.volume(symbol, window, aligned=aligned, now_ms=now)
    return v, v.exact()


@router.get("/flow", response_model=FlowOut)
async def flow(
    request: Request,
    m: MonitorDep,
    window: Window = None,
    aligned: Aligned = False,
    sort: Annotated[Sort, Query(description="net, buy or sell quote volume, or |net|; largest first")] = "net",
    limit: Annotated[int, Query(ge=1, le=10_000, description="rows returned")] = 20,
) -> Response:
    """Every watched symbol ranked by its taker flow over ``window``: the top ``limit`` rows, with exact sums.

    An answer is reused for 0.2 s of the server's clock (``as_of_ms`` says when it was computed)."""
    w = window_of(m, window)
    cache: RankingCache = request.app.state.rankings
    return Response(cache.get(m, w, aligned, sort, limit), media_type="application/json")


@router.get("/flow/{symbol}", response_model=FlowWindowOut)
async def flow_symbol(
    m: MonitorDep, symbol: SymbolPath, window: Window = None, aligned: Aligned = False
) -> FlowWindowOut:
    """Taker buy/sell volume of one symbol over ``window``, exact, with counts and big-trade counts."""
    sym = known_symbol(m, symbol)
    w = window_of(m, window)
    now = m.clock.now_ms()
    v, e = _volume(m, sym, w, aligned, now)
    big = m.config.big_trade
    return FlowWindowOut(
        symbol=sym,
        window=w,
        aligned=aligned,
        as_of_ms=v.as_of,
        start_ms=v.start_ms,
        end_ms=v.end_ms,
        buy_base=v.buy_base,
        sell_base=v.sell_base,
        buy_quote=v.buy_quote,
        sell_quote=v.sell_quote,
        net_quote=v.net_quote,
        vwap=finite(v.vwap),
        exact={k: exact(d) for k, d in e.items()},
        buy_count=v.buy_count,
        sell_count=v.sell_count,
        big_buy_count=v.big_buy_count,
        big_sell_count=v.big_sell_count,
        big_buy_counts=list(v.big_buy_counts),
        big_sell_counts=list(v.big_sell_counts),
        big_trade_thresholds=[float(big)] if big is not None else [],
        complete=v.complete,
        abandoned=v.abandoned,
    )


@router.get("/candles/{symbol}", response_model=CandlesOut)
async def candles(
    m: MonitorDep,
    symbol: SymbolPath,
    interval: Window = None,
    start: Annotated[int | None, Query(ge=0, le=2**53, description="first candle start, epoch ms")] = None,
    end: Annotated[int | None, Query(ge=0, le=2**53, description="candle starts before this, epoch ms")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many, the newest")] = 100,
) -> CandlesOut:
    """Aligned intervals of taker flow (the completed ones kept and the current one), oldest first."""
    sym = known_symbol(m, symbol)
    w = window_of(m, interval, "interval")
    if start is not None and end is not None and end <= start:
        raise ParamError("end", "end must be after start", 400)
    got = candle_source(m, sym, w, start, end, limit)
    return CandlesOut(
        symbol=sym,
        interval=w,
        kept_from_ms=got.kept_from_ms,
        candles=got.candles,
    )


class BigTrades:
    """The latest big trades seen by the app (fed from the Monitor's events), newest last."""

    def __init__(self, keep: int = 500) -> None:
        self.rows: deque[BigTradeOut] = deque(maxlen=keep)

    def on_event(self, event: MonitorEvent) -> None:
        if event.kind != "big_trade" or event.symbol is None:
            return
        data = event.data
        self.rows.append(
            BigTradeOut(
                symbol=event.symbol,
                time_ms=event.time_ms,
                trade_id=data.get("trade_id"),
                side=str(data.get("side")),
                price=float(data.get("price") or 0.0),
                qty=float(data.get("qty") or 0.0),
                notional=float(data.get("notional") or 0.0),
                price_exact=str(data.get("price_exact")),
                qty_exact=str(data.get("qty_exact")),
                notional_exact=str(data.get("notional_exact")),
            )
        )


@router.get("/trades/big", response_model=list[BigTradeOut])
async def big_trades(
    request: Request,
    m: MonitorDep,
    symbol: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_]{1,32}$", description="one symbol")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="how many, newest first")] = 50,
) -> list[BigTradeOut]:
    """The latest trades at or above the server's big-trade threshold, newest first (by trade time)."""
    sym = None if symbol is None else known_symbol(m, symbol)
    book: BigTrades = request.app.state.big_trades
    rows = [r for r in book.rows if sym is None or r.symbol == sym]
    rows.sort(key=lambda r: r.time_ms, reverse=True)
    return rows[:limit]
