"""The outgoing side of a connection: control messages and pings, paced under the exchange's message limit.

Binance counts every incoming message of a connection (pings, pongs and control messages alike) against a rate of
5 per second on spot and 10 on futures, and closes a connection that goes faster; the sender stays at half of it. It
serves whichever session is current, so a rotation's new session takes over the queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tapeflow._aio import retrieved
from tapeflow.feeds.session import Session
from tapeflow.feeds.subscribe import RequestIds, control_message, pack_requests
from tapeflow.feeds.transports.base import Link, LinkClosed

__all__ = ["Sender"]


class Sender:
    """A queue of ``SUBSCRIBE`` / ``UNSUBSCRIBE`` messages and pings for the current session of one connection.

    Args:
        ids: the connection's request ids.
        msg_rate: the market's incoming-message limit per second.
        session: returns the current session (``None`` between sessions).
    """

    def __init__(self, ids: RequestIds, msg_rate: int, session: Callable[[], Session | None]) -> None:
        self.ids = ids
        self.interval = 2.0 / msg_rate
        self._session = session
        self.pending: list[tuple[str, list[str]]] = []  # (method, streams) still to send
        #: Requests sent and not answered yet, by request id: ``(method, streams)``.
        self.sent: dict[int, tuple[str, list[str]]] = {}
        self._wake = asyncio.Event()

    def reset(self, subscribe: list[str]) -> None:
        """A new session: forget what was queued for the old one, subscribe ``subscribe``."""
        self.pending = pack_requests("SUBSCRIBE", subscribe)
        self._wake.set()

    def queue(self, method: str, names: list[str]) -> None:
        """Queues ``method`` for ``names`` (split into messages of at most 200 names)."""
        if names:
            self.pending += pack_requests(method, names)
            self._wake.set()

    def ping(self) -> None:
        self.pending.append(("PING", []))
        self._wake.set()

    async def request(self, link: Link, method: str, names: list[str]) -> None:
        """Sends one message now with a fresh request id (raises :class:`LinkClosed`)."""
        rid = self.ids.next()
        if len(self.sent) > 1000:  # answers that never came (a session that ended): keep the newest
            for old in list(self.sent)[:500]:
                del self.sent[old]
        self.sent[rid] = (method, names)
        await link.send_text(control_message(method, names, rid))

    async def subscribe_now(self, link: Link, names: list[str]) -> None:
        """Subscribes ``names`` on ``link`` (a session not current yet), paced; a closing link is skipped."""
        for method, chunk in pack_requests("SUBSCRIBE", names):
            try:
                await self.request(link, method, chunk)
            except LinkClosed:
                return
            await asyncio.sleep(self.interval)

    async def run(self) -> None:
        """Sends the queue, paced, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.pending:
                method, names = self.pending.pop(0)
                s = self._session()
                if s is None:
                    break
                try:
                    if method == "PING":
                        pong = await s.link.ping()
                        if isinstance(pong, asyncio.Future):  # a link that closes fails it; judged by done()
                            pong.add_done_callback(retrieved)
                        s.pong = pong
                    else:
                        await self.request(s.link, method, names)
                except LinkClosed:
                    continue  # this link is going; the sender serves the session that follows (a rotation)
                await asyncio.sleep(self.interval)
