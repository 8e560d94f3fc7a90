"""Side-by-side timing: every contender once per round, the order rotated each round (ABC, BCA, CAB, ...), so that
drift of the machine spreads over all of them; the figure is the median round."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def timed(run: Callable[[], None]) -> float:
    """Seconds of one call, with the garbage collector paused (as pytest-benchmark and pyperf do)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start
    finally:
        gc.enable()


def interleaved(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each contender returns the seconds of its timed part (its set-up is its own business, untimed)."""
    names = list(contenders)
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            out[name].append(contenders[name]())
    return out


def summary(seconds: list[float], items: int) -> dict[str, float | int | list[float]]:
    median = statistics.median(seconds)
    return {"items": items, "median_s": median, "rate": items / median, "rounds_s": [round(s, 6) for s in seconds]}
