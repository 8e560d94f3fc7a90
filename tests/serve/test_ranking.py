"""The ``/flow`` ranking on its own: near-ties of the float columns across the cut are settled on the exact sums, and
an answer is reused only while the clock is within the cache's time to live."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import orjson

from tapeflow.serve.ranking import RankingCache, ranking


@dataclass
class FakeWindow:
    net: Decimal

    def exact(self) -> dict[str, Decimal]:
        return {"buy_quote": self.net, "sell_quote": Decimal(0), "net_quote": self.net}

    def __getattr__(self, name: str) -> Any:
        return {"buy_quote": float(self.net), "sell_quote": 0.0, "net_quote": float(self.net), "vwap": 1.0}.get(
            name, 0 if name.endswith("count") or name.endswith("_ms") else False
        )


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_000

    def now_ms(self) -> int:
        return self.t


class FakeMonitor:
    """The two calls the ranking makes: every symbol's float columns, one symbol's exact window."""

    def __init__(self, nets: dict[str, Decimal]) -> None:
        self.nets = nets
        self.clock = FakeClock()
        self.calls = 0

    def volumes(self, window: str, *, aligned: bool, now_ms: int) -> dict[str, Any]:
        self.calls += 1
        names = list(self.nets)
        net = np.array([float(self.nets[s]) for s in names])
        return {
            "symbol": np.array(names, dtype=object),
            "net_quote": net,
            "buy_quote": net,
            "sell_quote": np.zeros(len(names)),
            "complete": np.ones(len(names), dtype=bool),
        }

    def volume(self, symbol: str, window: str, *, aligned: bool, now_ms: int) -> FakeWindow:
        return FakeWindow(self.nets[symbol])


def test_float_ties_across_the_cut_are_ranked_exactly() -> None:
    big = Decimal(10) ** 17  # floats cannot tell these apart: big + 0.001 == big as a float
    nets = {"AAA": big, "BBB": big + Decimal("0.001"), "CCC": big + Decimal("0.002"), "DDD": Decimal(5)}
    m = FakeMonitor(nets)
    assert float(nets["AAA"]) == float(nets["CCC"])
    got = ranking(m, "15m", False, "net", 1, 1_000)  # type: ignore[arg-type]
    assert [r["symbol"] for r in got["rows"]] == ["CCC"] and got["rows"][0][
        "net_quote_exact"
    ] == "100000000000000000.002"
    got = ranking(m, "15m", False, "net", 3, 1_000)  # type: ignore[arg-type]
    assert [r["symbol"] for r in got["rows"]] == ["CCC", "BBB", "AAA"]
    assert [r["rank"] for r in got["rows"]] == [1, 2, 3] and got["symbols"] == 4
    # Exact ties are ordered by symbol; |net| ranks negative flows too.
    m = FakeMonitor({"ZZZ": Decimal(-7), "MMM": Decimal(7), "AAA": Decimal(3)})
    got = ranking(m, "15m", False, "abs_net", 10, 1_000)  # type: ignore[arg-type]
    assert [r["symbol"] for r in got["rows"]] == ["MMM", "ZZZ", "AAA"]


def test_an_answer_is_reused_only_within_its_time_to_live() -> None:
    m = FakeMonitor({"AAA": Decimal(1), "BBB": Decimal(2)})
    cache = RankingCache(ttl_ms=200)
    first = cache.get(m, "15m", False, "net", 5)  # type: ignore[arg-type]
    m.nets["AAA"] = Decimal(9)
    m.clock.t += 199
    assert cache.get(m, "15m", False, "net", 5) == first and m.calls == 1  # type: ignore[arg-type]
    assert cache.get(m, "15m", False, "net", 1) != first and m.calls == 2  # type: ignore[arg-type]
    m.clock.t += 1
    again = orjson.loads(cache.get(m, "15m", False, "net", 5))  # type: ignore[arg-type]
    assert m.calls == 3 and again["as_of_ms"] == 1_200 and again["rows"][0]["symbol"] == "AAA"
    never = RankingCache(ttl_ms=0)
    for _ in range(2):
        never.get(m, "15m", False, "net", 5)  # type: ignore[arg-type]
    assert m.calls == 5
