"""Liveness of a stream session by expected activity (pure: times in, a verdict out; the connection acts on it).

Every connection carries a canary stream with a fixed cadence (or an all-market array that has one), so a session
that delivers nothing for ``silence_s`` is a zombie and is replaced, whatever its pings say; its own pings must be
answered within ``pong_timeout_s``. Each stream kind on it must deliver at least once within ``verify_s`` while the
canary does, else the kind is reported as silent on its route (a USD-M stream on the wrong route is acknowledged and
never delivers). A clock that jumps (a suspended machine, a virtual clock skipping ahead) restarts the deadlines
instead of condemning a session that had no chance to deliver.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tapeflow.feeds.options import ConnectionOptions
from tapeflow.markets import kind_of

__all__ = ["SPARSE_KINDS", "SessionTimes", "Verdict", "expected_kinds", "hear", "judge"]

#: Kinds that may stay silent for long (judged by the canary only).
SPARSE_KINDS = frozenset({"forceOrder"})


@dataclass
class SessionTimes:
    """What liveness knows of one session (ms on the feed's clock).

    Attributes:
        unverified: stream kinds that have not delivered yet, with the bytes that show one of their frames.
    """

    opened_ms: int
    last_frame_ms: int
    frames: int = 0
    ping_sent_ms: int = 0
    pong_pending: bool = False
    last_check_ms: int = 0
    unverified: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """What to do after a check: replace the session (``dead`` says why), send a ping, report silent kinds."""

    dead: str | None = None
    ping: bool = False
    silent: tuple[str, ...] = ()


def expected_kinds(streams: Iterable[str]) -> dict[str, bytes]:
    """The kinds of ``streams`` that must deliver (sparse kinds excluded), with the marker that shows a frame of each:
    ``@aggTrade`` in a per-symbol stream name (``!aggTrade`` is checked too, for all-market arrays)."""
    kinds = {kind_of(s) for s in streams}
    return {k: b"@" + k.encode() for k in kinds if k not in SPARSE_KINDS}


def hear(t: SessionTimes, frames: list[bytes]) -> None:
    """Marks the kinds that ``frames`` show as verified (called per batch only while some are unverified)."""
    joined = b"".join(frames)
    for kind, marker in list(t.unverified.items()):
        if marker in joined or b"!" + marker[1:] in joined:
            del t.unverified[kind]


def judge(t: SessionTimes, rules: ConnectionOptions, now: int, reported: set[str]) -> Verdict:
    """Checks a session at ``now``; ``reported`` holds the kinds already reported silent on this connection (the
    verdict's ``silent`` are new ones). Updates ``t`` for clock jumps and the ping it asks for."""
    silence = rules.silence_s * 1000
    if t.last_check_ms and now - t.last_check_ms > silence:
        t.last_frame_ms = max(t.last_frame_ms, now)
        if t.pong_pending:
            t.ping_sent_ms = now
    t.last_check_ms = now
    if now - t.last_frame_ms > silence and now - t.opened_ms > silence:
        return Verdict(dead=f"silent for {(now - t.last_frame_ms) / 1000:.1f}s")
    if t.pong_pending and now - t.ping_sent_ms > rules.pong_timeout_s * 1000:
        return Verdict(dead="ping not answered")
    ping = not t.pong_pending and now - max(t.ping_sent_ms, t.opened_ms) >= rules.ping_interval_s * 1000
    if ping:
        t.ping_sent_ms = now
    silent: tuple[str, ...] = ()
    if t.unverified and t.frames and now - t.opened_ms > rules.verify_s * 1000:
        silent = tuple(k for k in t.unverified if k not in reported)
    return Verdict(ping=ping, silent=silent)
