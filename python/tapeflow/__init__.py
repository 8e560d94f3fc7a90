"""tapeflow: exact local order books, taker buy/sell flow and liquidation heatmaps for Binance market data.

The engine is Rust (``tapeflow._core``, never imported directly); this package re-exports its public types and adds
the asyncio I/O shell, the command line and the local exchange simulator.
"""

from __future__ import annotations

from tapeflow._core import (
    Action,
    Band,
    BatchResult,
    BigTrade,
    BookGap,
    BookSynced,
    BookTrace,
    BookView,
    CheckpointDraft,
    CheckpointDrafter,
    ControlReply,
    Engine,
    EngineStats,
    FlowStats,
    LiqCluster,
    LiqStats,
    LiqTotal,
    Liquidation,
    ServerShutdown,
    SnapshotNeeded,
    SyncState,
    TradeGap,
    TradesPage,
    Volume,
    __version__,
)
from tapeflow.clock import FunctionClock, SystemClock
from tapeflow.errors import (
    BackfillError,
    BookError,
    BookNotSyncedError,
    CheckpointError,
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
    "BigTrade",
    "BookError",
    "BookGap",
    "BookNotSyncedError",
    "BookSynced",
    "BookTrace",
    "BookView",
    "CheckpointDraft",
    "CheckpointDrafter",
    "CheckpointError",
    "ConnectionOptions",
    "ControlReply",
    "DecodeError",
    "Engine",
    "EngineStats",
    "FeedError",
    "FlowStats",
    "FunctionClock",
    "LiqCluster",
    "LiqStats",
    "LiqTotal",
    "Liquidation",
    "Monitor",
    "MonitorEvent",
    "MonitorStatus",
    "RestError",
    "ServerShutdown",
    "SnapshotNeeded",
    "SyncState",
    "SystemClock",
    "TapeflowError",
    "TradeGap",
    "TradesPage",
    "UnknownSymbolError",
    "Volume",
    "WebSocketProtocolError",
    "__version__",
]
