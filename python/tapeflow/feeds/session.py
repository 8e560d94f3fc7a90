"""One session of a connection: its link, its liveness times, and the receive loop that hands frames on.

The receive task does nothing but take batches off the link and pass them on. During a make-before-break rotation
the new session's frames are *held* until the switch, and frames of streams the engine cannot deduplicate by id
(liquidations, mark prices, tickers) are dropped when their bytes were already delivered by the old session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tapeflow.clock import Clock
from tapeflow.feeds.liveness import SessionTimes, hear
from tapeflow.feeds.transports.base import Link

__all__ = ["FRAGILE_KINDS", "Session", "receive"]

#: Kinds whose frames the engine cannot deduplicate by id.
FRAGILE_KINDS = frozenset({"forceOrder", "markPrice", "miniTicker", "ticker", "kline"})


@dataclass
class Session:
    """One WebSocket session of a connection."""

    link: Link
    times: SessionTimes
    in_url: tuple[str, ...] = ()  # the streams named in the URL: live once the session delivers
    pong: Awaitable[float] | None = None
    held: list[tuple[list[bytes], int]] | None = None  # frames held back during a rotation
    seen: set[bytes] | None = None  # fragile frames delivered, recorded during a rotation
    dedupe: set[bytes] | None = None  # frames to drop (already delivered by the previous session)
    dedupe_until_ms: int = 0

    @property
    def opened_ms(self) -> int:
        return self.times.opened_ms

    def take_held(self, seen: set[bytes] | None) -> list[tuple[list[bytes], int]]:
        """The frames held during a rotation, without those in ``seen`` (delivered by the old session), and
        starts delivering directly."""
        held, self.held = self.held or [], None
        if seen is None:
            return held
        out = []
        for batch, t in held:
            kept = [f for f in batch if f not in seen]
            if kept:
                out.append((kept, t))
        return out


async def receive(s: Session, clock: Clock, deliver: Callable[[list[bytes], int], None]) -> None:
    """Takes batches off ``s.link`` until it closes, calling ``deliver(frames, recv_ms)`` for each."""
    t = s.times
    while True:
        batch = await s.link.recv_batch()
        now = clock.now_ms()
        t.frames += len(batch)
        t.last_frame_ms = now
        if t.unverified:
            hear(t, batch)
        if s.seen is not None:
            s.seen.update(batch)
        if s.dedupe is not None:
            if now > s.dedupe_until_ms:
                s.dedupe = None
            else:
                batch = [f for f in batch if f not in s.dedupe]
                if not batch:
                    continue
        if s.held is not None:
            s.held.append((batch, now))
            continue
        deliver(batch, now)
