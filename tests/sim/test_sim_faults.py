"""Determinism, fault injection and replay of the simulator."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tapeflow.sim import SimConfig, SimExchange
from tapeflow.sim.connection import Client
from tests.sim.support import get, run
from tests.support import exchange_info, recording

Sim = Callable[..., AbstractAsyncContextManager[SimExchange]]


async def session(market: str, seed: int, faults: bool = False) -> list[bytes]:
    cfg = SimConfig(market=market, symbols=3, seed=seed, speed=0.0, exchange_info=exchange_info(market), rate=30.0)
    async with SimExchange(cfg) as ex:
        names = [s.lower() for s in ex.truth.symbols()]
        streams = [f"{n}@{k}" for n in names for k in ("depth@100ms", "aggTrade", "trade", "kline_1m", "depth5")]
        route = "/market" if market == "usdm" else ""
        if market == "usdm":
            streams = [s for s in streams if "aggTrade" in s or "kline" in s] + ["!forceOrder@arr", "!markPrice@arr@1s"]
        if faults:
            ex.faults.schedule(ex.market.now + 2000, lambda: ex.faults.duplicate(3))
            ex.faults.schedule(ex.market.now + 4000, lambda: ex.faults.drop(2))
            ex.faults.random_faults(seed=5, every_ms=3000, until_ms=ex.market.now + 20_000, kinds=("drop", "gap"))
        async with websockets.connect(f"{ex.ws_url}{route}/stream?streams={'/'.join(streams)}") as ws:
            frames = (await run(ex, [ws], 20_000))[0]
    return [f.encode() for f in frames]


@pytest.mark.asyncio
@pytest.mark.parametrize("market", ["spot", "usdm"])
async def test_same_seed_same_bytes(market: str) -> None:
    a, b = await session(market, 3, faults=True), await session(market, 3, faults=True)
    assert len(a) > 500 and a == b
    assert await session(market, 4) != await session(market, 3)


@pytest.mark.asyncio
async def test_gap_is_a_real_gap(sim: Sim) -> None:
    async with sim("usdm", rate=40.0) as ex, websockets.connect(ex.ws_url + "/public/ws/btcusdt@depth@100ms") as ws:
        before = (await run(ex, [ws], 1000))[0]
        ex.faults.gap("BTCUSDT")
        frames = [json.loads(f) for f in before + (await run(ex, [ws], 3000))[0]]
    chain = [(f["pu"], f["u"]) for f in frames]
    breaks = [i for i in range(1, len(chain)) if chain[i][0] != chain[i - 1][1]]
    assert len(breaks) == 1 and breaks[0] == len(before)


@pytest.mark.asyncio
async def test_frame_faults(sim: Sim) -> None:
    async with sim("spot", rate=60.0) as ex, websockets.connect(ex.ws_url + "/ws/ethbtc@trade") as ws:
        await run(ex, [ws], 1000)
        ex.faults.duplicate(1)
        ex.faults.drop(1)
        ex.faults.malformed(1)
        frames = (await run(ex, [ws], 1000))[0]
    assert frames[0] == frames[1]
    ids = [json.loads(f)["t"] for f in frames[:2]] + [json.loads(f)["t"] for f in frames[4:]]
    with pytest.raises(ValueError):
        json.loads(frames[2])
    tid = json.loads(frames[3])["t"]
    assert tid == ids[0] + 3  # one trade dropped (ids[0] + 1), one malformed (ids[0] + 2)
    assert ids[2:] == list(range(tid + 1, tid + 1 + len(ids) - 2))


@pytest.mark.asyncio
async def test_disconnects_and_stall(sim: Sim) -> None:
    async with sim("spot", rate=60.0) as ex:
        ws = await websockets.connect(ex.ws_url + "/ws/ethbtc@trade")
        assert ex.faults.disconnect_all(abrupt=True) == 1
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is None  # no close frame: a reset
        ws = await websockets.connect(ex.ws_url + "/ws/ethbtc@trade")
        ex.faults.disconnect_all(abrupt=False)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        ws = await websockets.connect(ex.ws_url + "/stream?streams=ethbtc@trade")
        await asyncio.sleep(0.01)
        ex.faults.disconnect_all(notice=True)
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert msg["stream"] == "!serverShutdown" and msg["data"]["e"] == "serverShutdown"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        ws = await websockets.connect(ex.ws_url + "/ws/ethbtc@trade")
        await asyncio.sleep(0.01)
        ex.faults.stall(5000)
        assert (await run(ex, [ws], 4000))[0] == []
        assert (await run(ex, [ws], 3000))[0] != []  # the stall ended
        await ws.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("gone", [BrokenPipeError, ConnectionResetError])
async def test_a_client_gone_during_a_stall_is_not_an_error(
    sim: Sim, caplog: pytest.LogCaptureFixture, gone: type[Exception]
) -> None:
    class Transport:
        def write(self, data: bytes) -> None:
            pass

        def abort(self) -> None:
            pass

    class Protocol:
        def send_text(self, data: bytes) -> None:
            pass

        def data_to_send(self) -> list[bytes]:
            return [b"frames"]

    class GoneConnection:
        """What the server writes to when a stall ends after its client left: the socket is gone."""

        protocol, transport = Protocol(), Transport()

        async def drain(self) -> None:
            raise gone("the client left while the connection was stalled")

    async with sim("spot") as ex:
        client = Client(ex, GoneConnection(), "", False)  # type: ignore[arg-type]
        ex.hub.add(client, "ethbtc@trade")
        client.stall(None)
        client.push(b"a frame queued during the stall")
        writer = asyncio.create_task(client._write_loop())
        with caplog.at_level(logging.DEBUG):
            client.unstall()
            await asyncio.wait_for(writer, 5)  # ends quietly instead of failing the connection handler
        assert client.dead and client.close_reason == "client gone"
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.asyncio
async def test_rest_faults(sim: Sim) -> None:
    async with sim("usdm") as ex:
        url = ex.rest_url + "/fapi/v1/depth?symbol=BTCUSDT&limit=5"
        ex.faults.rest_fail(503, count=2)
        ex.faults.rest_fail(429, count=1, retry_after=7)
        got = [await get(url) for _ in range(4)]
        assert [g[0] for g in got] == [503, 503, 429, 200]
        assert got[2][1]["Retry-After"] == "7"
        ex.faults.rest_delay(0.3)
        t0 = asyncio.get_running_loop().time()
        assert (await get(url))[0] == 200
        assert asyncio.get_running_loop().time() - t0 >= 0.3
        ex.faults.rest_fail(418, duration_ms=2000)
        assert (await get(url))[0] == 418
        await ex.advance(2000)
        assert (await get(url))[0] == 200


@pytest.mark.asyncio
async def test_replay_serves_the_recording() -> None:
    path = recording("usdm_sushiusdt_2021-07-22")
    recorded = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    frames = [r for r in recorded if r["kind"] == "ws"]
    streams = sorted({json.loads(r["raw"])["stream"] for r in frames})
    async with SimExchange(SimConfig(speed=0.0, replay=path)) as ex:
        assert ex.config.market == "usdm"
        async with websockets.connect(f"{ex.ws_url}/public/stream?streams={'/'.join(streams)}") as ws:
            pub = [r for r in frames if "@depth" in r["raw"][:40] or "@bookTicker" in r["raw"][:40]]
            got = (await run(ex, [ws], int((frames[-1]["t"] - frames[0]["t"]) * 1000) + 2000, chunk=500))[0]
        assert [json.loads(g) for g in got] == [json.loads(r["raw"]) for r in pub]
        sym = next(r for r in recorded if r["kind"] == "http")
        _, _, snap = await get(ex.rest_url + "/fapi/v1/depth?symbol=" + sym["url"].split("symbol=")[1].split("&")[0])
        assert snap == json.loads(sym["raw"])


@pytest.mark.asyncio
async def test_a_manual_clock_can_be_set_running_after_a_fast_history() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=2, speed=0.0, rate=20.0)) as ex:
        await ex.advance(60_000)  # a minute of history, traded at once
        before = ex.now_ms()
        ex.run_at(50.0)
        await asyncio.sleep(0.2)  # about 10 virtual seconds
        later = ex.now_ms()
        assert 5_000 <= later - before <= 20_000 and ex.truth.agg_trades(ex.truth.symbols()[0])[-1].T > before
        _, headers, _ = await get(ex.rest_url + "/fapi/v1/time")
        assert headers["X-Tapeflow-Clock-Rate"] == "50"
        with pytest.raises(RuntimeError, match="manual clock"):
            ex.run_at(2.0)
