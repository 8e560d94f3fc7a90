"""Stream connections: names and routes, the transport seam, one self-healing connection, the engine worker."""

from tapeflow.feeds.clock import Clock, FunctionClock, SystemClock
from tapeflow.feeds.connection import ConnectionOptions, ConnectionStatus, FeedConnection
from tapeflow.feeds.streams import MARKETS, MarketSpec, kind_of, plan_shards, route_of, stream_url
from tapeflow.feeds.transport import Link, LinkClosed, NativeTransport, PicowsTransport, Transport, WebsocketsTransport

__all__ = [
    "MARKETS",
    "Clock",
    "ConnectionOptions",
    "ConnectionStatus",
    "FeedConnection",
    "FunctionClock",
    "Link",
    "LinkClosed",
    "MarketSpec",
    "NativeTransport",
    "PicowsTransport",
    "SystemClock",
    "Transport",
    "WebsocketsTransport",
    "kind_of",
    "plan_shards",
    "route_of",
    "stream_url",
]
