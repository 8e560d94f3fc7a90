"""Simulated data obeys the facts real Binance data obeys (tests/data/README.md), checked independently.

The checker below is plain Python over the frames a plain websockets client received and the REST snapshots it
fetched: the official sync procedure (binance-api.md §4.1, §4.2), bookTicker against the book at the same ``u``, and
kline volume deltas against aggTrade sums.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
import websockets

from tapeflow.recordings import bundled, read_recording
from tapeflow.sim import SimConfig, SimExchange
from tapeflow.sim.market import STEP_MS
from tests.sim.support import Book, get, run
from tests.support import exchange_info

PREFIX = {"spot": "/api/v3", "usdm": "/fapi/v1", "coinm": "/dapi/v1"}


def dec_book(bids: dict[int, int], asks: dict[int, int]) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
    e8 = Decimal(100_000_000)
    return ({Decimal(p) / e8: Decimal(q) / e8 for p, q in bids.items()},
            {Decimal(p) / e8: Decimal(q) / e8 for p, q in asks.items()})  # fmt: skip


@pytest.mark.asyncio
@pytest.mark.parametrize("market", ["spot", "usdm", "coinm"])
async def test_every_symbol_syncs_and_matches_truth(market: str) -> None:
    cfg = SimConfig(market=market, symbols=4, seed=11, speed=0.0, exchange_info=exchange_info(market), rate=40.0)
    async with SimExchange(cfg) as ex:
        syms = ex.truth.symbols()
        names = [s.lower() for s in syms]
        book_streams = [f"{n}@depth@100ms" for n in names] + [f"{n}@bookTicker" for n in names]
        flow_streams = [f"{n}@aggTrade" for n in names] + [f"{n}@kline_1m" for n in names]
        if market == "usdm":
            urls = [
                f"/public/stream?streams={'/'.join(book_streams)}",
                f"/market/stream?streams={'/'.join(flow_streams)}",
            ]
        else:
            urls = [f"/stream?streams={'/'.join(book_streams + flow_streams)}"]
        conns = [await websockets.connect(ex.ws_url + u) for u in urls]
        books = {s: Book(market != "spot") for s in syms}
        frames = [json.loads(f) for fs in await run(ex, conns, 1000) for f in fs]
        for f in frames:
            if f["data"].get("e") == "depthUpdate":
                books[f["data"]["s"]].event(f["data"])
        for s in syms:
            status, _, snap = await get(f"{ex.rest_url}{PREFIX[market]}/depth?symbol={s}&limit=1000")
            assert status == 200
            books[s].snapshot(snap)
        later = [json.loads(f) for fs in await run(ex, conns, 60_000) for f in fs]
        for c in conns:
            await c.close()
    frames += later
    tickers: dict[str, dict[int, tuple[Decimal, Decimal, Decimal, Decimal]]] = {s: {} for s in syms}
    snapshots: dict[str, dict[int, tuple[Decimal, Decimal, Decimal, Decimal]]] = {s: {} for s in syms}
    for f in later:
        d = f["data"]
        if d.get("e") == "depthUpdate":
            b = books[d["s"]]
            b.event(d)
            snapshots[d["s"]][d["u"]] = (max(b.bids), b.bids[max(b.bids)], min(b.asks), b.asks[min(b.asks)])
        elif f["stream"].endswith("@bookTicker"):
            tickers[d["s"]][d["u"]] = (Decimal(d["b"]), Decimal(d["B"]), Decimal(d["a"]), Decimal(d["A"]))
    matched = 0
    for s in syms:
        b = books[s]
        assert b.synced and b.gaps == 0 and len(b.applied) > 100
        # The independent book equals the simulator's truth at the last applied id.
        truth = ex.truth.book_at(s, b.uid or 0)
        assert (b.bids, b.asks) == dec_book(truth.bids, truth.asks)
        for u, top in tickers[s].items():
            if u in snapshots[s]:
                assert snapshots[s][u] == top
                matched += 1
    assert matched > 20
    check_klines(frames, market, ex)


def check_klines(frames: list[dict[str, Any]], market: str, ex: SimExchange) -> None:
    """Between two kline pushes of one candle, Δv and ΔV equal the sums of the aggTrades in (L_prev, L_next]."""
    aggs: dict[str, list[dict[str, Any]]] = {}
    klines: dict[str, list[dict[str, Any]]] = {}
    for f in frames:
        d = f["data"]
        if d.get("e") == "aggTrade":
            aggs.setdefault(d["s"], []).append(d)
        elif d.get("e") == "kline":
            klines.setdefault(d["s"], []).append(d["k"])
    checked = 0
    for s, ks in klines.items():
        by_last = {a["l"]: i for i, a in enumerate(aggs.get(s, []))}
        by_first = {a["f"]: i for i, a in enumerate(aggs.get(s, []))}
        for k1, k2 in itertools.pairwise(ks):
            if k1["t"] != k2["t"] or k1["L"] < 0 or k2["L"] == k1["L"]:
                continue
            if k1["L"] not in by_last or k2["L"] not in by_last or k1["L"] + 1 not in by_first:
                continue  # pushed inside an aggregate trade (futures)
            span = aggs[s][by_first[k1["L"] + 1] : by_last[k2["L"]] + 1]
            ids = [i for a in span for i in range(a["f"], a["l"] + 1)]
            assert ids == list(range(k1["L"] + 1, k2["L"] + 1)), "aggTrades must cover the id range"
            dv = sum(Decimal(a["q"]) for a in span)
            dV = sum(Decimal(a["q"]) for a in span if not a["m"])
            assert Decimal(k2["v"]) - Decimal(k1["v"]) == dv
            assert Decimal(k2["V"]) - Decimal(k1["V"]) == dV
            if market != "coinm":
                dq = sum(Decimal(a["p"]) * Decimal(a["q"]) for a in span)
                assert abs(Decimal(k2["q"]) - Decimal(k1["q"]) - dq) <= Decimal("2e-8")
            checked += 1
    assert checked > 10


def recorded_push_lag_ms() -> int:
    """The longest time from trade time to event time of an aggregate trade in the bundled futures recordings."""
    lags = []
    for path in bundled():
        for record in read_recording(path) if not path.name.startswith("spot") else ():
            data = json.loads(record.raw).get("data", {}) if record.kind == "ws" else {}
            if data.get("e") == "aggTrade":
                lags.append(data["E"] - data["T"])
    assert len(lags) > 10 and min(lags) >= 0
    return max(lags)


RECORDED_PUSH_LAG_MS = recorded_push_lag_ms() + 50  # room for the simulator's 50 ms steps


@pytest.mark.asyncio
@pytest.mark.parametrize("market", ["spot", "usdm", "coinm"])
async def test_trade_ids_follow_trade_time(market: str) -> None:
    # Binance numbers trades and aggregate trades in time order; liquidations trade through the book too, so they
    # are where a simulator could slip (their fills used to come after the step's other events).
    cfg = SimConfig(market=market, symbols=3, seed=12, speed=0.0, rate=30.0, liq_rate=2.0)
    async with SimExchange(cfg) as ex:
        names = [s.lower() for s in ex.truth.symbols()]
        route = "/market" if market == "usdm" else ""
        streams = "/".join(f"{n}@aggTrade" for n in names)
        async with websockets.connect(f"{ex.ws_url}{route}/stream?streams={streams}") as ws:
            frames = [json.loads(f)["data"] for f in (await run(ex, [ws], 120_000))[0]]
        for s in ex.truth.symbols():
            pushed = [(f["a"], f["T"]) for f in frames if f["s"] == s]
            status, _, rows = await get(f"{ex.rest_url}{PREFIX[market]}/aggTrades?symbol={s}&limit=1000")
            assert status == 200
            served = [(r["a"], r["T"]) for r in rows]
            for tape in (pushed, served):
                assert len(tape) > 100
                assert [a for a, _ in tape] == list(range(tape[0][0], tape[0][0] + len(tape)))  # consecutive ids
                assert all(t0 <= t1 for (_, t0), (_, t1) in itertools.pairwise(tape)), s  # times never go back
            # An aggregate is pushed once it closes: its event time is at or after its trade time, and on futures
            # (100 ms aggregation) up to about 160 ms after it, as in the recordings.
            lags = [f["E"] - f["T"] for f in frames if f["s"] == s]
            assert all(0 <= lag < RECORDED_PUSH_LAG_MS for lag in lags), (s, min(lags), max(lags))
            assert (max(lags) >= 100) == (market != "spot"), (s, max(lags))
            assert all(e0 <= e1 for e0, e1 in itertools.pairwise(f["E"] for f in frames if f["s"] == s))
        if market != "spot":
            assert any(liq.symbol for liq in ex.truth.liquidations()), "the run had liquidations"


@pytest.mark.asyncio
async def test_server_time_is_the_clock_in_milliseconds_and_never_ahead_of_the_events() -> None:
    # Binance answers /time in milliseconds. The model moves in 50 ms steps, but its /time is the clock's millisecond
    # held within the step being simulated: at or after the last step's end (its events are out), before the next.
    cfg = SimConfig(market="usdm", symbols=2, seed=65, speed=1.0, rate=5.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        seen: list[int] = []
        for _ in range(20):
            out = ex.now_ms()
            _, _, body = await get(ex.rest_url + "/fapi/v1/time")
            after_clock, after_out = ex.clock.now_ms(), ex.now_ms()
            t = body["serverTime"]
            assert out <= t < after_out + STEP_MS and t <= after_clock, (out, t, after_out, after_clock)
            seen.append(t)
            await asyncio.sleep(0.007)
        assert seen == sorted(seen)
        assert len({t % STEP_MS for t in seen}) > 3  # milliseconds, not the steps' ends
