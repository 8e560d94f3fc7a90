"""End to end: the Monitor against the local exchange over real sockets, in virtual time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor_helpers import book_matches_truth, drive, monitor_on, read_books, settle
from tapeflow import ConnectionOptions
from tapeflow.sim import SimConfig, SimExchange


@pytest.mark.asyncio
async def test_books_and_liquidations_equal_the_truth() -> None:
    cfg = SimConfig(market="usdm", symbols=12, seed=5, speed=0.0, rate=4.0, liq_rate=0.3)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=()) as m:
        await drive(ex, m, 60_000)
        await settle(ex, m)
        assert sorted(m.symbols) == sorted(ex.truth.symbols())
        for s in m.symbols:
            assert book_matches_truth(ex, m, s), s
        st = m.status()
        assert st.books == {"SYNCED": 12, "SYNCING": 0, "GAP": 0}
        assert st.snapshots.fetched == 12 and st.rest.throttled == 0
        # Liquidations: what Binance pushed (one per symbol per second), notional = average price x filled qty.
        pushed = [liq for liq in ex.truth.liquidations() if liq.pushed]
        assert len(pushed) > 20
        total = m.liquidations.total(lookback="1h")
        assert total.count == len(pushed)
        assert Decimal(total.notional_exact) == sum(Decimal(liq.q * liq.ap) / 10**16 for liq in pushed)
        # The mark price came from the stream: the truth's mark of the last pushed second.
        sym = m.symbols[0]
        mark = m.engine.mark_price(sym)
        assert mark is not None and mark[1] == ex.now_ms() - ex.now_ms() % 1000


@pytest.mark.asyncio
async def test_wrong_route_is_found_silent_and_fixed() -> None:
    cfg = SimConfig(market="usdm", symbols=6, seed=6, speed=0.0, rate=4.0)
    opts = ConnectionOptions(verify_s=10.0)
    # A stale route table puts diff depth on /market, where Binance acknowledges it and never delivers.
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), routes={"depth": "market"}, options=opts) as m:
        events = m.events()
        await drive(ex, m, 30_000)
        await settle(ex, m)
        assert m.routes["depth"] == "public"
        for s in m.symbols:
            assert book_matches_truth(ex, m, s)
        changes = [e.data for e in events.pending() if e.kind == "route_changed"]
        assert changes == [{"kind": "depth", "from": "market", "to": "public", "streams": 6}]


@pytest.mark.asyncio
async def test_reconnects_rotation_and_faults_keep_books_exact() -> None:
    cfg = SimConfig(market="usdm", symbols=30, seed=8, speed=0.0, rate=3.0, liq_rate=0.1)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), streams_per_connection=12) as m:
        tally = {"served": 0, "refused": 0, "wrong": 0}
        t0 = ex.now_ms()
        f = ex.faults
        for k in range(6):
            f.schedule(t0 + 20_000 + k * 25_000, lambda k=k: list(ex.clients)[k % len(ex.clients)].close(abrupt=True))
        f.schedule(t0 + 60_000, lambda: f.disconnect_all(abrupt=True))
        f.schedule(t0 + 90_000, lambda: f.drop(4))
        f.schedule(t0 + 95_000, lambda: f.duplicate(6))
        f.schedule(t0 + 100_000, lambda: f.gap(ex.truth.symbols()[3]))
        f.schedule(t0 + 110_000, lambda: f.malformed(3))
        f.schedule(t0 + 150_000, lambda: f.stall(60_000, index=0))
        f.schedule(t0 + 130_000, lambda: f.rest_fail(429, count=4, retry_after=3))
        f.schedule(t0 + 130_000, lambda: f.rest_fail(418, count=1, retry_after=20))
        f.schedule(t0 + 131_000, lambda: f.disconnect_all(abrupt=True))
        await drive(ex, m, 200_000, each=lambda i: read_books(ex, m, m.symbols[:5], tally) if i % 5 == 0 else None)
        await settle(ex, m)
        for s in m.symbols:
            assert book_matches_truth(ex, m, s), s
        st = m.status()
        assert tally["wrong"] == 0 and tally["served"] > 50 and tally["refused"] > 0
        assert sum(c.reconnects for c in st.connections) >= 8
        assert sum(c.zombies for c in st.connections) >= 1  # the stalled connection
        assert st.rest.throttled >= 1 and st.rest.banned >= 1
        assert st.malformed >= 3
