"""The IP's REST request weight over the last minute (pure: times in, decisions out; the REST client waits).

Binance counts request weight per IP per minute and reports it in ``X-MBX-USED-WEIGHT-1M`` on every reply. Over the
limit it answers 429 (with ``Retry-After``); an IP that keeps going gets 418 and a ban of 2 minutes up to 3 days.

The exchange counts its own calendar minutes, when a request reaches it; the feed clock's minutes are not quite its
own (the clocks may differ by a few seconds: the local exchange on a loaded machine falls behind the speed asked of
it), and a request sent at the end of a minute may be counted at the start of the next. So the budget does not
count calendar minutes: it admits a request only while the weight this client sent in the last 60 s, plus what
others on the IP spent, stays within ``safety`` x the limit. Any 60 s, and so any minute of the exchange whatever
its offset, then holds at most that much of this client's weight; a start-up spends the allowance at once and then
as the requests of a minute before age out, which is the pace the weight limit allows.

The header tells what others spent: its count beyond this client's own requests of the last 60 s plus a round trip
(the most of its own that the exchange's current minute can hold), counted for the 60 s after it was seen. Taken
whole, the header would count this client's own weight twice and stall it for a minute it has not spent. After a
429 or 418 nothing is admitted until ``Retry-After`` has passed (or the next minute, when the header is absent:
futures do not document it).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping

__all__ = ["ROUND_TRIP_S", "WeightBudget", "in_flight_for", "retry_after_s"]

#: The round trip a REST request is planned for, in the feed clock's seconds: a distant or busy exchange (and the
#: local simulator on a loaded machine, whose seconds may run faster than real ones) answers within it.
ROUND_TRIP_S = 5.0

_HEADER = "x-mbx-used-weight-"

#: The span the allowance holds for (ms).
_WINDOW_MS = 60_000
#: How far back this client's own requests may still be counted in the exchange's current minute (ms).
_OWN_WINDOW_MS = _WINDOW_MS + int(ROUND_TRIP_S * 1000)


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds, or ``None`` if absent or not a number."""
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


class _Spent:
    """This client's requests of the last ``span_ms``, with their sum."""

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self.items: deque[tuple[int, int]] = deque()  # (time, weight), oldest first
        self.total = 0

    def add(self, now_ms: int, weight: int) -> None:
        self.items.append((now_ms, weight))
        self.total += weight

    def expire(self, now_ms: int) -> None:
        """Forgets what is older than the span, and what a clock that has since moved back puts more than a span
        ahead (a Monitor's first request goes out on the system clock, before it has learnt the exchange's)."""
        items, span = self.items, self.span_ms
        while items and not now_ms - span < items[0][0] <= now_ms + span:
            self.total -= items.popleft()[1]

    def freed_after(self, need: float, now_ms: int) -> int:
        """The ms until at least ``need`` of the weight has aged out (all of it, if it holds less)."""
        if need <= 0:
            return 0
        freed, last = 0, now_ms - self.span_ms
        for t, w in self.items:
            freed, last = freed + w, t
            if freed >= need:
                break
        return last + self.span_ms - now_ms


