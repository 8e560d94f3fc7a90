"""tapeflow: exact local order books, taker buy/sell flow and liquidation heatmaps for Binance market data.

The engine is Rust (``tapeflow._core``, never imported directly); this package re-exports its public types and adds
the asyncio I/O shell, the command line and the local exchange simulator.
"""

from __future__ import annotations

from tapeflow._core import (
    Action,
    Band,
    BatchResult,
    BookView,
    Engine,
    LiqCluster,
    LiqTotal,
    Liquidation,
    SyncState,
    Volume,
    __version__,
)
from tapeflow.errors import BookError, BookNotSyncedError, DecodeError, TapeflowError, UnknownSymbolError

__all__ = [
    "Action",
    "Band",
    "BatchResult",
    "BookError",
    "BookNotSyncedError",
    "BookView",
    "DecodeError",
    "Engine",
    "LiqCluster",
    "LiqTotal",
    "Liquidation",
    "SyncState",
    "TapeflowError",
    "UnknownSymbolError",
    "Volume",
    "__version__",
]
