"""The transport seam: how bytes come off a WebSocket, kept apart from the connection logic.

A :class:`Transport` opens :class:`Link` objects; a link hands over every complete data frame received so far as one
batch of ``bytes`` (no decoding, no JSON), sends control messages and pings, and closes. Keepalive is the library's:
a server ping is answered from the protocol callback, so it never waits for the engine.

Every transport collects frames in a :class:`FrameBuffer`: the one place that joins fragments, wakes the receive
task, and pauses reading at a high-water mark until the batch is taken (back-pressure reaches the TCP window instead
of memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from tapeflow.errors import FeedError

__all__ = ["FrameBuffer", "Link", "LinkClosed", "Transport"]


class LinkClosed(FeedError):
    """The connection is gone (closed by either side, reset, or failed)."""


class Link(Protocol):
    """One open WebSocket connection."""

    url: str

    async def recv_batch(self) -> list[bytes]:
        """Waits for data and returns every complete frame received so far, oldest first.

        Raises:
            LinkClosed: once the connection is gone and every frame was handed over.
        """
        ...

    async def send_text(self, text: str) -> None:
        """Sends one text frame (a control message)."""
        ...

    async def ping(self) -> Awaitable[float]:
        """Sends a ping; the returned awaitable ends (with the latency) when its pong arrives."""
        ...

    async def close(self) -> None:
        """Closes cleanly (close frame), waiting a short while at most."""
        ...

    def abort(self) -> None:
        """Drops the TCP connection at once."""
        ...


class Transport(Protocol):
    """Opens links."""

    name: str

    async def connect(self, url: str, *, open_timeout: float = 10.0) -> Link:
        """Opens a connection. Raises ``OSError`` or :class:`LinkClosed` on failure."""
        ...


class FrameBuffer:
    """Frames received and not taken yet, filled from a protocol callback and emptied by the receive task.

    Args:
        url: the connection's URL (for messages).
        pause / resume: stop and restart reading the socket (``asyncio.Transport.pause_reading``...).
    """

    #: Frames held before reading pauses; it resumes when the batch is taken.
    HIGH = 50_000

    __slots__ = ("_pause", "_resume", "closed", "fragments", "frames", "paused", "reason", "url", "waiter")

    def __init__(self, url: str, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self.url = url
        self.frames: list[bytes] = []
        self.fragments: list[bytes] = []
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False
        self.closed = False
        self.reason = "closed"
        self._pause = pause
        self._resume = resume

    def push(self, frame: bytes) -> None:
        """Adds one whole frame (the hot path of per-frame transports)."""
        self.frames.append(frame)
        self._added()

    def extend(self, frames: list[bytes]) -> None:
        """Adds several whole frames (one socket read of a transport that parses framing in bulk)."""
        if not frames:
            return
        if self.frames:
            self.frames += frames
        else:
            self.frames = frames
        self._added()

    def _added(self) -> None:
        """Wakes the receive task, and pauses reading past the high-water mark."""
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)
        if len(self.frames) > self.HIGH and not self.paused:
            self.paused = True
            self._pause()

    def fragment(self, data: bytes, fin: bool) -> None:
        """Adds a data frame that may be one fragment of a message (RFC 6455 §5.4): fragments are joined."""
        if fin and not self.fragments:
            self.push(data)
        elif fin:
            self.fragments.append(data)
            joined = b"".join(self.fragments)
            self.fragments.clear()
            self.push(joined)
        else:
            self.fragments.append(data)

    def close(self, reason: str | None = None) -> None:
        """The connection is gone: the receive task gets what is left, then :class:`LinkClosed`."""
        self.closed = True
        if reason is not None:
            self.reason = reason
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def take(self) -> list[bytes]:
        """Waits for frames and returns all of them (see :meth:`Link.recv_batch`)."""
        while not self.frames:
            if self.closed:
                raise LinkClosed(f"connection to {self.url} closed ({self.reason})")
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        batch, self.frames = self.frames, []
        if self.paused:
            self.paused = False
            if not self.closed:
                self._resume()
        return batch
