"""``/health``, ``/status`` and ``/symbols``: whether the feeds flow, the Monitor's full status, what is watched.

``/health`` answers ``{"status": "ok"}`` with 200 like the service tapeflow replaces, plus details; ``degraded``
(still 200) when something needs a look but the answers are served (a connection reconnecting, books syncing, trade
gaps being filled), ``failing`` with 503 when the feeds flow but the store cannot write (what it keeps waits in
memory and is retried: a full or read-only disk needs a look before the backlog's limit is passed), and ``down`` with
503 when no feed is flowing: no connection open, or no frame for :data:`SILENT_S` seconds.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tapeflow.monitor import MonitorStatus
from tapeflow.serve.models import HealthOut, StoreHealthOut, SymbolsOut
from tapeflow.serve.params import MonitorDep
from tapeflow.store import StoreStatus

__all__ = ["SILENT_S", "health_of", "router"]

router = APIRouter(tags=["service"])

#: A feed with no frame for this long (seconds, on the Monitor's clock) is down.
SILENT_S = 30.0


def health_of(st: MonitorStatus) -> HealthOut:
    """The health summary of a status."""
    conns = st.connections
    n_open = sum(c.state == "open" for c in conns)
    ages = [c.last_frame_age_s for c in conns if c.last_frame_age_s is not None]
    freshest = min(ages) if ages else None
    down: list[str] = []
    degraded: list[str] = []
    if not conns or n_open == 0:
        down.append("no feed connection is open")
    elif freshest is not None and freshest > SILENT_S:
        down.append(f"no frame for {freshest:.0f} s")
    if conns and 0 < n_open < len(conns):
        degraded.append(f"{len(conns) - n_open} of {len(conns)} connections not open")
    books = sum(st.books.values())
    synced = st.books.get("SYNCED", 0)
    if synced < books:
        degraded.append(f"{books - synced} of {books} books not synced")
    if st.gaps_open:
        degraded.append(f"{st.gaps_open} trade gaps being filled")
    if st.incomplete:
        degraded.append(f"{st.incomplete} symbols with incomplete flow windows")
    if st.rest.paused_for_s > 0:
        degraded.append(f"REST paused for {st.rest.paused_for_s:.0f} s (rate limit)")
    store = _store_health(st.store)
    failing = []
    if store.state == "failing":
        failing.append(f"the store cannot write ({store.error}); {store.pending_rows} rows wait, retried")
    return HealthOut(
        status="down" if down else "failing" if failing else "degraded" if degraded else "ok",
        reasons=down + failing + degraded,
        connections=len(conns),
        connections_open=n_open,
        last_frame_age_s=freshest,
        frames=st.frames,
        books_synced=synced,
        books=books,
        gaps_open=st.gaps_open,
        incomplete=st.incomplete,
        store=store,
        now_ms=st.now_ms,
    )


def _store_health(st: StoreStatus | None) -> StoreHealthOut:
    if st is None:
        return StoreHealthOut(state="none", error=None, pending_rows=0, lost_rows=0)
    return StoreHealthOut(state=st.state, error=st.error, pending_rows=st.pending_rows, lost_rows=sum(st.lost.values()))


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "down (no feed flows) or failing (the store cannot write)"}},
)
async def health(m: MonitorDep) -> HealthOut | JSONResponse:
    """``{"status": "ok"}`` when the feeds flow, every book and window is exact and the store writes; ``degraded``
    (200), ``failing`` (503: the store cannot write) or ``down`` (503: no feed flows) with the reasons otherwise."""
    out = health_of(m.status())
    if out.status in ("down", "failing"):
        return JSONResponse(out.model_dump(), status_code=503)
    return out


@router.get("/status", response_model=MonitorStatus)
async def status(m: MonitorDep) -> MonitorStatus:
    """The Monitor's status: every connection, the REST budget, snapshots, backfill, books, counters, and the
    store's state (``store``: ``null`` without one)."""
    return m.status()


@router.get("/symbols", response_model=SymbolsOut)
async def symbols(m: MonitorDep) -> SymbolsOut:
    """The watched symbols, those with a book, the flow windows kept."""
    return SymbolsOut(
        market=m.market,
        symbols=list(m.symbols),
        books=sorted(m.book_symbols),
        flow_windows=list(m.flow),
        liquidations=m.config.liquidations,
    )