class WeightBudget:
    """The weight budget of one IP.

    Args:
        limit: request weight per minute (updated from ``exchangeInfo``).
        safety: fraction of the limit this client allows itself (the rest is left for other programs on the IP).
    """

    def __init__(self, limit: int, safety: float = 0.8) -> None:
        if not 0 < safety <= 1:
            raise ValueError(f"weight_safety must be in (0, 1], got {safety!r}")
        self.limit = limit
        self.safety = safety
        self.paused_until_ms = 0
        self._last_ms: int | None = None  # the latest time seen, to notice a clock that moves back
        #: The last ``X-MBX-USED-WEIGHT-*`` values by interval (``"1m"``...).
        self.used_weight: dict[str, int] = {}
        self._window = _Spent(_WINDOW_MS)  # what the allowance counts
        self._recent = _Spent(_OWN_WINDOW_MS)  # what the exchange's current minute may still hold
        self._others = 0  # spent by others on the IP, as the header showed
        self._others_until = 0

    def _expire(self, now_ms: int) -> None:
        last, self._last_ms = self._last_ms, now_ms
        if last is not None and now_ms < last < self.paused_until_ms:
            # The clock moved back (the system clock's first request, then the exchange's): a pause keeps what was
            # left of it, rather than lasting until the new clock reaches the old one's deadline.
            self.paused_until_ms -= last - now_ms
        self._window.expire(now_ms)
        self._recent.expire(now_ms)
        if not now_ms < self._others_until <= now_ms + _WINDOW_MS:
            self._others = 0

    def used(self, now_ms: int) -> int:
        """Weight used in the last 60 s, as far as this client knows (its own and what others spent)."""
        self._expire(now_ms)
        return self._window.total + self._others

    def admit(self, weight: int, now_ms: int) -> int:
        """Spends ``weight`` now and returns 0, or returns the ms to wait before asking again (spending nothing).

        A request heavier than the whole allowance goes alone once nothing else counts, so it is never refused
        forever."""
        self._expire(now_ms)
        if now_ms < self.paused_until_ms:
            return self.paused_until_ms - now_ms
        used = self._window.total + self._others
        allowance = self.limit * self.safety
        if used + weight <= allowance or used == 0:
            self._window.add(now_ms, weight)
            self._recent.add(now_ms, weight)
            return 0
        # Wait until enough of this client's weight has aged out, or what others spent with it (it ages out with
        # the exchange's minute), whichever comes first.
        excess = used + weight - allowance
        own_only = self._window.freed_after(excess, now_ms) if excess <= self._window.total else None
        with_others = None
        if self._others:
            with_others = max(self._others_until - now_ms, self._window.freed_after(excess - self._others, now_ms))
        waits = [w for w in (own_only, with_others) if w is not None]
        wait = min(waits) if waits else self._window.freed_after(self._window.total, now_ms)
        return max(1, wait)

    def note_reply(self, status: int, headers: Mapping[str, str], now_ms: int) -> float | None:
        """Takes the used-weight headers of a reply, and the pause a 429 or 418 imposes; returns ``Retry-After``."""
        self._expire(now_ms)
        for name, value in headers.items():
            low = name.lower()
            if low.startswith(_HEADER) and value.isdigit():
                interval = low[len(_HEADER) :]
                self.used_weight[interval] = int(value)
                others = int(value) - self._recent.total
                if interval == "1m" and others > self._others:
                    self._others, self._others_until = others, now_ms + _WINDOW_MS
        retry_after = retry_after_s(headers)
        if status in (418, 429):
            wait_ms = retry_after * 1000 if retry_after is not None else 60_000 - now_ms % 60_000
            self.paused_until_ms = max(self.paused_until_ms, now_ms + int(wait_ms) + 50)
        return retry_after

    def paused_for_s(self, now_ms: int) -> float:
        """Seconds left before the next request may go out (after a 429/418)."""
        self._expire(now_ms)
        return max(0.0, (self.paused_until_ms - now_ms) / 1000)


def in_flight_for(
    weight_per_min: float, weight: int, round_trip_s: float = ROUND_TRIP_S, *, least: int = 4, most: int = 32
) -> int:
    """How many requests of ``weight`` to keep going at once so that ``weight_per_min`` is spent while each takes
    ``round_trip_s``: the budget's rate in requests per second x the time each is out (Little's law), rounded up,
    within ``least..most``. Fewer leave budget idle every minute a start-up needs (USD-M aggTrades: 1,920 a minute
    at 20 a page are 1.6 pages a second; 4 at a time, each out for 3 s, make 1.3); more only wait in the budget's
    queue."""
    rate = weight_per_min / max(weight, 1) / 60
    return max(least, min(most, math.ceil(rate * round_trip_s)))
