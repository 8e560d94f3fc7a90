"""End to end: the Monitor against the local exchange over real sockets, in virtual time."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from tapeflow import ConnectionOptions
from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import book_matches_truth, drive, monitor_on, read_books, settle
from tests.sim.support import tape


@pytest.mark.asyncio
@pytest.mark.parametrize("engine_thread", [False, True], ids=["inline", "thread"])
async def test_books_and_liquidations_equal_the_truth(engine_thread: bool) -> None:
    cfg = SimConfig(market="usdm", symbols=12, seed=5, speed=0.0, rate=4.0, liq_rate=0.3)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), engine_thread=engine_thread) as m:
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
async def test_trades_on_the_wrong_route_are_moved_and_backfilled() -> None:
    cfg = SimConfig(market="usdm", symbols=5, seed=17, speed=0.0, rate=6.0, liq_rate=0.0)
    opts = ConnectionOptions(verify_s=10.0)
    # aggTrade on /public: acknowledged, never delivered. The trades of those seconds come back by id.
    kwargs = {"flow": ("1m",), "books": False, "liquidations": False, "routes": {"aggTrade": "public"}}
    async with SimExchange(cfg) as ex, monitor_on(ex, options=opts, **kwargs) as m:
        await drive(ex, m, 30_000)
        await settle(ex, m)
        assert m.routes["aggTrade"] == "market"
        now = ex.now_ms()
        for s in m.symbols:
            v = m.volume(s, "1m", now_ms=now)
            end = (now // 1000 + 1) * 1000
            t = tape(ex, s, end - 60_000, end)
            assert v.complete and v.buy_count + v.sell_count == t.buy_count + t.sell_count > 0
            assert Decimal(str(v.exact()["buy_base"])) == t.buy_base


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


@pytest.mark.asyncio
async def test_malformed_frames_and_unknown_events_are_counted_and_skipped() -> None:
    cfg = SimConfig(market="usdm", symbols=5, seed=7, speed=0.0, rate=5.0)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), extra_streams=["!miniTicker@arr"]) as m:
        await drive(ex, m, 5_000)
        ex.faults.malformed(7)
        await drive(ex, m, 20_000)
        await settle(ex, m)
        st = m.status()
        assert st.malformed == 7
        assert st.unknown.get("24hrMiniTicker", 0) >= 20  # one array a second, a kind the engine does not keep
        assert all(c.reconnects == 0 for c in st.connections)  # the feed kept running
        for s in m.symbols:
            assert book_matches_truth(ex, m, s)


@pytest.mark.asyncio
@pytest.mark.parametrize("market", ["spot", "coinm"])
async def test_spot_and_coin_m_books_equal_the_truth(market: str) -> None:
    cfg = SimConfig(market=market, symbols=6, seed=3, speed=0.0, rate=6.0)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), quote=None) as m:
        await drive(ex, m, 20_000)
        ex.faults.disconnect_all(abrupt=True)
        await drive(ex, m, 10_000)
        await settle(ex, m)
        assert len(m.symbols) == 6
        for s in m.symbols:
            assert book_matches_truth(ex, m, s), s


@pytest.mark.asyncio
async def test_live_subscribe_and_unsubscribe() -> None:
    cfg = SimConfig(market="usdm", symbols=8, seed=9, speed=0.0, rate=5.0)
    async with SimExchange(cfg) as ex:
        first, later = ex.truth.symbols()[:4], ex.truth.symbols()[4:]
        async with monitor_on(ex, symbols=first, flow=(), liquidations=False) as m:
            await drive(ex, m, 10_000)
            m.subscribe(later)
            await drive(ex, m, 10_000)
            await settle(ex, m)
            for s in first + later:
                assert book_matches_truth(ex, m, s), s
            assert len(ex.clients) == 1  # subscribed on the open connection, not a new one
            m.unsubscribe(first[:2])

            def served() -> set[str]:
                # Diff-depth streams the exchange still serves (the canary, a partial-depth stream, may stay).
                return {name.split("@")[0] for name in ex.hub.subs if name.endswith("@depth@100ms")}

            for _ in range(40):  # control messages are paced in real time (Binance's per-connection limit)
                if len(served()) == 6:
                    break
                await asyncio.sleep(0.05)
            wanted = served()
            assert {s.lower() for s in first[:2]}.isdisjoint(wanted)
            assert {s.lower() for s in later} <= wanted
            assert all(c.control_errors == 0 for c in m.status().connections)


@pytest.mark.asyncio
async def test_symbols_subscribed_during_a_rotation_reach_the_new_connection() -> None:
    cfg = SimConfig(market="usdm", symbols=8, seed=19, speed=0.0, rate=5.0)
    async with SimExchange(cfg) as ex:
        first, later = ex.truth.symbols()[:4], ex.truth.symbols()[4:]
        async with monitor_on(ex, symbols=first, flow=(), liquidations=False) as m:
            await drive(ex, m, 10_000)
            (conn,) = m.runtime.pool.connections.values()
            conn.rotate()
            for _ in range(400):  # the new connection is open; the overlap waits for the driven clock
                if conn.state == "rotating" and len(ex.clients) == 2:
                    break
                await asyncio.sleep(0.005)
            assert conn.state == "rotating" and len(ex.clients) == 2
            m.subscribe(later)
            await asyncio.sleep(0.3)  # the SUBSCRIBE goes out (paced in real time) while both connections are up
            await drive(ex, m, 20_000)
            await settle(ex, m)
            assert conn.rotations == 1 and len(ex.clients) == 1  # the old connection is gone
            # The exchange serves every symbol's diffs on the one connection left (a book left behind would still
            # equal the truth at its own, old update id).
            served = {name.split("@")[0] for name in ex.hub.subs if name.endswith("@depth@100ms")}
            assert served == {s.lower() for s in first + later}
            for s in first + later:
                assert book_matches_truth(ex, m, s), s


@pytest.mark.asyncio
async def test_mass_resync_stays_within_the_weight_budget() -> None:
    # 150 books at weight 20 each (full snapshots) is 3000 weight: more than a minute of USD-M budget (2400).
    cfg = SimConfig(market="usdm", symbols=150, seed=12, speed=0.0, rate=1.0)
    async with (
        SimExchange(cfg) as ex,
        monitor_on(ex, flow=(), liquidations=False, unread_snapshot_limit=None) as m,
    ):
        await drive(ex, m, 5_000)
        ex.faults.disconnect_all(abrupt=True)
        spent = await settle(ex, m, max_ms=600_000)
        assert spent > 60_000  # it had to wait for the next weight minute...
        assert ex.limiter.log == []  # ...and never got a 429 or 418 from the exchange's limiter
        st = m.status()
        assert st.books["SYNCED"] == 150 and st.rest.throttled == 0
        for s in m.symbols:
            assert book_matches_truth(ex, m, s), s


@pytest.mark.asyncio
async def test_rotation_before_the_24h_cut_loses_and_repeats_nothing() -> None:
    cfg = SimConfig(market="usdm", symbols=10, seed=14, speed=0.0, rate=6.0, liq_rate=0.5)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=()) as m:
        await drive(ex, m, 20_000)
        await settle(ex, m)
        events = m.events()
        ex.skip(24 * 3_600_000 - 10 * 60_000)  # ten minutes before the exchange cuts every connection
        await drive(ex, m, 60_000)
        await settle(ex, m)
        st = m.status()
        assert [c.rotations for c in st.connections] == [1] * len(st.connections)
        assert all(c.reconnects == 0 and c.zombies == 0 for c in st.connections)
        kinds = {e.kind for e in events.pending()}
        assert kinds.isdisjoint({"book_gap", "synced", "disconnected"})  # no resync, no hole
        assert st.snapshots.fetched == 10  # no snapshot after the first ten
        for s in m.symbols:
            assert book_matches_truth(ex, m, s), s
        # Liquidations seen on both connections during the overlap were counted once.
        pushed = [liq for liq in ex.truth.liquidations() if liq.pushed]
        total = m.liquidations.total(lookback="48h")
        assert total.count == len(pushed)
        assert Decimal(total.notional_exact) == sum(Decimal(liq.q * liq.ap) / 10**16 for liq in pushed)


@pytest.mark.asyncio
async def test_spot_server_shutdown_notice_moves_to_a_new_connection() -> None:
    cfg = SimConfig(market="spot", symbols=5, seed=15, speed=0.0, rate=6.0)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), quote=None) as m:
        await drive(ex, m, 10_000)
        await settle(ex, m)
        ex.faults.disconnect_all(notice=True)  # serverShutdown, then a clean close
        await drive(ex, m, 20_000)
        await settle(ex, m)
        st = m.status()
        assert sum(c.rotations + c.reconnects for c in st.connections) >= 1
        for s in m.symbols:
            assert book_matches_truth(ex, m, s), s


@pytest.mark.asyncio
async def test_connections_stay_within_the_exchange_stream_cap_canary_included() -> None:
    cfg = SimConfig(market="usdm", symbols=10, seed=18, speed=0.0, rate=5.0, max_streams=6)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), streams_per_connection=6, liquidations=False) as m:
        await drive(ex, m, 15_000)
        await settle(ex, m)
        st = m.status()
        assert all(c.streams <= 6 for c in st.connections) and len(st.connections) == 2  # 5 books + a canary each
        assert st.books["SYNCED"] == 10 and all(c.control_errors == 0 and c.reconnects == 0 for c in st.connections)
