"""Reconnect delays: jittered exponential backoff that never gives up (pure; the caller sleeps).

After a session that delivered data the next attempt comes quickly (``base`` x jitter); every failed attempt in a row
doubles the delay up to ``max``. The jitter (x 0.5 to 1) spreads a mass reconnect of many connections over time, so
they do not hit the exchange's connection limit together (the "full jitter" family of AWS's backoff study, bounded
below so a delay is never zero).
"""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["backoff_delay"]


def backoff_delay(
    failures: int, base_s: float, max_s: float, jitter: Callable[[float, float], float] = random.uniform
) -> float:
    """Seconds to wait before the next attempt after ``failures`` failed attempts in a row (0: the last session
    delivered data)."""
    scale = jitter(0.5, 1.0)
    if failures <= 0:
        return base_s * scale
    return min(max_s, base_s * (1 << min(failures - 1, 62))) * scale
