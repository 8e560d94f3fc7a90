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
from tapeflow.clock import FunctionClock, SystemClock
from tapeflow.errors import (
    BackfillError,
    BookError,
    BookNotSyncedError,
    DecodeError,
    FeedError,
    RestError,
    TapeflowError,
    UnknownSymbolError,
    WebSocketProtocolError,
)
from tapeflow.feeds.options import ConnectionOptions
from tapeflow.monitor import Monitor, MonitorEvent, MonitorStatus

__all__ = [
    "Action",
    "BackfillError",
    "Band",
    "BatchResult",
    "BookError",
    "BookNotSyncedError",
    "BookView",
    "ConnectionOptions",
    "DecodeError",
    "Engine",
    "FeedError",
    "FunctionClock",
    "LiqCluster",
    "LiqTotal",
    "Liquidation",
    "Monitor",
    "MonitorEvent",
    "MonitorStatus",
    "RestError",
    "SyncState",
    "SystemClock",
    "TapeflowError",
    "UnknownSymbolError",
    "Volume",
    "WebSocketProtocolError",
    "__version__",
]
