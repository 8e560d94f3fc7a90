"""The IP's REST request weight, minute by minute (pure: times in, decisions out; the REST client waits).

Binance counts request weight per IP per minute and reports it in ``X-MBX-USED-WEIGHT-1M`` on every reply. Over the
limit it answers 429 (with ``Retry-After``); an IP that keeps going gets 418 and a ban of 2 minutes up to 3 days.
The budget counts the weight it sends in the minute of its clock, adds what the header shows that others on the IP
spent, admits a request only while it would keep the minute within ``safety`` x the limit, and after a 429 or 418
admits nothing until ``Retry-After`` has passed (or the next minute, when the header is absent: futures do not
document it).

The header counts the exchange's minute, which need not be the budget's: when the two clocks are apart by a few
seconds, the first requests of the budget's minute are counted in the exchange's minute before, and the header then
reports that minute nearly full. Taken as this minute's use, it would stall the budget for a minute it has not
spent. So the header counts only beyond the weight this client itself sent in the last 60 s (the most of its own that
any exchange minute still open can hold): the rest is weight of other programs on the IP.
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


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds, or ``None`` if absent or not a number."""
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


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
        #: The last ``X-MBX-USED-WEIGHT-*`` values by interval (``"1m"``...).
        self.used_weight: dict[str, int] = {}
        self._minute = -1
        self._used = 0  # sent by this client in the current minute
        self._others = 0  # spent by others on the IP, as the header shows, in the current minute
        self._sent: deque[tuple[int, int]] = deque()  # (time, weight) of this client's last 60 s
        self._sent_weight = 0

    def _roll(self, now_ms: int) -> None:
        minute = now_ms // 60_000
        if minute != self._minute:
            self._minute, self._used, self._others = minute, 0, 0
        sent = self._sent
        while sent and sent[0][0] <= now_ms - 60_000:
            self._sent_weight -= sent.popleft()[1]

    def used(self, now_ms: int) -> int:
        """Weight used in the current minute, as far as this client knows (its own and what others spent)."""
        self._roll(now_ms)
        return self._used + self._others

    def admit(self, weight: int, now_ms: int) -> int:
        """Spends ``weight`` now and returns 0, or returns the ms to wait before asking again (spending nothing).

        A request heavier than the whole allowance goes alone at the start of a minute, so it is never refused
        forever."""
        self._roll(now_ms)
        if now_ms < self.paused_until_ms:
            return self.paused_until_ms - now_ms
        used = self._used + self._others
        if used + weight <= self.limit * self.safety or used == 0:
            self._used += weight
            self._sent.append((now_ms, weight))
            self._sent_weight += weight
            return 0
        return 60_000 - now_ms % 60_000

    def note_reply(self, status: int, headers: Mapping[str, str], now_ms: int) -> float | None:
        """Takes the used-weight headers of a reply, and the pause a 429 or 418 imposes; returns ``Retry-After``."""
        self._roll(now_ms)
        for name, value in headers.items():
            low = name.lower()
            if low.startswith(_HEADER) and value.isdigit():
                interval = low[len(_HEADER) :]
                self.used_weight[interval] = int(value)
                if interval == "1m":
                    self._others = max(self._others, int(value) - self._sent_weight)
        retry_after = retry_after_s(headers)
        if status in (418, 429):
            wait_ms = retry_after * 1000 if retry_after is not None else 60_000 - now_ms % 60_000
            self.paused_until_ms = max(self.paused_until_ms, now_ms + int(wait_ms) + 50)
        return retry_after

    def paused_for_s(self, now_ms: int) -> float:
        """Seconds left before the next request may go out (after a 429/418)."""
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
