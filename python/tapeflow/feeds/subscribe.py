"""Subscribing streams on a combined connection (pure): what fits in the URL, ``SUBSCRIBE`` / ``UNSUBSCRIBE``
messages, and their request ids.

Binance takes a connection's first streams in the URL (``/stream?streams=a/b/...``) and more through
``{"method": "SUBSCRIBE", "params": [...], "id": n}`` messages; each reply carries the request's id. Ids are numbered
per connection as ``connection id x 1,000,000 + n``, so a reply read from the engine's actions finds its connection.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

__all__ = ["PER_REQUEST", "URL_BUDGET", "RequestIds", "control_message", "pack_requests", "split_for_url"]

URL_BUDGET = 3000  # characters of stream names put in the URL; the rest is subscribed
PER_REQUEST = 200  # stream names per SUBSCRIBE / UNSUBSCRIBE message
_ID_SPAN = 1_000_000

Request = tuple[str, list[str]]


def split_for_url(names: Sequence[str], budget: int = URL_BUDGET) -> tuple[list[str], list[str]]:
    """``(in_url, rest)``: the first names whose total length (with separators) fits in ``budget``, then the rest."""
    size = 0
    n = 0
    for name in names:
        if size + len(name) + 1 > budget:
            break
        size += len(name) + 1
        n += 1
    return list(names[:n]), list(names[n:])


def pack_requests(method: str, names: Sequence[str], per_request: int = PER_REQUEST) -> list[Request]:
    """``(method, names)`` messages for ``names``, at most ``per_request`` names each (none for no names)."""
    return [(method, list(names[i : i + per_request])) for i in range(0, len(names), per_request)]


def control_message(method: str, names: Sequence[str], request_id: int) -> str:
    """The JSON text of one control message."""
    return orjson.dumps({"method": method, "params": list(names), "id": request_id}).decode()


class RequestIds:
    """Request ids of one connection (``connection x 1,000,000 + n``), and the connection of any reply's id."""

    def __init__(self, connection: int) -> None:
        self.connection = connection
        self._n = 0

    def next(self) -> int:
        self._n = self._n % (_ID_SPAN - 1) + 1
        return self.connection * _ID_SPAN + self._n

    @staticmethod
    def connection_of(request_id: int) -> int:
        """The connection that sent the request ``request_id``."""
        return request_id // _ID_SPAN
