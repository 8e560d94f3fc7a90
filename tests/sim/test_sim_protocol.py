"""Protocol behaviour of the simulator, seen by a plain websockets client and plain HTTP calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tapeflow.sim import SimExchange
from tests.sim.support import drain, get, run

Sim = Callable[..., AbstractAsyncContextManager[SimExchange]]


async def ask(ws: Any, msg: Any) -> Any:
    await ws.send(msg if isinstance(msg, str) else json.dumps(msg))
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


@pytest.mark.asyncio
async def test_subscribe_unsubscribe_list_and_properties(sim: Sim) -> None:
    async with sim("spot", msg_rate=100) as ex, websockets.connect(ex.ws_url + "/ws") as ws:
        assert await ask(ws, {"method": "SUBSCRIBE", "params": ["ethbtc@aggTrade", "ethbtc@depth"], "id": 1}) == {
            "result": None, "id": 1}  # fmt: skip
        assert await ask(ws, {"method": "UNSUBSCRIBE", "params": ["ethbtc@depth"], "id": "abc1"}) == {
            "result": None, "id": "abc1"}  # fmt: skip
        assert await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": None}) == {
            "result": ["ethbtc@aggTrade"],
            "id": None,
        }
        assert await ask(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 2}) == {"result": False, "id": 2}
        assert await ask(ws, {"method": "SET_PROPERTY", "params": ["combined", True], "id": 3}) == {
            "result": None,
            "id": 3,
        }
        await ex.advance(5000)
        frames = [json.loads(f) for f in await drain(ws)]
        assert frames and all(f["stream"] == "ethbtc@aggTrade" for f in frames)
        # Documented errors; spot nests them under "error".
        assert await ask(ws, "{nope") == {
            "error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}
        }
        r = await ask(ws, {"method": "SET_PROPERTY", "params": ["combined", 1], "id": 4})
        assert r == {"error": {"code": 1, "msg": "Invalid value type: expected Boolean"}, "id": 4}
        assert (await ask(ws, {"method": "GET_PROPERTY", "params": ["x"], "id": 5}))["error"]["code"] == 0
        assert (await ask(ws, {"method": "FOO", "id": 6}))["error"]["msg"].startswith(
            "Invalid request: unknown variant"
        )
        assert "missing field `method`" in (await ask(ws, {"id": 7}))["error"]["msg"]


@pytest.mark.asyncio
async def test_futures_errors_are_flat_and_invalid_stream_closes(sim: Sim) -> None:
    async with sim("usdm") as ex, websockets.connect(ex.ws_url + "/market/ws") as ws:
        r = await ask(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": "uuid-1"})
        assert r == {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}
        # Well-formed but unknown: acknowledged, never delivers.
        assert await ask(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@fooBar"], "id": 1}) == {
            "result": None,
            "id": 1,
        }
        r = await ask(ws, {"method": "SUBSCRIBE", "params": ["@@@x###"], "id": 2})
        assert r == {"code": 2, "msg": "Invalid request: invalid stream", "id": 2}
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)


@pytest.mark.asyncio
async def test_usdm_routes(sim: Sim) -> None:
    async with sim("usdm") as ex:
        legacy = await websockets.connect(ex.ws_url + "/ws")
        market = await websockets.connect(ex.ws_url + "/market/ws")
        public = await websockets.connect(ex.ws_url + "/public/ws")
        for ws in (legacy, market, public):
            r = await ask(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade", "btcusdt@bookTicker"], "id": 1})
            assert r == {"result": None, "id": 1}  # always acknowledged
        got = await run(ex, [legacy, market, public], 5000)
        kinds = [{json.loads(f).get("e") for f in fs} for fs in got]
        assert kinds[0] == {"bookTicker"}  # legacy unrouted = /public only: aggTrade never delivers
        assert kinds[1] == {"aggTrade"}
        assert kinds[2] == {"bookTicker"}
        for ws in (legacy, market, public):
            await ws.close()


@pytest.mark.asyncio
async def test_stream_limit_and_message_rate(sim: Sim) -> None:
    async with sim("spot") as ex, websockets.connect(ex.ws_url + "/ws") as ws:
        names = [f"s{i}@aggTrade" for i in range(1025)]
        r = await ask(ws, {"method": "SUBSCRIBE", "params": names, "id": 1})
        assert r["error"]["code"] == 2
        assert await ask(ws, {"method": "SUBSCRIBE", "params": names[:1024], "id": 2}) == {"result": None, "id": 2}
        await asyncio.sleep(1.1)
        for i in range(6):  # spot allows 5 incoming messages per second
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


@pytest.mark.asyncio
async def test_pong_deadline_and_24h_cut(sim: Sim) -> None:
    async with sim("spot", rate=0.0) as ex:
        alive = await websockets.connect(ex.ws_url + "/ws/ethbtc@depth", ping_interval=None)
        mute = await websockets.connect(ex.ws_url + "/ws/ethbtc@depth", ping_interval=None)
        mute.transport.pause_reading()  # never sees the server's pings, so never answers
        for _ in range(30):  # 90 virtual seconds: pings every 20 s, pong deadline 60 s (spot)
            await ex.advance(3000)
            await asyncio.sleep(0.005)
        assert len(ex.clients) == 1
        mute.transport.resume_reading()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(mute.recv(), 5)
        # The 24 h cut counts virtual time from the connection's opening.
        ex.skip(86_400_000 - 95_000)
        await ex.advance(3000)
        assert len(ex.clients) == 1
        await ex.advance(3000)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(alive.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


@pytest.mark.asyncio
async def test_slow_consumer_is_disconnected(sim: Sim) -> None:
    async with sim("spot", rate=400.0, send_queue=200) as ex:
        names = "/".join(f"{s.lower()}@trade/{s.lower()}@bookTicker" for s in ex.truth.symbols())
        ws = await websockets.connect(ex.ws_url + "/ws/" + names, max_queue=1)
        ws.transport.pause_reading()
        for _ in range(60):
            await ex.advance(1000)
            if not ex.clients:
                break
        assert not ex.clients
        ws.transport.resume_reading()
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 5)


@pytest.mark.asyncio
async def test_weights_429_then_escalating_418(sim: Sim) -> None:
    async with sim("spot", weight_limit=100) as ex:
        base = ex.rest_url + "/api/v3/"
        assert (await get(base + "depth?symbol=ETHBTC&limit=100"))[1]["X-MBX-USED-WEIGHT-1M"] == "5"
        assert (await get(base + "depth?symbol=ETHBTC&limit=1000"))[1]["X-MBX-USED-WEIGHT-1M"] == "55"
        assert (await get(base + "aggTrades?symbol=ETHBTC"))[1]["X-MBX-USED-WEIGHT-1M"] == "59"
        statuses = []
        for _ in range(5):  # 59 + 25 fits; then two 429s (with Retry-After) and a ban
            status, headers, body = await get(base + "depth?symbol=ETHBTC&limit=500")
            statuses.append((status, int(headers.get("Retry-After", 0))))
        assert [s for s, _ in statuses] == [200, 429, 429, 418, 418]
        assert 0 < statuses[1][1] <= 60
        assert statuses[3][1] == 120  # first ban: 2 minutes
        assert body["code"] == -1003
        await ex.advance(121_000)
        assert (await get(base + "depth?symbol=ETHBTC&limit=500"))[0] == 200
        for _ in range(6):  # 3 more fit the new minute, then 429, 429, 418
            status, headers, _ = await get(base + "depth?symbol=ETHBTC&limit=500")
        assert status == 418 and headers["Retry-After"] == "240"  # the next ban is longer


@pytest.mark.asyncio
async def test_futures_rest_limits_and_tapes(sim: Sim) -> None:
    async with sim("usdm", rate=60.0) as ex:
        base = ex.rest_url + "/fapi/v1/"
        status, headers, _ = await get(base + "depth?symbol=BTCUSDT&limit=1000")
        assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == "20"
        assert (await get(base + "depth?symbol=BTCUSDT&limit=7"))[0] == 400
        assert (await get(base + "depth?symbol=NOPE"))[2]["code"] == -1121
        await ex.advance(120_000)
        tape = ex.truth.agg_trades("BTCUSDT")
        mid = tape[len(tape) // 2]
        _, _, rows = await get(base + f"aggTrades?symbol=BTCUSDT&fromId={mid.a}&limit=5")
        assert [r["a"] for r in rows] == [mid.a + i for i in range(5)]
        start = ex.market.start_ms
        _, _, rows = await get(base + f"aggTrades?symbol=BTCUSDT&startTime={start}&endTime={start + 10_000}&limit=1000")
        assert [r["a"] for r in rows] == [a.a for a in tape if start <= a.T <= start + 10_000]
        status, h0, err = await get(base + f"aggTrades?symbol=BTCUSDT&startTime={start}&endTime={start + 3_600_000}")
        assert status == 400 and err["code"] == -1127
        _, headers, rows = await get(base + f"klines?symbol=BTCUSDT&interval=1m&startTime={start}")
        assert int(headers["X-MBX-USED-WEIGHT-1M"]) - int(h0["X-MBX-USED-WEIGHT-1M"]) == 5  # limit 500
        first = rows[0]
        in_first = [t for t in ex.truth.trades("BTCUSDT") if first[0] <= t.T <= first[6]]
        assert round(float(first[5]) * 1e8) == sum(t.q for t in in_first)
        assert first[8] == len(in_first)
        _, _, info = await get(base + "exchangeInfo")
        assert [s["symbol"] for s in info["symbols"]] == ex.truth.symbols()
        _, _, prem = await get(base + "premiumIndex?symbol=BTCUSDT")
        assert prem["symbol"] == "BTCUSDT" and float(prem["markPrice"]) > 0


@pytest.mark.asyncio
@pytest.mark.parametrize("market", ["spot", "usdm"])
async def test_partial_depth_matches_truth(sim: Sim, market: str) -> None:
    async with sim(market, rate=40.0) as ex:
        sym = ex.truth.symbols()[0]
        name = f"{sym.lower()}@depth5" if market == "spot" else f"{sym.lower()}@depth5@100ms"
        async with websockets.connect(ex.ws_url + ("/public" if market == "usdm" else "") + "/ws/" + name) as ws:
            frames = [json.loads(f) for f in (await run(ex, [ws], 3000))[0]]
        assert len(frames) >= 3
        e8 = 100_000_000
        for f in frames:
            if market == "spot":
                assert set(f) == {"lastUpdateId", "bids", "asks"}  # spot partial depth: no e/E/s
                uid, bids, asks = f["lastUpdateId"], f["bids"], f["asks"]
            else:
                assert f["e"] == "depthUpdate" and f["s"] == sym
                uid, bids, asks = f["u"], f["b"], f["a"]
            book = ex.truth.book_at(sym, uid)
            want_b = sorted(book.bids.items(), reverse=True)[:5]
            want_a = sorted(book.asks.items())[:5]
            got_b = [(round(float(p) * e8), round(float(q) * e8)) for p, q in bids]
            got_a = [(round(float(p) * e8), round(float(q) * e8)) for p, q in asks]
            assert (got_b, got_a) == (want_b, want_a)


@pytest.mark.asyncio
async def test_agg_trades_history_window(sim: Sim) -> None:
    async with sim("usdm", rate=30.0, agg_history_ms=60_000) as ex:
        await ex.advance(150_000)
        tape = ex.truth.agg_trades("BTCUSDT")
        _, _, rows = await get(ex.rest_url + f"/fapi/v1/aggTrades?symbol=BTCUSDT&fromId={tape[0].a}&limit=1000")
        oldest = ex.now_ms() - 60_000
        assert rows and rows[0]["a"] == next(a.a for a in tape if a.T >= oldest)  # older ones are out of reach
