"""``/books/{symbol}`` and ``/books/{symbol}/band``: the top of a local order book, only ever from a synced book.

A book that is syncing or broke answers 503 with ``Retry-After`` and its sync state (the Monitor moves its snapshot
to the front of the queue); a symbol whose book is not kept answers 404.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from tapeflow._core import BookView
from tapeflow.errors import BookNotSyncedError
from tapeflow.monitor import Monitor
from tapeflow.serve.models import BandOut, BookOut
from tapeflow.serve.params import MonitorDep, SymbolPath, known_symbol

__all__ = ["RETRY_AFTER_S", "router"]

router = APIRouter(prefix="/books", tags=["books"])

#: Seconds a client is asked to wait before asking again for a book that is not synced.
RETRY_AFTER_S = 2


def _state(m: Monitor, symbol: str) -> str:
    try:
        return m.engine.sync_state(symbol).name
    except Exception:  # no frame of it yet: the engine has not seen it
        return "SYNCING"


def _synced(m: Monitor, symbol: str, depth: int) -> BookView:
    """The view of a kept, synced book.

    Raises:
        HTTPException: 404 when the book is not kept, 503 (``Retry-After``) when it is not synced.
    """
    sym = known_symbol(m, symbol)
    if sym not in m.book_symbols:
        raise HTTPException(404, detail=f"symbol: no book is kept for {sym} (start the server with --books {sym})")
    try:
        return m.book(sym, depth)
    except BookNotSyncedError:
        state = _state(m, sym)
        raise HTTPException(
            503,
            detail=f"symbol: the book of {sym} is {state}, not synced; ask again shortly",
            headers={"Retry-After": str(RETRY_AFTER_S), "X-Sync-State": state},
        ) from None


def _plain(d: Decimal) -> str:
    return format(d.normalize(), "f")


@router.get(
    "/{symbol}",
    response_model=BookOut,
    responses={503: {"description": "the book is not synced (Retry-After, X-Sync-State)"}},
)
async def book(
    m: MonitorDep,
    symbol: SymbolPath,
    depth: Annotated[int, Query(ge=1, le=1000, description="levels per side")] = 20,
) -> BookOut:
    """The top ``depth`` levels of each side, best first, with the book's update id and event time."""
    view = _synced(m, symbol, depth)
    bids, asks = view.bids_exact(), view.asks_exact()
    spread = mid = None
    if bids and asks:
        bid, ask = Decimal(bids[0][0]), Decimal(asks[0][0])
        spread, mid = _plain(ask - bid), _plain((ask + bid) / 2)
    now = m.clock.now_ms()
    return BookOut(
        symbol=view.symbol,
        state="SYNCED",
        last_update_id=view.last_update_id,
        event_time_ms=view.event_time,
        age_ms=now - view.event_time if view.event_time is not None else None,
        bids=bids,
        asks=asks,
        n_bids=view.n_bids,
        n_asks=view.n_asks,
        complete=view.complete,
        best_bid=bids[0][0] if bids else None,
        best_ask=asks[0][0] if asks else None,
        spread=spread,
        mid=mid,
    )


@router.get(
    "/{symbol}/band",
    response_model=BandOut,
    responses={503: {"description": "the book is not synced, or one side is empty"}},
)
async def band(
    m: MonitorDep,
    symbol: SymbolPath,
    pct: Annotated[float, Query(gt=0.0, le=50.0, description="half-width of the band in percent of the mid")] = 1.0,
) -> BandOut:
    """Quantity, notional and imbalance of the levels within ±``pct`` % of the mid price (edges included)."""
    view = _synced(m, symbol, 1)
    b = m.band(view.symbol, pct)
    if b is None:
        raise HTTPException(
            503, detail=f"symbol: one side of the book of {view.symbol} is empty", headers={"Retry-After": "2"}
        )
    return BandOut(
        symbol=view.symbol,
        pct=pct,
        last_update_id=view.last_update_id,
        bid_qty=b.bid_qty,
        ask_qty=b.ask_qty,
        bid_notional=b.bid_notional,
        ask_notional=b.ask_notional,
        imbalance=b.imbalance,
        exact=dict(b.exact()),
        complete=b.complete,
    )
