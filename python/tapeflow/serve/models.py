"""The shapes of the HTTP answers (pydantic models; they are also the OpenAPI schema at ``/openapi.json``).

Money and sizes are served twice: a float for convenience and the exact decimal string (``*_exact``) the engine
keeps. Times are epoch milliseconds (``*_ms``), except in the liquidation endpoints kept compatible with the service
tapeflow replaces, which speak ISO-8601.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = [
    "BandOut",
    "BigTradeOut",
    "BookOut",
    "CandleOut",
    "CandlesOut",
    "ClusterOut",
    "ClustersOut",
    "ErrorOut",
    "FlowOut",
    "FlowRowOut",
    "FlowWindowOut",
    "HealthOut",
    "HeatmapOut",
    "LiqBucketOut",
    "LiqRecentOut",
    "LiqSeriesOut",
    "LiqTotalOut",
    "StoreHealthOut",
    "SymbolsOut",
]


class ErrorOut(BaseModel):
    """An error: ``detail`` as FastAPI gives it, ``message`` naming the parameter at fault."""

    detail: str | list[dict[str, object]]
    message: str
    param: str | None = None


# ---------------------------------------------------------------------------------------------------- liquidations
class LiqTotalOut(BaseModel):
    """Liquidated notional over the last ``minutes`` (the old service's fields, plus the exact total)."""

    symbol: str = Field(description="the symbol, or ALL")
    side: str = Field(description="BUY, SELL (raw order side), long, short, or ALL")
    window_start: datetime
    window_end: datetime
    minutes: int
    total_notional: float = Field(description="rounded to 2 decimals")
    total_notional_exact: str
    event_count: int


class LiqBucketOut(BaseModel):
    bucket_start: datetime
    bucket_end: datetime
    total_notional: float = Field(description="rounded to 2 decimals")
    total_notional_exact: str
    event_count: int


class LiqSeriesOut(BaseModel):
    """Buckets of ``interval_minutes`` aligned to the epoch, oldest first, only those holding a liquidation."""

    symbol: str
    side: str
    window_start: datetime
    window_end: datetime
    minutes: int
    interval_minutes: int
    total_notional: float
    total_notional_exact: str
    event_count: int
    buckets: list[LiqBucketOut]


class LiqEventOut(BaseModel):
    symbol: str
    time_ms: int
    side: str = Field(description="the liquidated position: long (order side SELL) or short (BUY)")
    order_side: str
    price: float
    price_exact: str
    qty: float
    qty_exact: str
    notional: float
    notional_exact: str


class LiqRecentOut(BaseModel):
    liquidations: list[LiqEventOut] = Field(description="newest first")


class ClusterOut(BaseModel):
    """A price bin of liquidations, decayed to ``as_of_ms``."""

    price: float = Field(description="notional-weighted mean price of the bin")
    price_low: float
    price_high: float
    side: str = Field(description="the side with the larger decayed notional: long or short")
    count: int
    count_long: int
    count_short: int
    notional: float
    notional_exact: str
    notional_long: float
    notional_short: float
    decayed: float
    strength: float = Field(description="share of the symbol's decayed notional, 0 to 1")
    distance_pct: float | None = Field(description="(price - mark) / mark x 100; null without a mark price")
    last_time_ms: int


class ClustersOut(BaseModel):
    symbol: str
    as_of_ms: int
    mark_price: float | None
    half_life_ms: float
    bin_pct: float
    clusters: list[ClusterOut] = Field(description="by ascending price")
    best: ClusterOut | None = Field(description="largest decayed notional with strength >= min_strength")


class HeatmapOut(BaseModel):
    """Notional per price bin x time bin: ``long[i][j]`` for the price bin ``price_edges[i]..price_edges[i+1]`` and
    the time bin starting at ``time_starts_ms[j]``."""

    symbol: str
    as_of_ms: int
    lookback_minutes: int
    interval_minutes: int
    bin_pct: float
    price_edges: list[float]
    time_starts_ms: list[int]
    long: list[list[float]]
    short: list[list[float]]
    max_cell: float


# ---------------------------------------------------------------------------------------------------- flow
class FlowRowOut(BaseModel):
    rank: int
    symbol: str
    buy_quote: float
    sell_quote: float
    net_quote: float
    buy_quote_exact: str
    sell_quote_exact: str
    net_quote_exact: str
    buy_count: int
    sell_count: int
    big_buy_count: int
    big_sell_count: int
    vwap: float | None
    complete: bool
    abandoned: bool


class FlowOut(BaseModel):
    window: str
    aligned: bool
    sort: str
    as_of_ms: int
    start_ms: int
    end_ms: int
    symbols: int = Field(description="symbols ranked")
    incomplete: int = Field(description="ranked symbols whose window is not complete")
    rows: list[FlowRowOut]


class FlowWindowOut(BaseModel):
    symbol: str
    window: str
    aligned: bool
    as_of_ms: int
    start_ms: int
    end_ms: int
    buy_base: float
    sell_base: float
    buy_quote: float
    sell_quote: float
    net_quote: float
    vwap: float | None
    exact: dict[str, str | None] = Field(description="buy_base, sell_base, net_base, buy_quote, sell_quote, ...")
    buy_count: int
    sell_count: int
    big_buy_count: int
    big_sell_count: int
    big_buy_counts: list[int] = Field(description="per big-trade threshold, ascending")
    big_sell_counts: list[int]
    big_trade_thresholds: list[float]
    complete: bool
    abandoned: bool


class CandleOut(BaseModel):
    start_ms: int
    end_ms: int
    buy_base: float
    sell_base: float
    buy_quote: float
    sell_quote: float
    buy_quote_exact: str
    sell_quote_exact: str
    buy_base_exact: str
    sell_base_exact: str
    buy_count: int
    sell_count: int
    vwap: float | None
    complete: bool
    source: str = Field(description="where the candle came from: memory, or store (older than memory holds)")


class CandlesOut(BaseModel):
    symbol: str
    interval: str
    kept_from_ms: int | None = Field(description="the oldest candle held in memory (older ones are the store's)")
    store_error: str | None = Field(
        default=None, description="why the store could not be read (only memory's candles are served then)"
    )
    candles: list[CandleOut] = Field(description="oldest first, each interval once")


class BigTradeOut(BaseModel):
    """A trade at or above the big-trade threshold; money as floats and as exact decimal strings."""

    symbol: str
    time_ms: int
    trade_id: int | None
    side: str
    price: float
    qty: float
    notional: float
    price_exact: str
    qty_exact: str
    notional_exact: str


# ---------------------------------------------------------------------------------------------------- books
class BookOut(BaseModel):
    """The top of a synced book: levels as exact ``[price, qty]`` strings, best first."""

    symbol: str
    state: str
    last_update_id: int
    event_time_ms: int | None
    age_ms: int | None = Field(description="the server's clock minus the last event time")
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]
    n_bids: int
    n_asks: int
    complete: bool = Field(
        description="each side holds the depth asked for or all its levels; false when the book knows fewer levels "
        "for certain (it then resyncs from a deeper snapshot)"
    )
    best_bid: str | None
    best_ask: str | None
    spread: str | None
    mid: str | None


