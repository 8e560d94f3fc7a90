"""The REST client: which errors are permanent, and the pause a 429 imposes (on the feed's clock)."""

from __future__ import annotations

import asyncio

import pytest

from tapeflow import FunctionClock
from tapeflow.errors import RestError
from tapeflow.sim import SimConfig, SimExchange
from tapeflow.sync.rest import RestClient


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(0, False), (400, True), (404, True), (418, False), (429, False), (500, False), (503, False)],
)
def test_only_bad_requests_are_permanent_rest_errors(status: int, permanent: bool) -> None:
    # 418/429 are bans and rate limits (wait and retry), 5xx and no reply are the exchange's trouble (retry).
    assert RestError("x", status=status).permanent is permanent


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
