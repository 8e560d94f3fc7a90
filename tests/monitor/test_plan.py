"""The stream plan: sharding into connections."""

from __future__ import annotations

from tapeflow.markets import MARKETS, kind_of
from tapeflow.monitor.plan import StreamPlan, plan_shards


def test_shards_respect_the_cap_and_keep_kinds_apart() -> None:
    streams = [f"s{i}usdt@depth@100ms" for i in range(2500)] + [f"s{i}usdt@aggTrade" for i in range(300)]
    streams += ["!forceOrder@arr", "!markPrice@arr@1s"]
    shards = plan_shards(MARKETS["usdm"], streams)
    assert [len(s.streams) for s in shards] == [1023, 1023, 454, 300, 2]  # a place left for each canary
    assert [s.route for s in shards] == ["public"] * 3 + ["market"] * 2
    assert all(len({kind_of(n) for n in s.streams}) == 1 for s in shards[:4])
    assert sorted(n for s in shards for n in s.streams) == sorted(streams)
    assert max(len(s.streams) for s in plan_shards(MARKETS["usdm"], streams, cap=100)) == 99
    assert (
        max(len(s.streams) for s in plan_shards(MARKETS["spot"], streams, cap=5000)) == MARKETS["spot"].max_streams - 1
    )


def _plan(market: str = "usdm", **kw: object) -> StreamPlan:
    args: dict[str, object] = {"depth_speed": "100ms", "flow": True, "liquidations": True}
    args.update(kw)
    return StreamPlan(MARKETS[market], **args)  # type: ignore[arg-type]


def test_streams_per_symbol_and_for_the_market() -> None:
    plan = _plan(extra=["!miniTicker@arr", "btcusdt@aggTrade"])
    assert plan.streams(["BTCUSDT", "ETHUSDT"], {"BTCUSDT"}) == [
        "btcusdt@depth@100ms",
        "btcusdt@aggTrade",
        "ethusdt@aggTrade",
        "!forceOrder@arr",
        "!markPrice@arr@1s",
        "!miniTicker@arr",  # an extra stream already followed is not doubled
    ]
    assert _plan("spot", depth_speed="", flow=False, liquidations=False).streams(["A"], {"A"}) == ["a@depth"]


def test_canaries_have_a_fixed_cadence_on_their_route() -> None:
    plan = _plan()
    assert plan.canary("public", ["a@depth@100ms"], ["BTCUSDT"]) == "btcusdt@depth5@500ms"
    assert plan.canary("market", ["a@aggTrade"], ["BTCUSDT"]) == "btcusdt@markPrice@1s"
    assert plan.canary("market", ["!markPrice@arr@1s"], ["BTCUSDT"]) is None  # the array has a cadence
    assert _plan("spot").canary("", ["a@aggTrade"], ["BTCUSDT"]) == "btcusdt@depth5"
    assert plan.canary("market", ["a@aggTrade"], []) is None


def test_a_silent_kind_moves_route_at_most_twice() -> None:
    plan = _plan()
    assert plan.route_of("a@aggTrade") == "market"
    assert plan.flip("aggTrade", "market") == "public" and plan.route_of("a@aggTrade") == "public"
    assert plan.flip("aggTrade", "public") == "market" and plan.route_of("a@aggTrade") == "market"
    assert plan.flip("aggTrade", "market") is None  # both tried: the streams are quiet, not misrouted
    assert plan.route_table()["aggTrade"] == "market"
    assert _plan("coinm").flip("aggTrade", "") is None and _plan("coinm").route_table() == {}


def test_live_subscribes_are_grouped_by_route_and_kind() -> None:
    groups = _plan().by_route_and_kind(["a@depth@100ms", "a@aggTrade", "b@depth@100ms", "b@aggTrade"])
    assert groups == [("public", ["a@depth@100ms", "b@depth@100ms"]), ("market", ["a@aggTrade", "b@aggTrade"])]


def test_the_liquidation_stream_has_a_second_connection_opened_later() -> None:
    shards = _plan().shards(["BTCUSDT"], {"BTCUSDT"})
    carrying = [s for s in shards if "!forceOrder@arr" in s.streams]
    assert len(carrying) == 2
    first, copy = carrying
    assert first.delay_s == 0 and "!markPrice@arr@1s" in first.streams
    assert copy.streams == ["!forceOrder@arr"] and copy.delay_s > 0 and copy.route == "market"
    assert not [s for s in _plan(liquidations=False).shards(["BTCUSDT"], set()) if "!forceOrder@arr" in s.streams]
