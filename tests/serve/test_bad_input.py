"""Bad requests: an unknown symbol is 404, every parameter out of range or malformed is a 4xx whose message names it,
and the API is read-only with bounded requests."""

from __future__ import annotations

import pytest

from tapeflow.sim import SimExchange
from tests.monitor.support import monitor_on
from tests.serve.support import drive, monitor_kwargs, served, sim_config

UNKNOWN = [
    "/flow/NOPEUSDT",
    "/candles/NOPEUSDT",
    "/books/NOPEUSDT",
    "/books/NOPEUSDT/band",
    "/liquidations/total?symbol=NOPEUSDT",
    "/liquidations/series?symbol=NOPEUSDT",
    "/liquidations/recent?symbol=NOPEUSDT",
    "/liquidations/clusters/NOPEUSDT",
    "/liquidations/heatmap/NOPEUSDT",
    "/trades/big?symbol=NOPEUSDT",
]

# (request, status, the parameter the message must name)
BAD = [
    ("/liquidations/total?minutes=0", 422, "minutes"),
    ("/liquidations/total?minutes=14401", 422, "minutes"),
    ("/liquidations/total?minutes=abc", 422, "minutes"),
    ("/liquidations/total?side=buy", 422, "side"),
    ("/liquidations/total?side=LONG", 422, "side"),
    ("/liquidations/total?symbol=BTC-USDT", 422, "symbol"),
    ("/liquidations/series?interval_minutes=0", 422, "interval_minutes"),
    ("/liquidations/series?minutes=5&interval_minutes=6", 400, "interval_minutes"),
    ("/liquidations/clusters/BTCUSDT?min_strength=1.5", 422, "min_strength"),
    ("/liquidations/clusters/BTCUSDT?side=BUY", 422, "side"),
    ("/liquidations/heatmap/BTCUSDT?lookback_minutes=10&interval_minutes=20", 400, "interval_minutes"),
    ("/liquidations/heatmap/BTCUSDT?lookback_minutes=14400&interval_minutes=1", 400, "interval_minutes"),
    ("/liquidations/heatmap/BTCUSDT?bin_pct=0", 422, "bin_pct"),
    ("/liquidations/heatmap/BTCUSDT?format=gif", 422, "format"),
    ("/liquidations/heatmap/BTCUSDT?format=png&width=5", 422, "width"),
    ("/liquidations/recent?limit=0", 422, "limit"),
    ("/flow?window=2m", 422, "window"),
    ("/flow?aligned=maybe", 422, "aligned"),
    ("/flow?sort=volume", 422, "sort"),
    ("/flow?limit=0", 422, "limit"),
    ("/flow?limit=1e3", 422, "limit"),
    ("/flow/BTCUSDT?window=4h", 422, "window"),
    ("/candles/BTCUSDT?interval=5m", 422, "interval"),
    ("/candles/BTCUSDT?start=-1", 422, "start"),
    ("/candles/BTCUSDT?start=2000&end=1000", 400, "end"),
    ("/candles/BTCUSDT?limit=100000", 422, "limit"),
    ("/books/BTCUSDT?depth=0", 422, "depth"),
    ("/books/BTCUSDT?depth=5000", 422, "depth"),
    ("/books/BTCUSDT/band?pct=0", 422, "pct"),
    ("/books/BTCUSDT/band?pct=nan", 422, "pct"),
    ("/books/BTC$USDT", 422, "symbol"),
    ("/trades/big?limit=-3", 422, "limit"),
    ("/events?kinds=BIG", 422, "kinds"),
]


@pytest.mark.asyncio
async def test_unknown_symbols_and_bad_parameters_are_refused_by_name() -> None:
    async with SimExchange(sim_config(symbols=3)) as ex, monitor_on(ex, **monitor_kwargs()) as m:
        await drive(ex, m, 10_000)
        async with served(m) as http:
            for path in UNKNOWN:
                r = await http.get(path)
                assert r.status_code == 404, (path, r.text)
                assert r.json()["message"].startswith("symbol: NOPEUSDT"), path
            for path, status, param in BAD:
                r = await http.get(path)
                assert r.status_code == status, (path, r.status_code, r.text)
                body = r.json()
                assert body["param"] == param and body["message"].startswith(f"{param}: "), (path, body)
            # Read-only, bounded: no request bodies, no overlong URLs, no other methods.
            r = await http.request("GET", "/health", content=b"x" * 10)
            assert r.status_code == 413 and r.json()["param"] == "body"
            r = await http.get("/flow", params={"window": "x" * 5000})
            assert r.status_code == 414
            r = await http.post("/liquidations/total")
            assert r.status_code == 405
            # No CORS unless asked for.
            r = await http.get("/health", headers={"Origin": "https://example.org"})
            assert "access-control-allow-origin" not in r.headers


@pytest.mark.asyncio
async def test_cors_origins_are_configurable() -> None:
    async with SimExchange(sim_config(symbols=2)) as ex, monitor_on(ex, **monitor_kwargs(books=())) as m:
        await drive(ex, m, 2_000)
        async with served(m, cors_origins=["https://dash.example"]) as http:
            r = await http.get("/health", headers={"Origin": "https://dash.example"})
            assert r.headers["access-control-allow-origin"] == "https://dash.example"
            r = await http.get("/health", headers={"Origin": "https://other.example"})
            assert "access-control-allow-origin" not in r.headers
