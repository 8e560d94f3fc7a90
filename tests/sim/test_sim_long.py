"""Long virtual spans in seconds: 30 virtual minutes of an all-market futures session with liquidations."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from decimal import Decimal

import pytest
import websockets

from tapeflow.sim import SimConfig, SimExchange
from tests.sim.support import get, run

#: Long end-to-end runs (minutes of virtual time, many symbols): `make test-quick` leaves them out.
pytestmark = pytest.mark.slow


@pytest.mark.asyncio
async def test_thirty_virtual_minutes_all_market() -> None:
    cfg = SimConfig(market="usdm", symbols=12, seed=9, speed=0.0, rate=2.0, liq_rate=0.5)
    streams = "!forceOrder@arr/!markPrice@arr@1s/!miniTicker@arr/s0003usdt@kline_1m"
    async with SimExchange(cfg) as ex, websockets.connect(f"{ex.ws_url}/market/stream?streams={streams}") as ws:
        frames = [json.loads(f) for f in (await run(ex, [ws], 30 * 60_000, chunk=30_000))[0]]
        _, _, rest_klines = await get(f"{ex.rest_url}/fapi/v1/klines?symbol=S0003USDT&interval=1m&limit=100")
        truth = ex.truth
        assert ex.now_ms() - ex.market.start_ms == 30 * 60_000
        by_stream: dict[str, list[dict]] = defaultdict(list)  # type: ignore[type-arg]
        for f in frames:
            by_stream[f["stream"]].append(f["data"])
        # Liquidations: at most one per symbol per second, the largest of that second (USD-M rule).
        pushed = [(d["o"]["s"], d["o"]["T"] // 1000, Decimal(d["o"]["q"]) * Decimal(d["o"]["ap"]))
                  for d in by_stream["!forceOrder@arr"]]  # fmt: skip
        assert len(pushed) > 50 and len({(s, sec) for s, sec, _ in pushed}) == len(pushed)
        every = defaultdict(list)
        spec = {s: truth.spec(s) for s in truth.symbols()}
        for liq in truth.liquidations():
            every[(liq.symbol, liq.T // 1000)].append(Decimal(liq.q * liq.ap) / Decimal(10**16))
        assert len(truth.liquidations()) > len(pushed)  # some were hidden by the snapshot rule
        for sym, sec, notional in pushed:
            assert notional == max(every[(sym, sec)]) and spec[sym]
        assert sum(len(v) for v in every.values()) == len(truth.liquidations())
        # Mark prices: one array per virtual second with every symbol.
        marks = by_stream["!markPrice@arr@1s"]
        assert len(marks) == 30 * 60 and all(len(m) == 12 for m in marks)
        # Mini tickers: each symbol's volume equals the sum of its trades before the event.
        last = by_stream["!miniTicker@arr"][-1]
        for t in last:
            vol = sum(tr.q for tr in truth.trades(t["s"]) if tr.T < t["E"])
            assert round(Decimal(t["v"]) * 10**8) == vol
        # Closed 1m candles pushed on the stream equal the REST klines and the truth tape.
        closed = [d["k"] for d in by_stream["s0003usdt@kline_1m"] if d["k"]["x"]]
        assert len(closed) >= 29
        rest = {row[0]: row for row in rest_klines}
        for k in closed:
            if k["n"]:
                row = rest[k["t"]]
                assert (row[5], row[8], row[9]) == (k["v"], k["n"], k["V"])
                trades = [t for t in truth.trades("S0003USDT") if k["t"] <= t.T <= k["T"]]
                assert len(trades) == k["n"] and (trades[0].t, trades[-1].t) == (k["f"], k["L"])


@pytest.mark.asyncio
async def test_real_clock_runs_faster_than_real_time() -> None:
    cfg = SimConfig(market="spot", symbols=5, seed=2, speed=20.0, rate=10.0)
    async with SimExchange(cfg) as ex, websockets.connect(f"{ex.ws_url}/ws/s0001usdt@kline_1s") as ws:
        t0 = asyncio.get_running_loop().time()
        events = []
        while asyncio.get_running_loop().time() - t0 < 1.0:
            events.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        span = events[-1]["E"] - events[0]["E"]
        assert 10_000 <= span <= 21_000  # about 20 virtual seconds in one real second
        assert [e["E"] for e in events] == sorted(e["E"] for e in events)
