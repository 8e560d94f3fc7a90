"""Health, status, Prometheus metrics and pushed events, against the simulator over real sockets."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tapeflow.serve import push
from tapeflow.sim import SimExchange
from tests.monitor.support import monitor_on
from tests.serve.support import drive, monitor_kwargs, served, settle, sim_config


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page (the official parser), by name and labels."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(v for (n, _), v in values.items() if n == name)


@pytest.mark.asyncio
async def test_health_status_and_metrics_follow_the_feed() -> None:
    async with SimExchange(sim_config(symbols=4)) as ex, monitor_on(ex, **monitor_kwargs()) as m:
        await drive(ex, m, 30_000)
        await settle(ex, m)
        async with served(m) as http:
            r = await http.get("/health")
            assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["reasons"] == []
            st = m.status()
            body = (await http.get("/status")).json()
            assert body["symbols"] == 4 and body["frames"] == st.frames and body["books"] == dict(st.books)
            assert [c["id"] for c in body["connections"]] == [c.id for c in st.connections]
            first = samples((await http.get("/metrics")).text)
            assert total(first, "tapeflow_frames_total") == sum(c.frames for c in st.connections) > 0
            assert first[("tapeflow_books", (("state", "SYNCED"),))] == 2
            assert first[("tapeflow_rest_weight_limit", ())] == st.rest.weight_limit
            assert ("tapeflow_event_loop_stall_seconds", ()) in first
            # Counters move as frames arrive, and throttling shows.
            ex.faults.rest_fail(429, count=1, retry_after=1)
            m.engine.reset_book("BTCUSDT")
            await drive(ex, m, 10_000)
            await settle(ex, m)
            later = samples((await http.get("/metrics")).text)
            assert total(later, "tapeflow_frames_total") > total(first, "tapeflow_frames_total")
            assert later[("tapeflow_frames_applied_total", ())] > first[("tapeflow_frames_applied_total", ())]
            assert later[("tapeflow_rest_throttled_total", ())] == 1
            assert (
                later[("tapeflow_snapshots_fetched_total", ())] == first[("tapeflow_snapshots_fetched_total", ())] + 1
            )
            # Feeds down: 503 with the reason.
            await m.runtime.pool.stop()
            r = await http.get("/health")
            assert r.status_code == 503 and r.json()["status"] == "down"
            assert "no feed connection is open" in r.json()["reasons"]


async def sse_events(lines: Any, n: int) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    kind = ""
    async for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            out.append((kind, json.loads(line[6:])))
            if len(out) >= n:
                return out
    return out


@pytest.mark.asyncio
async def test_events_are_pushed_over_sse_and_websocket() -> None:
    async with SimExchange(sim_config(symbols=3, liq_rate=1.0)) as ex, monitor_on(ex, **monitor_kwargs()) as m:
        await drive(ex, m, 5_000)
        await settle(ex, m)
        async with served(m) as http:
            ws_url = str(http.base_url).rstrip("/").replace("http://", "ws://") + "/events?kinds=liquidation"
            async with (
                http.stream("GET", "/events", params={"kinds": "liquidation"}) as sse,
                websockets.connect(ws_url) as ws,
            ):
                assert sse.headers["content-type"].startswith("text/event-stream")
                lines = sse.aiter_lines()
                start = ex.now_ms()
                await drive(ex, m, 5_000)
                got = await asyncio.wait_for(sse_events(lines, 3), 10)
                over_ws = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]
            pushed = sorted((x for x in ex.truth.liquidations() if x.pushed and x.T > start), key=lambda x: x.T)
            assert all(kind == "liquidation" for kind, _ in got)
            assert [e for _, e in got] == over_ws
            # Each pushed liquidation is one the exchange pushed, with its exact notional.
            truth = {(x.symbol, x.T): Decimal(x.q) * Decimal(x.ap) / 10**16 for x in pushed}
            for e in over_ws:
                assert abs(Decimal(str(e["data"]["notional"])) - truth[(e["symbol"], e["time_ms"])]) < Decimal("1e-6")


@pytest.mark.asyncio
async def test_a_slow_client_is_dropped_and_the_feed_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push, "QUEUE", 3)
    async with SimExchange(sim_config(symbols=3)) as ex, monitor_on(ex, **monitor_kwargs()) as m:
        await drive(ex, m, 3_000)
        async with (
            served(m) as http,
            http.stream("GET", "/events") as slow,
            http.stream("GET", "/events", params={"kinds": "synced"}) as ok,
        ):
            lines, ok_lines = slow.aiter_lines(), ok.aiter_lines()
            assert [await anext(lines), await anext(ok_lines)] == ["retry: 3000"] * 2
            # A burst larger than a client's queue, faster than the client takes it: that client is dropped, the
            # feed does not wait for it (the events were handed over without blocking).
            for i in range(5):
                m.events_hub.emit("big_trade", "BTCUSDT", {"trade_id": i}, 1)
            rest = [line async for line in lines]
            assert rest[-3:-1] == ["event: dropped", 'data: {"reason": "the client fell behind"}']
            # A client that keeps up (it takes only "synced" events) stays, and gets what comes next; the feed went on.
            frames = m.status().frames
            await drive(ex, m, 2_000)
            assert m.status().frames > frames
            m.events_hub.emit("synced", "ETHUSDT", {"last_update_id": 99}, 2)
            got = await asyncio.wait_for(sse_events(ok_lines, 1), 5)
            assert got == [
                ("synced", {"kind": "synced", "symbol": "ETHUSDT", "time_ms": 2, "data": {"last_update_id": 99}})
            ]
            assert (await http.get("/health")).status_code == 200


@pytest.mark.asyncio
async def test_api_docs_work_without_internet() -> None:
    async with SimExchange(sim_config(symbols=2)) as ex, monitor_on(ex, **monitor_kwargs()) as m:
        async with served(m) as http:
            page = (await http.get("/docs")).text
            assert "/openapi.json" in page and "/docs/assets/swagger-ui-bundle.js" in page
            assert "https://" not in page and "http://" not in page  # every asset from this server
            for name, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "css")):
                r = await http.get(f"/docs/assets/{name}")
                assert r.status_code == 200 and kind in r.headers["content-type"] and len(r.content) > 10_000
            assert (await http.get("/docs/assets/../../secret")).status_code == 404
            assert (await http.get("/redoc")).status_code == 404  # it would need a CDN
            assert (await http.get("/openapi.json")).json()["info"]["title"] == "tapeflow"
