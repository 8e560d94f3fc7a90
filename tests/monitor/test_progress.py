"""Start-up progress and readiness: books synced, every flow window complete, reported as it happens."""

from __future__ import annotations

import asyncio
import re

import pytest

from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import check_windows, drive, monitor_on


@pytest.mark.asyncio
async def test_ready_means_books_synced_and_every_window_complete() -> None:
    cfg = SimConfig(market="usdm", symbols=5, seed=71, speed=0.0, rate=10.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        await ex.advance(10 * 60_000)  # trades before the start: the windows need the start-up fill
        symbols = ex.truth.symbols()
        async with monitor_on(ex, flow=("1m", "5m"), books=symbols[:3], liquidations=False) as m:
            events = m.events()
            first = m.progress()
            assert (first.symbols, first.books, first.flow) == (5, 3, 5)
            assert not first.ready and first.books_synced == 0 and first.flow_complete == 0
            with pytest.raises(
                TimeoutError, match=re.escape("not ready after 0.2 s: books 0/3 synced, flow 0/5 complete")
            ):
                await m.ready(timeout=0.2)
            seen = []
            for _ in range(60):
                await drive(ex, m, 1000)
                p = m.progress()
                seen.append((p.books_synced, p.flow_complete))
                if p.ready:
                    break
            assert p.ready and p.fraction == 1.0 and p.weight_spent > 0
            assert seen == sorted(seen)  # progress only goes forward here (no faults)
            assert (await asyncio.wait_for(m.ready(timeout=5), 10)).ready
            # Ready is not a promise made early: the books equal the truth and the windows the tape, now.
            for s in symbols[:3]:
                assert m.book(s, 5).synced
            assert check_windows(ex, m, ("1m", "5m"), ex.now_ms()) > 0
            await drive(ex, m, 1500)  # the reporter's next second
            reported = [e for e in events.pending() if e.kind in ("progress", "ready")]
            assert [e.kind for e in reported].count("ready") == 1 and reported[-1].kind == "ready"
            assert reported[0].kind == "progress" and reported[-1].data["books_synced"] == 3


@pytest.mark.asyncio
async def test_a_monitor_without_books_or_flow_is_ready_at_once() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=2, speed=0.0)) as ex:
        async with monitor_on(ex, flow=(), books=False) as m:
            p = await asyncio.wait_for(m.ready(timeout=5), 10)
            assert p.ready and (p.books, p.flow) == (0, 0) and p.line().endswith("ready")


@pytest.mark.asyncio
async def test_a_quiet_market_is_ready_once_its_streams_are_confirmed() -> None:
    # Symbols that hardly trade: the start-up fill does not wait for a first trade (30 s at most before), it goes once
    # the exchange has confirmed the trade streams — every trade after the page then comes by the stream.
    cfg = SimConfig(market="usdm", symbols=40, seed=72, speed=0.0, rate=0.01, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        await ex.advance(5 * 60_000)
        # A small stream budget in the URL puts most streams in SUBSCRIBE messages, confirmed by the exchange.
        async with monitor_on(ex, flow=("1m", "5m"), books=False, liquidations=False, streams_per_connection=30) as m:
            spent = 0
            while not m.progress().ready:
                await drive(ex, m, 1000)
                spent += 1000
                # Well before the 30 s a symbol without a trade used to wait (the fills' own time varies with load).
                assert spent <= 20_000, m.progress().line()
            assert check_windows(ex, m, ("1m", "5m"), ex.now_ms()) >= 0
            assert m.status().backfill.pages == 40  # type: ignore[union-attr]  # one page each, none again
