"""Make-before-break rotation of a connection's session (before Binance's 24 h cut, or on ``serverShutdown``).

A second session opens with the same streams while the old one keeps delivering; the new one's frames are held back.
Once it has delivered for ``overlap_s``, the old session is stopped, the held frames are fed in order (without those
whose bytes the old session already delivered, for streams the engine cannot deduplicate by id), and the new session
delivers directly. If the new session never delivers, it is dropped and the old one carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from tapeflow.clock import Clock
from tapeflow.feeds.options import ConnectionOptions
from tapeflow.feeds.sender import Sender
from tapeflow.feeds.session import Session

__all__ = ["Rotating", "rotate"]

log = logging.getLogger("tapeflow.feeds")


class Rotating(Protocol):
    """What rotation needs of a connection."""

    id: int
    state: str
    session: Session | None
    receiver: asyncio.Task[None]
    streams: dict[str, None]
    rotations: int
    clock: Clock
    options: ConnectionOptions
    sender: Sender

    @property
    def fragile(self) -> bool: ...

    async def open_session(self) -> tuple[Session, list[str]]: ...

    def start_receiver(self, s: Session) -> asyncio.Task[None]: ...

    def deliver(self, batch: list[bytes], recv_ms: int) -> None: ...


async def rotate(conn: Rotating, old: Session, old_receiver: asyncio.Task[None]) -> None:
    """Rotates ``conn`` from its session ``old`` (received by ``old_receiver``) to a new one."""
    conn.state = "rotating"
    before = set(conn.streams)
    try:
        new, rest = await conn.open_session()
    except Exception as e:  # the old session carries on; the next check tries again
        log.info("connection %d: rotation failed to connect: %s", conn.id, e)
        conn.state = "open"
        return
    new.held = []
    if conn.fragile:
        old.seen = set()
    receiver = conn.start_receiver(new)
    switched = False
    try:
        switched = await _overlap_and_switch(conn, old, new, rest, old_receiver, receiver)
    finally:
        if not switched:  # given up, or stopped meanwhile: the new link goes, the old one carries on
            receiver.cancel()
            new.link.abort()
            old.seen = None
            await asyncio.wait([receiver])
            if not receiver.cancelled():
                receiver.exception()  # the new link's end is expected here: read, not logged as lost
    conn.state = "open"
    if not switched:
        return
    conn.rotations += 1
    # Streams added or removed while the new session was being set up went to the old one only.
    conn.sender.queue("SUBSCRIBE", [n for n in conn.streams if n not in before])
    conn.sender.queue("UNSUBSCRIBE", [n for n in before if n not in conn.streams])
    await old.link.close()


async def _overlap_and_switch(
    conn: Rotating,
    old: Session,
    new: Session,
    rest: list[str],
    old_receiver: asyncio.Task[None],
    receiver: asyncio.Task[None],
) -> bool:
    """Subscribes ``rest`` on the new session, waits out the overlap and switches to it; ``False`` if the new
    session never delivered."""
    await conn.sender.subscribe_now(new.link, rest)
    clock, o = conn.clock, conn.options
    start = clock.now_ms()
    deadline = start + max(o.overlap_s * 1000, 1) + o.silence_s * 1000
    while clock.now_ms() < deadline:
        if receiver.done() or old_receiver.done():
            break
        if new.times.frames and clock.now_ms() - start >= o.overlap_s * 1000:
            break
        await clock.sleep(min(0.1, o.check_s))
    if receiver.done() or not new.times.frames:
        return False
    # Switch: stop the old session, feed what the new one held (in order), then let it deliver directly.
    old_receiver.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await old_receiver
    seen, old.seen = old.seen, None
    held = new.take_held(seen)
    if seen is not None:
        new.dedupe = seen
        new.dedupe_until_ms = clock.now_ms() + int(o.overlap_s * 1000) + 5000
    conn.session = new  # before the held frames go on, so that they are seen as the new link's
    conn.receiver = receiver
    for batch, t in held:
        conn.deliver(batch, t)
    return True