class BandOut(BaseModel):
    """Quantity and notional within ±pct % of the mid price."""

    symbol: str
    pct: float
    last_update_id: int
    bid_qty: float
    ask_qty: float
    bid_notional: float
    ask_notional: float
    imbalance: float
    exact: dict[str, str]
    complete: bool = Field(description="the book knows every level of the band")


# ---------------------------------------------------------------------------------------------------- service
class StoreHealthOut(BaseModel):
    """The store's part of ``/health``."""

    state: str = Field(
        description="ok, starting (nothing written yet), failing (writes fail and are retried), closed, or none "
        "(the server keeps no store)"
    )
    error: str | None = Field(description="why writes fail, while they do")
    pending_rows: int = Field(description="rows queued and not written yet")
    lost_rows: int = Field(description="rows given up since start (writes failed past the backlog's limit)")


class HealthOut(BaseModel):
    """``status`` is ``ok`` (200), ``degraded`` (200: serving, with something to look at), ``failing`` (503: the
    feeds flow but the store cannot write) or ``down`` (503: no feed flows)."""

    status: str
    reasons: list[str]
    connections: int
    connections_open: int
    last_frame_age_s: float | None
    frames: int
    books_synced: int
    books: int
    gaps_open: int
    incomplete: int
    store: StoreHealthOut
    now_ms: int


class SymbolsOut(BaseModel):
    market: str
    symbols: list[str]
    books: list[str]
    flow_windows: list[str]
    liquidations: bool
