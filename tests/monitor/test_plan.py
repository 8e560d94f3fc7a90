"""The stream plan: sharding into connections."""

from __future__ import annotations

from tapeflow.markets import MARKETS, kind_of
from tapeflow.monitor.plan import plan_shards


def test_shards_respect_the_cap_and_keep_kinds_apart() -> None:
    streams = [f"s{i}usdt@depth@100ms" for i in range(2500)] + [f"s{i}usdt@aggTrade" for i in range(300)]
    streams += ["!forceOrder@arr", "!markPrice@arr@1s"]
    shards = plan_shards(MARKETS["usdm"], streams)
    assert [len(s.streams) for s in shards] == [1024, 1024, 452, 300, 2]
    assert [s.route for s in shards] == ["public"] * 3 + ["market"] * 2
    assert all(len({kind_of(n) for n in s.streams}) == 1 for s in shards[:4])
    assert sorted(n for s in shards for n in s.streams) == sorted(streams)
    assert max(len(s.streams) for s in plan_shards(MARKETS["usdm"], streams, cap=100)) == 100
    assert max(len(s.streams) for s in plan_shards(MARKETS["spot"], streams, cap=5000)) == MARKETS["spot"].max_streams
