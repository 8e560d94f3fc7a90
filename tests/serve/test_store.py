"""The HTTP service over a Monitor with a store, against the simulator over real sockets: candles reaching back past
memory into the store, and a store that cannot write showing in /health, /status and /metrics."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tapeflow import Monitor
from tapeflow.sim import SimExchange
from tests.monitor.support import monitor_on
from tests.serve.support import MIN, drive, monitor_kwargs, served, settle, sim_config
from tests.serve.test_service import samples, total
from tests.sim.support import tape
from tests.store.support import read_only

#: Completed intervals the engine keeps in memory per interval (``Engine(flow_history=...)``'s default).
KEPT = 60


async def candles(http: httpx.AsyncClient, symbol: str, **params: Any) -> dict[str, Any]:
    r = await http.get(f"/candles/{symbol}", params={"interval": "1m", "limit": 1000, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def equals_tape(ex: SimExchange, symbol: str, c: dict[str, Any]) -> bool:
    t = tape(ex, symbol, c["start_ms"], c["end_ms"])
    exact = tuple(Decimal(c[f"{k}_exact"]) for k in ("buy_base", "sell_base", "buy_quote", "sell_quote"))
    return exact == (t.buy_base, t.sell_base, t.buy_quote, t.sell_quote) and (c["buy_count"], c["sell_count"]) == (
        t.buy_count,
        t.sell_count,
    )


@pytest.mark.asyncio
@pytest.mark.timeout(240)
async def test_candles_reach_past_memory_into_the_store_each_interval_once(tmp_path: Path) -> None:
    cfg = sim_config(symbols=3, rate=3.0, liq_rate=0.1)
    kw = monitor_kwargs(books=False, store=tmp_path / "usdm.db")
    async with SimExchange(cfg) as ex, monitor_on(ex, **kw) as m:
        t0 = ex.now_ms()
        # Steps of 5 s: the store's keeper may look at an interval (5 s of the clock after its end) before its last
        # trades are in; it is then written incomplete, and complete at a later checkpoint.
        await drive(ex, m, (KEPT + 6) * MIN, chunk=5000)
        await settle(ex, m)
        assert await m.flush_store()
        await asyncio.sleep(0.3)  # the clock stands still: once the last frames are in, nothing changes
        await m.settle()
        async with served(m) as http:
            for s in m.symbols:
                current = int(m.engine.candles(s, "1m@aligned")["start_ms"][-1])  # the engine's current interval
                assert ex.now_ms() - 2 * MIN < current <= ex.now_ms()  # frames of the last second may be on their way
                body = await candles(http, s)
                kept_from = body["kept_from_ms"]
                assert kept_from == current - KEPT * MIN  # memory: 60 completed intervals and the current one
                got = body["candles"]
                starts = [c["start_ms"] for c in got]
                # Every interval since the Monitor started, once, in order: no duplicate, no hole at the seam.
                assert starts == list(range(t0, current + MIN, MIN)), s
                assert {c["source"] for c in got if c["start_ms"] < kept_from} == {"store"}
                assert {c["source"] for c in got if c["start_ms"] >= kept_from} == {"memory"}
                assert sum(c["source"] == "store" for c in got) >= 5
                # Brute force: each completed interval equals the sums of the exchange's tape over it.
                for c in got[:-1]:
                    assert c["complete"] and c["end_ms"] - c["start_ms"] == MIN
                    assert equals_tape(ex, s, c), (s, c)
                    if c["buy_count"] + c["sell_count"]:
                        vwap = (Decimal(c["buy_quote_exact"]) + Decimal(c["sell_quote_exact"])) / (
                            Decimal(c["buy_base_exact"]) + Decimal(c["sell_base_exact"])
                        )
                        assert c["vwap"] == pytest.approx(float(vwap), rel=1e-12)
                # The store's copy of an interval memory still holds is the same candle, field for field.
                stored = m.history.candles(s, "1m", start=kept_from, end=kept_from + 3 * MIN)
                assert len(stored["start_ms"]) == 3
                for i, c in enumerate(got[len(got) - KEPT - 1 :][:3]):
                    assert c["start_ms"] == stored["start_ms"][i]
                    for k in ("buy_base", "sell_base", "buy_quote", "sell_quote"):
                        assert c[f"{k}_exact"] == stored[f"{k}_exact"][i], (s, k)
                        assert c[k] == pytest.approx(
                            stored[k][i], rel=1e-15
                        )  # the engine's float, to the last bit or so
            # A range across the seam, and one wholly in the store.
            s = m.symbols[0]
            current = int(m.engine.candles(s, "1m@aligned")["start_ms"][-1])
            whole = {c["start_ms"]: c for c in (await candles(http, s))["candles"]}
            kept_from = current - KEPT * MIN
            body = await candles(http, s, start=kept_from - 3 * MIN, end=kept_from + 2 * MIN)
            assert [(c["start_ms"], c["source"]) for c in body["candles"]] == [
                (kept_from + k * MIN, "store" if k < 0 else "memory") for k in range(-3, 2)
            ]
            assert all(c == whole[c["start_ms"]] for c in body["candles"])
            body = await candles(http, s, start=t0 + 1, end=t0 + 4 * MIN)
            assert [c["start_ms"] for c in body["candles"]] == [t0 + MIN, t0 + 2 * MIN, t0 + 3 * MIN]
            # ``limit`` keeps the newest of the range, wherever they come from.
            body = await candles(http, s, end=kept_from + MIN, limit=4)
            assert [c["start_ms"] for c in body["candles"]] == [kept_from + k * MIN for k in range(-3, 1)]
            body = await candles(http, s, start=0, limit=2)
            assert [c["start_ms"] for c in body["candles"]] == [current - MIN, current]
            # A flow window as the interval: memory holds all of it, the store is not needed.
            r = await http.get(f"/candles/{s}", params={"interval": "15m"})
            assert {c["source"] for c in r.json()["candles"]} == {"memory"}
            assert r.json()["store_error"] is None


@pytest.mark.asyncio
async def test_candles_without_a_store_are_memory_only() -> None:
    async with SimExchange(sim_config(symbols=2)) as ex, monitor_on(ex, **monitor_kwargs(books=False)) as m:
        await drive(ex, m, 3 * MIN, chunk=5000)
        async with served(m) as http:
            body = await candles(http, m.symbols[0], start=0)
            assert body["candles"] and {c["source"] for c in body["candles"]} == {"memory"}
            assert body["kept_from_ms"] == body["candles"][0]["start_ms"]
            r = await http.get("/health")
            assert r.json()["store"] == {"state": "none", "error": None, "pending_rows": 0, "lost_rows": 0}
            assert (await http.get("/status")).json()["store"] is None
            assert not any(n.startswith("tapeflow_store_") for n, _ in samples((await http.get("/metrics")).text))


async def _until(ex: SimExchange, m: Monitor, cond: Any, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not cond():
        assert time.monotonic() < deadline, m.status().store
        await drive(ex, m, 1_000)
        await asyncio.sleep(0.1)


@pytest.mark.asyncio
@pytest.mark.timeout(180)
async def test_a_store_that_cannot_write_fails_health_and_shows_in_status_and_metrics(tmp_path: Path) -> None:
    where = tmp_path / "ro"
    where.mkdir()
    cfg = sim_config(symbols=3, liq_rate=1.0)
    async with SimExchange(cfg) as ex:
        with read_only(where) as locked:  # the store cannot even be created
            async with monitor_on(ex, **monitor_kwargs(store=where / "usdm.db")) as m, served(m) as http:
                await drive(ex, m, 20_000)
                await settle(ex, m)
                await _until(ex, m, lambda: m.status().store.failures >= 2)  # type: ignore[union-attr]
                r = await http.get("/health")
                body = r.json()
                assert r.status_code == 503 and body["status"] == "failing", body
                assert body["store"]["state"] == "failing" and body["store"]["error"]
                assert body["store"]["pending_rows"] > 0 and body["store"]["lost_rows"] == 0
                assert any(x.startswith("the store cannot write (") for x in body["reasons"]), body
                assert body["connections_open"] == body["connections"]  # the feeds flow meanwhile
                st = (await http.get("/status")).json()["store"]
                assert st["state"] == "failing" and st["path"] == str(where / "usdm.db") and st["error"]
                failing = samples((await http.get("/metrics")).text)
                assert failing[("tapeflow_store_failing", ())] == 1
                assert failing[("tapeflow_store_write_failures_total", ())] >= 2
                assert failing[("tapeflow_store_backlog_rows", ())] > 0
                assert total(failing, "tapeflow_store_rows_written_total") == 0
                assert total(failing, "tapeflow_store_rows_lost_total") == 0
                # The disk takes writes again: everything queued is written, health is back to ok.
                locked.release()
                await _until(ex, m, lambda: m.status().store.state == "ok")  # type: ignore[union-attr]
                assert await m.flush_store()
                r = await http.get("/health")
                assert r.status_code == 200 and r.json()["status"] == "ok", r.json()
                assert r.json()["store"] == {"state": "ok", "error": None, "pending_rows": 0, "lost_rows": 0}
                ok = samples((await http.get("/metrics")).text)
                assert ok[("tapeflow_store_failing", ())] == 0 and ok[("tapeflow_store_backlog_rows", ())] == 0
                written = ok[("tapeflow_store_rows_written_total", (("kind", "liquidations"),))]
                assert written == m.status().store.written["liquidations"] > 0  # type: ignore[union-attr]
                assert (
                    ok[("tapeflow_store_write_failures_total", ())]
                    >= failing[("tapeflow_store_write_failures_total", ())]
                )
                # Counters only grow as the store goes on writing.
                await drive(ex, m, 10_000)
                assert await m.flush_store()
                later = samples((await http.get("/metrics")).text)
                assert later[("tapeflow_store_rows_written_total", (("kind", "liquidations"),))] > written
                assert later[("tapeflow_store_commits_total", ())] > ok[("tapeflow_store_commits_total", ())]
