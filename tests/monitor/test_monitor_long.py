"""The main end-to-end run: all-market USD-M, 120 symbols, 30 virtual minutes of faults, then exact equality."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import book_matches_truth, drive, monitor_on, read_books, settle
from tests.sim.support import tape

#: Long end-to-end runs (minutes of virtual time, many symbols): `make test-quick` leaves them out.
pytestmark = pytest.mark.slow

MIN = 60_000


def expected_window(ex: SimExchange, symbol: str, start_ms: int, end_ms: int) -> tuple[Decimal, ...]:
    """Taker buy/sell base and quote volume and counts of the true aggTrade tape with ``start <= T < end``."""
    t = tape(ex, symbol, start_ms, end_ms)
    return t.buy_base, t.sell_base, t.buy_quote, t.sell_quote, Decimal(t.buy_count), Decimal(t.sell_count)


@pytest.mark.asyncio
@pytest.mark.timeout(400)
async def test_all_market_thirty_virtual_minutes_of_faults() -> None:
    cfg = SimConfig(market="usdm", symbols=120, seed=11, speed=0.0, rate=1.5, liq_rate=0.05)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=("1m", "15m"), streams_per_connection=50) as m:
        assert m.has_flow
        f = ex.faults
        syms = ex.truth.symbols()
        tally = {"served": 0, "refused": 0, "wrong": 0}
        watched = syms[:8]

        def each(i: int) -> None:
            if i % 7 == 0:
                read_books(ex, m, watched, tally)

        await drive(ex, m, MIN, each=each)
        # The 24 h cut: jump to 10 minutes before it; the monitor rotates every connection make-before-break.
        ex.skip(24 * 3_600_000 - MIN - 10 * MIN)
        t0 = ex.now_ms()
        abrupt = 0

        def cut_one(k: int) -> None:
            nonlocal abrupt
            clients = list(ex.clients)
            if clients:
                clients[k % len(clients)].close(abrupt=True)
                abrupt += 1

        def cut_all() -> None:
            nonlocal abrupt
            abrupt += f.disconnect_all(abrupt=True)

        for k in range(18):
            f.schedule(t0 + 2 * MIN + k * 70_000, lambda k=k: cut_one(k))
        for at in (5, 14, 22):
            f.schedule(t0 + at * MIN, cut_all)
        f.schedule(t0 + 8 * MIN, lambda: f.stall(60_000))  # every connection: no data, no pong
        for i, s in enumerate(syms[:10]):
            f.schedule(t0 + 10 * MIN + i * 3000, lambda s=s: f.drop(1, stream=f"{s.lower()}@aggTrade"))
            f.schedule(t0 + 10 * MIN + i * 3000, lambda s=s: f.drop(1, stream=f"{s.lower()}@depth@100ms"))
        f.schedule(t0 + 11 * MIN, lambda: f.gap(syms[20]))
        f.schedule(t0 + 12 * MIN, lambda: f.duplicate(40))
        f.schedule(t0 + 16 * MIN, lambda: f.rest_fail(429, count=5, retry_after=2))
        f.schedule(t0 + 16 * MIN, lambda: f.rest_fail(418, count=1, retry_after=30))
        f.schedule(t0 + 18 * MIN, lambda: f.malformed(5))
        await drive(ex, m, 29 * MIN, each=each)
        await settle(ex, m)
        await m.settle()
        st = m.status()

        assert abrupt >= 20
        assert sum(c.rotations for c in st.connections) >= len(st.connections) - 2
        assert sum(c.zombies for c in st.connections) >= 1
        assert st.rest.throttled >= 1 and st.rest.banned >= 1
        assert st.malformed >= 5
        assert tally["wrong"] == 0 and tally["served"] > 100
        for s in syms:
            assert book_matches_truth(ex, m, s), s
        assert m.has_flow and st.backfill is not None
        assert st.backfill.gaps_filled >= 10 and st.backfill.gaps_abandoned == 0  # drops and reconnects, all filled
        assert st.gaps_open == 0 and st.incomplete == 0 and st.trades_backfilled > 0
        now = ex.now_ms()
        for s in syms:
            for aligned in (False, True):
                v = m.volume(s, "15m", aligned=aligned, now_ms=now)
                # The documented bounds: sliding = the 900 whole seconds up to now's second; aligned = the
                # UTC quarter hour holding now.
                if aligned:
                    start = now - now % (15 * MIN)
                    end = start + 15 * MIN
                else:
                    end = (now // 1000 + 1) * 1000
                    start = end - 15 * MIN
                want = expected_window(ex, s, start, end)
                assert want[4] + want[5] > 0
                e = v.exact()
                got = (e["buy_base"], e["sell_base"], e["buy_quote"], e["sell_quote"], v.buy_count, v.sell_count)
                assert v.complete, (s, aligned)
                assert got == want, (s, aligned)
