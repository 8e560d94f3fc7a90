"""A stored interval marked complete holds every trade of it, whatever the clock does: the Monitor's clock (the
simulator's, stepped 5 s at a time here) can pass an interval's end + the keeper's settle time before the last trades
of the interval reach the engine, and the row written then must not claim to be complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from tapeflow.sim import SimConfig, SimExchange
from tapeflow.sim.symbols import parse_e8
from tests.monitor.support import MIN, drive, monitor_on, settle
from tests.sim.support import tape
from tests.store.support import query


@pytest.mark.asyncio
@pytest.mark.timeout(180)
async def test_intervals_stored_complete_equal_the_tape_when_the_clock_steps_5_s(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    cfg = SimConfig(market="usdm", symbols=6, seed=41, speed=0.0, rate=8.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        async with monitor_on(ex, flow=("1m",), books=False, liquidations=False, store=path) as m:
            await drive(ex, m, 8 * MIN, chunk=5000)
            await settle(ex, m)
            assert await m.flush_store()
            rows = query(
                path,
                "SELECT s.name, i.start_ms, i.buy_base, i.sell_base, i.buy_count, i.sell_count, i.complete"
                " FROM intervals i JOIN symbols s ON s.id = i.symbol_id WHERE i.interval_ms = ?",
                MIN,
            )
            checked, wrong = 0, []
            for symbol, start, buy_base, sell_base, buy_count, sell_count, complete in rows:
                if not complete:
                    continue
                t = tape(ex, symbol, start, start + MIN)
                want = (int(t.buy_base * 10**8), int(t.sell_base * 10**8), t.buy_count, t.sell_count)
                got = (parse_e8(buy_base), parse_e8(sell_base), buy_count, sell_count)
                if got != want:
                    wrong.append((symbol, start, got, want))
                checked += 1
            assert not wrong, wrong
            assert checked >= 6 * 5  # the intervals end complete once their trades are in
