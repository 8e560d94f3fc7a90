"""The ``/flow`` ranking: every watched symbol ordered by one column of a flow window, with exact sums for the rows
returned, and a short-lived cache of the answer.

The order comes from the float columns of one engine call for all symbols; the rows returned get their exact sums,
and where floats cannot tell two values apart at the cut (a tie run across the limit) the run is taken whole and
ordered by the exact sums. Ties of exact values are ordered by symbol.

A ranking of thousands of symbols costs far more than the other queries, and dashboards ask for the same one many
times a second, so an answer is reused for :data:`TTL_MS` of the Monitor's clock: every answer carries the
``as_of_ms`` it was computed at, and is exact as of then.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import orjson

from tapeflow.monitor import Monitor
from tapeflow.serve.params import exact, finite

__all__ = ["KEYS", "TTL_MS", "RankingCache", "ranking"]

#: The column each sort order ranks by (largest first; ``abs_net`` by its absolute value).
KEYS: dict[str, str] = {"net": "net_quote", "buy": "buy_quote", "sell": "sell_quote", "abs_net": "net_quote"}
#: How long an answer is reused, in ms of the Monitor's clock.
TTL_MS = 200
# The longest run of float near-ties taken past the limit to be settled exactly.
_MAX_TIES = 64


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-12)


def ranking(m: Monitor, window: str, aligned: bool, sort: str, limit: int, now: int) -> dict[str, Any]:
    """The ``/flow`` answer as a plain dict (the shape of :class:`~tapeflow.serve.models.FlowOut`)."""
    cols: dict[str, Any] = m.volumes(window, aligned=aligned, now_ms=now)
    names = cols["symbol"]
    key = np.abs(cols[KEYS[sort]]) if sort == "abs_net" else cols[KEYS[sort]]
    order = np.argsort(-key, kind="stable").tolist()
    take = min(limit, len(order))
    while take < min(len(order), limit + _MAX_TIES) and take and _close(key[order[take - 1]], key[order[take]]):
        take += 1  # a near-tie across the cut: settle it on the exact sums
    picked = []
    for i in order[:take]:
        sym = str(names[i])
        v = m.volume(sym, window, aligned=aligned, now_ms=now)
        e: dict[str, Decimal] = v.exact()
        value = e[KEYS[sort]]
        picked.append((-abs(value) if sort == "abs_net" else -value, sym, v, e))
    picked.sort(key=lambda r: (r[0], r[1]))
    rows = []
    for rank, (_, sym, v, e) in enumerate(picked[:limit], start=1):
        rows.append(
            {
                "rank": rank,
                "symbol": sym,
                "buy_quote": v.buy_quote,
                "sell_quote": v.sell_quote,
                "net_quote": v.net_quote,
                "buy_quote_exact": exact(e["buy_quote"]),
                "sell_quote_exact": exact(e["sell_quote"]),
                "net_quote_exact": exact(e["net_quote"]),
                "buy_count": v.buy_count,
                "sell_count": v.sell_count,
                "big_buy_count": v.big_buy_count,
                "big_sell_count": v.big_sell_count,
                "vwap": finite(v.vwap),
                "complete": v.complete,
                "abandoned": v.abandoned,
            }
        )
    first = picked[0][2] if picked else None
    return {
        "window": window,
        "aligned": aligned,
        "sort": sort,
        "as_of_ms": now,
        "start_ms": first.start_ms if first is not None else now,
        "end_ms": first.end_ms if first is not None else now,
        "symbols": len(names),
        "incomplete": int((~cols["complete"]).sum()) if len(names) else 0,
        "rows": rows,
    }


class RankingCache:
    """Encoded ``/flow`` answers by query, each reused while the Monitor's clock is less than ``ttl_ms`` past it."""

    def __init__(self, ttl_ms: int = TTL_MS, size: int = 64) -> None:
        self.ttl_ms = ttl_ms
        self.size = size
        self._entries: dict[tuple[str, bool, str, int], tuple[int, bytes]] = {}
        self.hits = self.misses = 0

    def get(self, m: Monitor, window: str, aligned: bool, sort: str, limit: int) -> bytes:
        """The encoded answer of the query now (reused, or computed and kept)."""
        now = m.clock.now_ms()
        k = (window, aligned, sort, limit)
        hit = self._entries.get(k)
        if hit is not None and 0 <= now - hit[0] < self.ttl_ms:
            self.hits += 1
            return hit[1]
        self.misses += 1
        body = orjson.dumps(ranking(m, window, aligned, sort, limit, now))
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[k] = (now, body)
        return body
