"""Monitor arguments are checked at construction, with an error that names the argument."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tapeflow import ConnectionOptions, Monitor
from tapeflow.errors import TapeflowError, UnknownSymbolError
from tapeflow.markets import MARKETS
from tapeflow.monitor.universe import parse_exchange_info
from tests.support import exchange_info


@pytest.mark.parametrize("window", ["0m", "15", "m", "-1m", "1w", "1.5h", ""])
def test_monitor_rejects_bad_windows_up_front(window: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        Monitor(market="usdm", symbols=["BTCUSDT"], flow=["1m", window])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"market": "futures"}, ValueError, "unknown market 'futures'"),
        ({"symbols": "BTCUSDT"}, TypeError, r"symbols must be a list of symbols \(e.g. \['BTCUSDT'\]\)"),
        ({"symbols": []}, ValueError, "at least one symbol"),
        ({"symbols": ["BTC USDT"]}, ValueError, "not a symbol name"),
        ({"quote": "usdt"}, ValueError, "quote must be an upper-case asset name"),
        ({"books": ["ETHUSDT"], "symbols": ["BTCUSDT"]}, ValueError, "books: ETHUSDT not among the watched symbols"),
        ({"flow": "15m"}, TypeError, "flow must be a list"),
        ({"big_trade": -5}, ValueError, "big_trade must be a notional > 0"),
        ({"transport": "aiohttp"}, ValueError, "transport must be one of websockets, picows, native"),
        ({"depth_speed": "250ms"}, ValueError, "depth_speed '250ms' is not served on usdm"),
        ({"market": "spot", "depth_speed": "500ms"}, ValueError, "depth_speed '500ms' is not served on spot"),
        ({"snapshot_limit": 7}, ValueError, "snapshot_limit 7 is not served on usdm: one of 5, 10, 20"),
        ({"market": "spot", "snapshot_limit": 6000}, ValueError, "snapshot_limit 6000 is not served on spot: 1 to"),
        ({"unread_snapshot_limit": 30}, ValueError, "unread_snapshot_limit 30 must be a limit usdm serves"),
        (
            {"snapshot_limit": 50, "unread_snapshot_limit": 100},
            ValueError,
            r"unread_snapshot_limit 100 must be .* at most snapshot_limit \(50\)",
        ),
        ({"streams_per_connection": 2000}, ValueError, r"streams_per_connection must be in 1\.\.1024"),
        ({"routes": {"aggTrade": "private"}}, ValueError, "routes: 'aggTrade' -> 'private'"),
        ({"market": "coinm", "routes": {"aggTrade": "public"}}, ValueError, "only USD-M has routes"),
        ({"weight_safety": 5}, ValueError, r"weight_safety must be a share of the weight limit in \(0, 1\]"),
        ({"weight_safety": 0}, ValueError, "weight_safety"),
        ({"tail_wait_s": -1}, ValueError, "tail_wait_s"),
        ({"flows": ["1m"]}, TypeError, "unexpected arguments: flows"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Monitor(**kwargs)


def test_good_arguments_are_normalised() -> None:
    m = Monitor("usdm", ["btcusdt", "ETHUSDT", "btcusdt"], books=["ethusdt"], depth_speed="", snapshot_limit=500)
    cfg = m.config
    assert cfg.symbols == ("BTCUSDT", "ETHUSDT") and cfg.books == ("ETHUSDT",)
    assert cfg.ws_url == "wss://fstream.binance.com" and cfg.rest_url == "https://fapi.binance.com"
    assert Monitor("spot", liquidations=True).config.liquidations is False  # spot has no liquidation streams
    assert Monitor("usdm", ws_url="ws://127.0.0.1:9/").config.ws_url == "ws://127.0.0.1:9"
    assert Monitor("spot", snapshot_limit=5000).config.snapshot_limit == 5000
    # Small first snapshots only for books nobody named: named books are in use from the start.
    assert cfg.unread_snapshot_limit is None and Monitor("usdm").config.unread_snapshot_limit == 100
    assert Monitor("usdm", snapshot_limit=50, unread_snapshot_limit=None).config.unread_snapshot_limit is None
    assert Monitor("usdm", snapshot_limit=50).config.unread_snapshot_limit == 50
    with pytest.raises(TapeflowError, match="not started"):
        m.runtime  # noqa: B018


def test_exchange_info_gives_the_universe() -> None:
    body = exchange_info("usdm").read_bytes()
    spec = MARKETS["usdm"]
    listed = {s["symbol"]: s for s in json.loads(body)["symbols"]}
    every = parse_exchange_info(body, spec, "ALL", "USDT")
    assert every.symbols and all(listed[s]["quoteAsset"] == "USDT" for s in every.symbols)
    assert all(listed[s]["status"] == "TRADING" for s in every.symbols)
    assert {s for s, v in listed.items() if v["quoteAsset"] == "USDT" and v["status"] == "TRADING"} == set(
        every.symbols
    )
    assert every.weight_limit == 2400 and every.contract_sizes == {}
    assert set(parse_exchange_info(body, spec, "ALL", None).symbols) > set(every.symbols)
    assert parse_exchange_info(body, spec, ("BTCUSDT",), "USDT").symbols == ("BTCUSDT",)
    with pytest.raises(UnknownSymbolError, match="unknown symbols on usdm: NOPEUSDT") as e:
        parse_exchange_info(body, spec, ("BTCUSDT", "NOPEUSDT"), "USDT")
    assert e.value.symbol == "NOPEUSDT"
    coinm = parse_exchange_info(exchange_info("coinm").read_bytes(), MARKETS["coinm"], "ALL", "USDT")
    assert coinm.symbols and set(coinm.contract_sizes) == set(coinm.symbols)  # the quote filter does not apply
    assert coinm.contract_sizes["BTCUSD_PERP"] == "100"
    with pytest.raises(TapeflowError, match="exchangeInfo of usdm is not readable"):
        parse_exchange_info(b'{"code":-1000}', spec, "ALL", None)


def test_connection_options_are_checked_too() -> None:
    with pytest.raises(ValueError, match=r"ConnectionOptions\.ping_interval_s"):
        Monitor(options=ConnectionOptions(ping_interval_s=-1))
