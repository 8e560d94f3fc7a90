"""End to end: the Monitor's trade flow against the simulator's aggTrade tape (exact, by id)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import MIN, check_windows, drive, monitor_on, settle
from tests.sim.support import tape


@pytest.mark.asyncio
async def test_windows_equal_the_tape_after_drops_and_reconnects() -> None:
    cfg = SimConfig(market="usdm", symbols=8, seed=21, speed=0.0, rate=8.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=("1m", "15m"), books=False, liquidations=False) as m:
        await drive(ex, m, 30_000)
        for s in ex.truth.symbols()[:4]:
            ex.faults.drop(2, stream=f"{s.lower()}@aggTrade")
        await drive(ex, m, 20_000)
        ex.faults.disconnect_all(abrupt=True)
        await drive(ex, m, 40_000)
        ex.faults.duplicate(30)
        await drive(ex, m, 10_000)
        await settle(ex, m)
        st = m.status()
        assert st.backfill is not None
        assert st.backfill.gaps_reported >= 4 and st.backfill.gaps_filled >= 4
        assert st.gaps_open == 0 and st.incomplete == 0
        assert check_windows(ex, m, ("1m", "15m"), ex.now_ms()) > 100


@pytest.mark.asyncio
async def test_start_up_fill_covers_the_longest_window() -> None:
    cfg = SimConfig(market="usdm", symbols=4, seed=22, speed=0.0, rate=6.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        await ex.advance(6 * MIN)  # the market traded before the monitor started
        async with monitor_on(ex, flow=("1m", "5m", "15m"), books=False, liquidations=False) as m:
            await drive(ex, m, 5_000)
            await settle(ex, m)
            now = ex.now_ms()
            assert check_windows(ex, m, ("5m", "15m"), now) > 50
            # The 5m window reaches back before the first streamed trade: only the fill can have counted it.
            first_streamed = min(a.T for a in ex.truth.agg_trades(m.symbols[0]) if a.T >= now - 5_000)
            assert tape(ex, m.symbols[0], now - 5 * MIN, first_streamed).buy_count > 0


@pytest.mark.asyncio
async def test_big_trades_are_reported_once_each() -> None:
    cfg = SimConfig(market="usdm", symbols=5, seed=23, speed=0.0, rate=8.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        threshold = 50_000.0
        async with monitor_on(ex, flow=("1m",), books=False, liquidations=False, big_trade=threshold) as m:
            events = m.events()
            await drive(ex, m, 20_000)
            ex.faults.drop(3, stream=f"{m.symbols[0].lower()}@aggTrade")
            ex.faults.disconnect_all(abrupt=True)
            await drive(ex, m, 20_000)
            await settle(ex, m)
            got = sorted((e.symbol, e.data["trade_id"]) for e in events.pending() if e.kind == "big_trade")
            start = ex.market.start_ms
            want = sorted(
                (s, a.a)
                for s in m.symbols
                for a in ex.truth.agg_trades(s)
                if Decimal(a.p) * Decimal(a.q) / 10**16 >= Decimal(threshold) and a.T >= start
            )
            assert got == want and len(want) > 5


@pytest.mark.asyncio
async def test_gap_older_than_the_exchange_history_is_abandoned() -> None:
    cfg = SimConfig(market="usdm", symbols=3, seed=24, speed=0.0, rate=8.0, liq_rate=0.0, agg_history_ms=MIN)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=("1m", "15m"), books=False, liquidations=False) as m:
        await drive(ex, m, 20_000)
        sym = m.symbols[0]
        ex.faults.rest_fail(418, duration_ms=3 * MIN, retry_after=180)  # no REST for 3 minutes
        ex.faults.drop(3, stream=f"{sym.lower()}@aggTrade")
        await drive(ex, m, 4 * MIN)
        await settle(ex, m)
        st = m.status()
        assert st.backfill is not None and st.backfill.gaps_abandoned >= 1
        v15 = m.volume(sym, "15m")
        assert v15.abandoned and not v15.complete  # the lost trades fall in the last 15 minutes
        assert m.volume(sym, "1m").complete  # the last minute is whole again


@pytest.mark.asyncio
async def test_quiet_symbol_gets_its_lost_tail_back_after_a_reconnect() -> None:
    cfg = SimConfig(market="usdm", symbols=3, seed=25, speed=0.0, rate=8.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=("1m", "15m"), books=False, liquidations=False) as m:
        await drive(ex, m, 20_000)
        quiet = m.symbols[0]
        ex.faults.drop(100, stream=f"{quiet.lower()}@aggTrade")  # its last trades never reach the monitor...
        await drive(ex, m, 4_000)
        ex.market.rates[quiet] = 0.0  # ...and then it stops trading: no later id can reveal the hole
        await drive(ex, m, 5_000)
        ex.faults.frames.clear()
        lost = [a for a in ex.truth.agg_trades(quiet) if a.a > (m.engine.last_trade_id(quiet) or 0)]
        assert lost
        assert m.volume(quiet, "1m").complete  # nothing tells the engine yet
        ex.faults.disconnect_all(abrupt=True)
        await drive(ex, m, 10_000)
        await settle(ex, m)
        assert m.status().backfill.tail_checks >= 1  # type: ignore[union-attr]
        assert m.engine.last_trade_id(quiet) == lost[-1].a
        assert check_windows(ex, m, ("1m", "15m"), ex.now_ms()) > 10
