"""Transports: how WebSocket bytes reach the feed (see :mod:`tapeflow.feeds.transports.base`).

``"websockets"`` (the default) uses the ``websockets`` library; ``"picows"`` uses ``picows`` (the ``tapeflow[picows]``
extra), a faster client written in Cython; ``"native"`` parses the WebSocket framing in the engine's Rust code
(``tapeflow._core.WsReader``), one call per socket read instead of one Python callback per frame, with no dependency
beyond tapeflow itself.
"""

from __future__ import annotations

import importlib

from tapeflow.feeds.transports.base import FrameBuffer, Link, LinkClosed, Transport
from tapeflow.feeds.transports.native import NativeTransport
from tapeflow.feeds.transports.websockets import WebsocketsTransport

__all__ = [
    "TRANSPORTS",
    "FrameBuffer",
    "Link",
    "LinkClosed",
    "NativeTransport",
    "Transport",
    "WebsocketsTransport",
    "resolve_transport",
]

#: Transport names accepted by :func:`resolve_transport`.
TRANSPORTS = ("websockets", "picows", "native")


def resolve_transport(transport: str | Transport | None = None) -> Transport:
    """The transport called ``transport`` (``None``: ``"websockets"``), or ``transport`` itself if it is one.

    Raises:
        ValueError: for an unknown name.
        ImportError: for ``"picows"`` without the ``picows`` package (``pip install tapeflow[picows]``).
    """
    if transport is None or transport == "websockets":
        return WebsocketsTransport()
    if transport == "native":
        return NativeTransport()
    if transport == "picows":
        module = importlib.import_module("tapeflow.feeds.transports.picows")  # optional dependency: loaded on demand
        picows: Transport = module.PicowsTransport()
        return picows
    if isinstance(transport, str):
        raise ValueError(f"unknown transport {transport!r}: expected one of {', '.join(TRANSPORTS)}")
    return transport
