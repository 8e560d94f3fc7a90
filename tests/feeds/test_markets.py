"""Market facts: stream kinds, USD-M routes, combined-stream URLs, REST weights."""

from __future__ import annotations

import pytest

from tapeflow.markets import MARKETS, kind_of, route_of, stream_url


@pytest.mark.parametrize(
    ("stream", "kind", "route"),
    [
        ("btcusdt@depth@100ms", "depth", "public"),
        ("btcusdt@depth5@500ms", "depth", "public"),
        ("btcusdt@bookTicker", "bookTicker", "public"),
        ("!bookTicker", "bookTicker", "public"),
        ("btcusdt@trade", "trade", "public"),
        ("btcusdt@aggTrade", "aggTrade", "market"),
        ("btcusdt@kline_1m", "kline", "market"),
        ("btcusdt@markPrice@1s", "markPrice", "market"),
        ("!markPrice@arr@1s", "markPrice", "market"),
        ("!forceOrder@arr", "forceOrder", "market"),
        ("!miniTicker@arr", "miniTicker", "market"),
    ],
)
def test_usdm_routes_follow_the_2026_split(stream: str, kind: str, route: str) -> None:
    assert kind_of(stream) == kind
    assert route_of("usdm", stream) == route
    assert route_of("spot", stream) == "" and route_of("coinm", stream) == ""


def test_route_overrides_and_urls() -> None:
    assert route_of("usdm", "btcusdt@aggTrade", {"aggTrade": "public"}) == "public"
    assert stream_url("wss://fstream.binance.com", "market", ["a@aggTrade", "b@aggTrade"]) == (
        "wss://fstream.binance.com/market/stream?streams=a@aggTrade/b@aggTrade"
    )
    assert stream_url("wss://stream.binance.com:9443/", "", ["a@depth"]) == (
        "wss://stream.binance.com:9443/stream?streams=a@depth"
    )


def test_futures_snapshot_weights() -> None:
    spec = MARKETS["usdm"]
    assert [spec.depth_weight(n) for n in (5, 50, 100, 500, 1000)] == [2, 2, 5, 10, 20]
    assert [MARKETS["spot"].depth_weight(n) for n in (100, 500, 1000, 5000)] == [5, 25, 50, 250]
