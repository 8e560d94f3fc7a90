"""Timing of a feed connection (seconds on the feed's clock unless said otherwise)."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["ConnectionOptions"]


@dataclass(frozen=True)
class ConnectionOptions:
    """Timing of a connection.

    Attributes:
        silence_s: no frame at all for this long → zombie, replaced.
        verify_s: a stream kind that delivered nothing for this long while the canary did → silent on its route.
        ping_interval_s: how often the client pings.
        pong_timeout_s: a ping unanswered for this long → dead, replaced.
        rotate_after_s: age at which the connection is rotated make-before-break (Binance cuts at 24 h).
        overlap_s: how long the replacement delivers before the old connection closes.
        backoff_base_s / backoff_max_s: reconnect delay grows from base to max (x 0.5 to 1 jitter).
        connect_timeout_s: handshake timeout (real seconds).
        check_s: period of the liveness checks.
    """

    silence_s: float = 10.0
    verify_s: float = 30.0
    ping_interval_s: float = 30.0
    pong_timeout_s: float = 10.0
    rotate_after_s: float = 23 * 3600.0
    overlap_s: float = 2.0
    backoff_base_s: float = 0.25
    backoff_max_s: float = 30.0
    connect_timeout_s: float = 10.0
    check_s: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"ConnectionOptions.{f.name} must be a number of seconds > 0, got {value!r}")
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError("ConnectionOptions.backoff_max_s must be at least backoff_base_s")
