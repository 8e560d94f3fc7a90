"""Stream connections: one self-healing combined-stream connection and its parts.

:mod:`~tapeflow.feeds.connection` runs a connection; the pure rules it follows are separate modules —
:mod:`~tapeflow.feeds.backoff` (reconnect delays), :mod:`~tapeflow.feeds.liveness` (zombies, silent kinds, pings),
:mod:`~tapeflow.feeds.subscribe` (URL and ``SUBSCRIBE`` packing, request ids) — and the bytes come through a
transport (:mod:`tapeflow.feeds.transports`).
"""

from tapeflow.feeds.connection import FeedConnection
from tapeflow.feeds.options import ConnectionOptions
from tapeflow.feeds.status import ConnectionStatus
from tapeflow.feeds.transports import (
    Link,
    LinkClosed,
    NativeTransport,
    Transport,
    WebsocketsTransport,
    resolve_transport,
)

__all__ = [
    "ConnectionOptions",
    "ConnectionStatus",
    "FeedConnection",
    "Link",
    "LinkClosed",
    "NativeTransport",
    "Transport",
    "WebsocketsTransport",
    "resolve_transport",
]
