"""What a connection reports about itself: counters, rates and lag (see :meth:`tapeflow.Monitor.status`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConnectionStatus", "Meter"]


@dataclass(frozen=True)
class ConnectionStatus:
    """The state of one connection.

    Attributes:
        id: connection number.
        route: ``"public"``, ``"market"`` or ``""``.
        url: the URL of the current session.
        state: ``"connecting"``, ``"open"``, ``"rotating"``, ``"backoff"`` or ``"closed"``.
        streams: number of streams (canary included).
        frames: frames received since start (all sessions).
        frames_per_s: frames per second over the last check period (feed clock).
        lag_ms: receive time - event time of the last event of the last batch the engine applied (ms); ``None``
            before data.
        lag_max_ms: the largest lag seen.
        reconnects: sessions opened after the first one (rotations excluded).
        rotations: make-before-break rotations done.
        zombies: sessions replaced because they went silent or stopped answering pings.
        age_s: age of the current session.
        last_frame_age_s: time since the last frame.
        silent_kinds: stream kinds that have not delivered on this session yet (past ``verify_s`` they count as
            silent on their route).
        control_errors: error replies to SUBSCRIBE/UNSUBSCRIBE.
    """

    id: int
    route: str
    url: str
    state: str
    streams: int
    frames: int
    frames_per_s: float
    lag_ms: int | None
    lag_max_ms: int | None
    reconnects: int
    rotations: int
    zombies: int
    age_s: float
    last_frame_age_s: float | None
    silent_kinds: tuple[str, ...]
    control_errors: int


class Meter:
    """Frames delivered, their rate over at least a second, and the lag (receive time - event time)."""

    __slots__ = ("_rate_frames", "_rate_ms", "frames", "lag_max_ms", "lag_ms", "rate")

    def __init__(self) -> None:
        self.frames = 0
        self.rate = 0.0
        self.lag_ms: int | None = None
        self.lag_max_ms: int | None = None
        self._rate_frames = 0
        self._rate_ms = 0

    def record_lag(self, lag: int) -> None:
        """Notes the lag of a batch (ms)."""
        self.lag_ms = lag
        if self.lag_max_ms is None or lag > self.lag_max_ms:
            self.lag_max_ms = lag

    def tick(self, now: int) -> None:
        """Updates the rate at a check (over the time since the last update, once it is at least a second)."""
        if not self._rate_ms:
            self._rate_frames, self._rate_ms = self.frames, now
            return
        span = now - self._rate_ms
        if span >= 1000:
            self.rate = (self.frames - self._rate_frames) * 1000 / span
            self._rate_frames, self._rate_ms = self.frames, now
