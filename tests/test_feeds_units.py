"""Stream names, routes and sharding; the REST client's budget and pauses; the lag probe; the engine worker."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from monitor_helpers import drive, monitor_on
from tapeflow import FunctionClock
from tapeflow.errors import RestError
from tapeflow.feeds.streams import MARKETS, kind_of, plan_shards, route_of, stream_url
from tapeflow.feeds.worker import EngineWorker
from tapeflow.sim import SimConfig, SimExchange
from tapeflow.sync.rest import RestClient


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


@pytest.mark.parametrize("window", ["0m", "15", "m", "-1m", "1w", "1.5h", ""])
def test_monitor_rejects_bad_windows_up_front(window: str) -> None:
    from tapeflow import Monitor

    with pytest.raises(ValueError, match="duration"):
        Monitor(market="usdm", symbols=["BTCUSDT"], flow=["1m", window])


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(0, False), (400, True), (404, True), (418, False), (429, False), (500, False), (503, False)],
)
def test_only_bad_requests_are_permanent_rest_errors(status: int, permanent: bool) -> None:
    # 418/429 are bans and rate limits (wait and retry), 5xx and no reply are the exchange's trouble (retry).
    assert RestError("x", status=status).permanent is permanent


def test_route_overrides_and_urls() -> None:
    assert route_of("usdm", "btcusdt@aggTrade", {"aggTrade": "public"}) == "public"
    assert stream_url("wss://fstream.binance.com", "market", ["a@aggTrade", "b@aggTrade"]) == (
        "wss://fstream.binance.com/market/stream?streams=a@aggTrade/b@aggTrade"
    )
    assert stream_url("wss://stream.binance.com:9443/", "", ["a@depth"]) == (
        "wss://stream.binance.com:9443/stream?streams=a@depth"
    )


def test_shards_respect_the_cap_and_keep_kinds_apart() -> None:
    streams = [f"s{i}usdt@depth@100ms" for i in range(2500)] + [f"s{i}usdt@aggTrade" for i in range(300)]
    streams += ["!forceOrder@arr", "!markPrice@arr@1s"]
    shards = plan_shards("usdm", streams)
    assert [len(s.streams) for s in shards] == [1024, 1024, 452, 300, 2]
    assert [s.route for s in shards] == ["public"] * 3 + ["market"] * 2
    assert all(len({kind_of(n) for n in s.streams}) == 1 for s in shards[:4])
    assert sorted(n for s in shards for n in s.streams) == sorted(streams)
    assert max(len(s.streams) for s in plan_shards("usdm", streams, cap=100)) == 100
    assert max(len(s.streams) for s in plan_shards("spot", streams, cap=5000)) == MARKETS["spot"].max_streams


def test_futures_snapshot_weights() -> None:
    spec = MARKETS["usdm"]
    assert [spec.depth_weight(n) for n in (5, 50, 100, 500, 1000)] == [2, 2, 5, 10, 20]
    assert [MARKETS["spot"].depth_weight(n) for n in (100, 500, 1000, 5000)] == [5, 25, 50, 250]


@pytest.mark.asyncio
async def test_rest_client_waits_out_retry_after_on_its_clock() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=2, speed=0.0)) as ex:
        rest = RestClient(ex.rest_url, clock=FunctionClock(ex.now_ms, poll=0.001), weight_limit=2400)
        try:
            ex.faults.rest_fail(429, count=1, retry_after=7)
            task = asyncio.create_task(rest.get("/fapi/v1/ping", None, 1))
            for _ in range(1000):  # the 429 arrives, then the client waits 7 virtual seconds
                if rest.status().throttled:
                    break
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.05)
            assert not task.done() and rest.status().throttled == 1
            assert 6.0 <= rest.status().paused_for_s <= 7.1
            await ex.advance(6000)
            await asyncio.sleep(0.05)
            assert not task.done()
            await ex.advance(2000)
            assert await asyncio.wait_for(task, 5) == b"{}"
            with pytest.raises(RestError) as bad:
                await rest.get("/fapi/v1/depth", {"symbol": "NOPE", "limit": 5}, 2)
            assert bad.value.status == 400 and bad.value.code == -1121
        finally:
            await rest.close()


@pytest.mark.asyncio
async def test_status_reports_lag_rates_and_weight() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=3, speed=0.0, rate=8.0)) as ex:
        async with monitor_on(ex, flow=()) as m:
            await drive(ex, m, 10_000)
            # A rate needs two liveness checks a second apart; on a busy machine the check task can trail the
            # driven clock, so give it a few more seconds (bounded) before reading.
            for _ in range(10):
                if all(c.frames_per_s > 0 for c in m.status().connections):
                    break
                await drive(ex, m, 1000)
            st = m.status()
            assert st.symbols == 3 and st.rest.weight_spent == 3 * 20 + 1
            assert st.rest.weight_used == ex.limiter.used
            for c in st.connections:
                assert c.state == "open" and c.frames > 0 and c.lag_ms == 0  # virtual clock: no transit time
                assert c.frames_per_s > 0 and c.silent_kinds == ()


@pytest.mark.asyncio
async def test_threaded_worker_reports_results_while_work_keeps_coming() -> None:
    # A feed faster than the engine keeps the worker's queue from ever emptying; its results must still come back
    # as it goes, not once the queue runs dry (a benchmark sender re-serving on every reconnect never let it).
    applied = 0
    lock = threading.Lock()

    class SlowEngine:
        def apply_frames(self, frames: list[bytes], recv_ts_ns: int) -> Any:
            nonlocal applied
            time.sleep(0.002)
            with lock:
                applied += 1
            return SimpleNamespace(frames=len(frames))

    first = asyncio.Event()
    seen_at_first: list[int] = []

    def on_batch(owner: object, result: object) -> None:
        if not first.is_set():
            seen_at_first.append(applied)
            first.set()

    worker = EngineWorker(SlowEngine(), on_batch, threaded=True)  # type: ignore[arg-type]
    try:
        for i in range(300):
            worker.submit_frames(None, [b"x"], i)
        await asyncio.wait_for(first.wait(), 5)
        assert seen_at_first[0] < 300  # the first results came back before the last item was applied
        await asyncio.wait_for(worker.drain(), 5)
        assert worker.batches == 300
    finally:
        worker.stop()


@pytest.mark.asyncio
async def test_threaded_worker_survives_an_engine_failure() -> None:
    class FailingOnce:
        calls = 0

        def apply_frames(self, frames: list[bytes], recv_ts_ns: int) -> Any:
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("engine failure")
            return SimpleNamespace(frames=len(frames))

    got: list[int] = []
    worker = EngineWorker(FailingOnce(), lambda owner, r: got.append(r.frames), threaded=True)  # type: ignore[arg-type]
    try:
        for n in (1, 2, 3):
            worker.submit_frames(None, [b"x"] * n, 0)
        await asyncio.wait_for(worker.drain(), 5)  # the failed batch counts as done: nothing waits forever
        assert got == [1, 3]
    finally:
        worker.stop()


@pytest.mark.asyncio
async def test_monitor_that_fails_to_start_leaves_nothing_running() -> None:
    from tapeflow import Monitor
    from tapeflow.errors import TapeflowError

    cfg = SimConfig(market="usdm", symbols=2, seed=3, speed=0.0)
    async with SimExchange(cfg) as ex:
        m = Monitor(market="usdm", symbols=["NOPEUSDT"], ws_url=ex.ws_url, rest_url=ex.rest_url, engine_thread=True)
        with pytest.raises(TapeflowError, match="unknown symbols"):
            await m.start()
        assert m.rest._session is None and m.worker._thread is None  # session closed, engine thread joined
        await m.close()  # and closing it is harmless
