"""What every route shares: the Monitor of the app, symbol lookup (404 for an unknown one), flow-window checks, and
the errors a query answers with (each names the parameter it is about)."""

from __future__ import annotations

import weakref
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request

from tapeflow.monitor import Monitor

__all__ = [
    "SYMBOL_PATTERN",
    "MonitorDep",
    "ParamError",
    "SymbolPath",
    "exact",
    "finite",
    "known_symbol",
    "monitor_of",
    "to_datetime",
    "window_of",
]

#: Binance symbols: letters, digits and ``_`` (``BTCUSDT``, ``BTCUSD_PERP``); lower case is accepted.
SYMBOL_PATTERN = r"^[A-Za-z0-9_]{1,32}$"


async def monitor_of(request: Request) -> Monitor:
    """The Monitor the app serves."""
    m: Monitor = request.app.state.monitor
    return m


MonitorDep = Annotated[Monitor, Depends(monitor_of)]
SymbolPath = Annotated[str, Path(pattern=SYMBOL_PATTERN, description="a watched symbol, e.g. BTCUSDT")]


class ParamError(Exception):
    """A request parameter that is well-formed but not acceptable (answered by the app as
    ``{"detail": "<param>: <message>", "message": ..., "param": <param>}``)."""

    def __init__(self, param: str, message: str, status: int = 422) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = f"{param}: {message}"
        self.status = status


class _Symbols:
    """The watched symbols as a set, rebuilt only when the Monitor's list changed."""

    __slots__ = ("key", "names")

    def __init__(self) -> None:
        self.key: tuple[int, int] = (0, -1)
        self.names: frozenset[str] = frozenset()


_caches: weakref.WeakKeyDictionary[Monitor, _Symbols] = weakref.WeakKeyDictionary()


def known_symbol(m: Monitor, symbol: str) -> str:
    """``symbol`` upper-cased if the Monitor watches it.

    Raises:
        HTTPException: 404 naming the symbol otherwise.
    """
    cache = _caches.get(m)
    if cache is None:
        cache = _caches[m] = _Symbols()
    names = m.symbols
    key = (id(names), len(names))  # the list is replaced or grown when symbols are added or removed
    if key != cache.key:
        cache.key, cache.names = key, frozenset(names)
    sym = symbol.upper()
    if sym not in cache.names:
        raise HTTPException(404, detail=f"symbol: {sym} is not watched by this server")
    return sym


def window_of(m: Monitor, window: str | None, name: str = "window", *, intervals: bool = False) -> str:
    """A flow window the Monitor keeps (``None``: ``15m`` if kept, else the first); ``intervals``: any aligned
    interval it keeps (its windows, and ``1m`` with a store).

    Raises:
        ParamError: 422 naming the parameter when the window is not kept.
        HTTPException: 404 when the server keeps no flow.
    """
    if not m.has_flow:
        raise HTTPException(404, detail="flow: this server keeps no flow windows")
    if window is None:
        return "15m" if "15m" in m.flow else m.flow[0]
    kept = m.config.stored_intervals if intervals else m.flow
    if window not in kept:
        raise ParamError(name, f"{window!r} is not kept; the {name}s are {', '.join(kept)}")
    return window


def to_datetime(ms: int) -> datetime:
    """A UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def finite(x: float) -> float | None:
    """``x``, or ``None`` for NaN or an infinity (JSON has neither)."""
    return x if x == x and x not in (float("inf"), float("-inf")) else None


def exact(d: Decimal | Any) -> str | None:
    """An exact decimal as a plain string (``None`` for NaN)."""
    if isinstance(d, Decimal):
        if d.is_nan():
            return None
        return format(d, "f")
    return str(d)
