"""The trade backfill against the simulator's REST API: gaps filled by id, history that is gone abandoned, tails
checked after a reconnect, and the start-up fill by time — each checked against the simulator's true tape."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import pytest

from tapeflow import Action, Engine, TradeGap
from tapeflow.markets import MARKETS
from tapeflow.sim import SimConfig, SimExchange
from tapeflow.sync.backfill import TradeBackfill
from tests.sim.support import tape
from tests.sync.support import Rig, agg_body, rig, until

MIN = 60_000


@contextlib.asynccontextmanager
async def backfilling(r: Rig, workers: int | None = None) -> AsyncIterator[TradeBackfill]:
    """The rig's trade backfill (USD-M), stopped at the end of the block, and the rig's REST client closed."""
    kwargs = {} if workers is None else {"workers": workers}
    backfill = TradeBackfill(r.rest, MARKETS["usdm"], r.bodies, r.clock, **kwargs)
    try:
        yield backfill
    finally:
        await backfill.stop()
        await r.rest.close()


def idle(b: TradeBackfill) -> bool:
    st = b.status()
    return st.queued == 0 and st.in_flight == 0


def checking(engine: Engine, symbol: str) -> bool:
    """A tail check or a start-up fill of ``symbol`` is running (its windows cannot be complete meanwhile)."""
    return engine.volume(symbol, "15m").checking


def sums(engine: object, symbol: str, window: str, now: int) -> tuple[object, ...]:
    v = engine.volume(symbol, window, now_ms=now)  # type: ignore[attr-defined]
    e = v.exact()
    return e["buy_base"], e["sell_base"], e["buy_quote"], e["sell_quote"], v.buy_count, v.sell_count


def truth(ex: SimExchange, symbol: str, now: int, window_ms: int) -> tuple[object, ...]:
    end = (now // 1000 + 1) * 1000
    t = tape(ex, symbol, end - window_ms, end)
    return t.buy_base, t.sell_base, t.buy_quote, t.sell_quote, t.buy_count, t.sell_count


@pytest.mark.asyncio
async def test_a_gap_is_filled_by_id_and_the_window_equals_the_tape() -> None:
    cfg = SimConfig(market="usdm", symbols=2, seed=41, speed=0.0, rate=20.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        await ex.advance(8 * MIN)
        r = await rig(ex, flow_horizons=["15m"], flow_intervals=["15m"])
        sym = ex.truth.symbols()[0]
        trades = ex.truth.agg_trades(sym)
        assert len(trades) > 3000  # several pages of 1,000
        hole = range(100, len(trades) - 200)  # more than two pages missing in the middle
        # The first page answers a start-time query from before the market opened: coverage starts there.
        r.engine.apply_agg_trades(sym, agg_body(trades[:100]), from_time_ms=ex.now_ms() - 20 * MIN)
        r.actions += r.engine.apply_agg_trades(sym, agg_body(trades[hole.stop :])).actions
        assert [(type(a), a.symbol, a.from_id, a.to_id) for a in r.actions if isinstance(a, TradeGap)] == [
            (TradeGap, sym, trades[hole.start].a, trades[hole.stop - 1].a)
        ]
        assert len(r.actions) == 1
        async with backfilling(r) as backfill:
            backfill.gap(sym, trades[hole.start].a, trades[hole.stop - 1].a)
            await until(ex, lambda: backfill.status().gaps_filled == 1 and idle(backfill))
            st = backfill.status()
            assert st.pages >= 3 and st.gaps_abandoned == 0 and r.engine.gaps() == []
            now = ex.now_ms()
            assert sums(r.engine, sym, "15m", now) == truth(ex, sym, now, 15 * MIN)
            assert r.engine.volume(sym, "15m", now_ms=now).complete
            assert r.rest.status().weight_spent == st.pages * 20


@pytest.mark.asyncio
async def test_ids_past_the_exchange_history_are_abandoned() -> None:
    cfg = SimConfig(market="usdm", symbols=2, seed=42, speed=0.0, rate=20.0, liq_rate=0.0, agg_history_ms=2 * MIN)
    async with SimExchange(cfg) as ex:
        await ex.advance(6 * MIN)
        r = await rig(ex, flow_horizons=["15m"], flow_intervals=["15m"])
        sym = ex.truth.symbols()[0]
        trades = ex.truth.agg_trades(sym)
        cut = next(i for i, t in enumerate(trades) if t.T >= ex.now_ms() - 2 * MIN)  # older ones are gone
        r.engine.apply_agg_trades(sym, agg_body(trades[:10]), from_time_ms=trades[0].T - 1)
        r.engine.apply_agg_trades(sym, agg_body(trades[-10:]))
        async with backfilling(r) as backfill:
            backfill.gap(sym, trades[10].a, trades[-11].a)
            await until(ex, lambda: idle(backfill) and backfill.status().pages > 0, step_ms=0)  # the market stands
            st = backfill.status()
            assert st.gaps_abandoned == 1 and st.gaps_filled == 0 and r.engine.gaps() == []
            now = ex.now_ms()
            v = r.engine.volume(sym, "15m", now_ms=now)
            assert v.abandoned and not v.complete
            # What the exchange still had was counted: every trade from the cut on.
            assert v.buy_count + v.sell_count == 10 + len(trades) - cut


@pytest.mark.asyncio
async def test_the_start_up_fill_and_a_tail_check_count_what_the_stream_did_not_bring() -> None:
    cfg = SimConfig(market="usdm", symbols=2, seed=43, speed=0.0, rate=10.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        await ex.advance(20 * MIN)
        r = await rig(ex, flow_horizons=["15m"], flow_intervals=["15m"])
        sym = ex.truth.symbols()[0]
        async with backfilling(r) as backfill:

            def queue_gaps(actions: Sequence[Action]) -> None:
                """The Monitor's part: every gap the engine reports is queued for the backfill."""
                for a in actions:
                    if isinstance(a, TradeGap):
                        backfill.gap(a.symbol, a.from_id, a.to_id)

            r.bodies.on_actions = queue_gaps
            since = ex.now_ms() - 15 * MIN
            backfill.start(sym, since)
            assert checking(r.engine, sym)
            await ex.advance(1000)
            # The stream's first trade: the fill from `since` goes now, and the ids between its last page and this
            # trade show up as a gap, filled by id.
            r.bodies.on_actions(r.engine.apply_agg_trades(sym, agg_body(ex.truth.agg_trades(sym)[-1:])).actions)
            await until(
                ex, lambda: idle(backfill) and backfill.status().gaps_filled == 1 and not checking(r.engine, sym)
            )
            assert backfill.status().pages >= 2  # the first 1,000 from `since`, then the rest by id
            await ex.advance(30_000)  # trades the engine never heard of (a broken stream)
            ex.market.rate = 0.0  # then the market stands, so that the tail is what the exchange has
            backfill.after_reconnect([sym], wait_s=2.0)
            assert checking(r.engine, sym) and not r.engine.volume(sym, "15m").complete
            await until(
                ex, lambda: backfill.status().tail_checks == 1 and idle(backfill) and not checking(r.engine, sym)
            )
            now = ex.now_ms()
            assert r.engine.last_trade_id(sym) == ex.truth.agg_trades(sym)[-1].a
            assert sums(r.engine, sym, "15m", now) == truth(ex, sym, now, 15 * MIN)
            assert r.engine.volume(sym, "15m", now_ms=now).complete


@pytest.mark.asyncio
async def test_a_start_up_fill_that_found_nothing_goes_again_once_its_stream_moves() -> None:
    # The trade stream was confirmed on a route that delivered nothing; the start-up page, asked for at once, found
    # no trade yet. The trades of the silent seconds came by neither: once the stream moves to the other route, the
    # fill is made again at the symbol's first trade, from the same start time.
    cfg = SimConfig(market="usdm", symbols=2, seed=44, speed=0.0, rate=10.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        r = await rig(ex, flow_horizons=["15m"], flow_intervals=["15m"])
        sym = ex.truth.symbols()[0]
        assert not ex.truth.agg_trades(sym)  # the market has not traded yet
        async with backfilling(r) as backfill:
            backfill.live([sym])
            backfill.start(sym, ex.now_ms() - 15 * MIN)
            await until(ex, lambda: backfill.status().pages == 1 and idle(backfill), step_ms=0)
            assert r.engine.last_trade_id(sym) is None
            await ex.advance(20_000)  # trades nobody delivered
            silent = len(ex.truth.agg_trades(sym))
            assert silent > 20
            backfill.moved([sym], wait_s=1.0)
            assert checking(r.engine, sym)  # incomplete until the fill is made again
            await ex.advance(2_000)
            first = ex.truth.agg_trades(sym)[silent:]  # the first trades on the new route
            assert first
            r.engine.apply_agg_trades(sym, agg_body(first))
            await until(ex, lambda: backfill.status().pages >= 2 and idle(backfill) and not checking(r.engine, sym))
            now = ex.now_ms()
            assert r.engine.gaps() == []
            assert sums(r.engine, sym, "15m", now) == truth(ex, sym, now, 15 * MIN)
            assert r.engine.volume(sym, "15m", now_ms=now).complete


@pytest.mark.asyncio
async def test_a_start_up_fill_queued_or_out_when_its_stream_moves_goes_again_and_ends_its_checks() -> None:
    # Two symbols confirmed on a route that delivers nothing, one worker: the first symbol's start-up page is on its
    # way (the exchange holds it), the second's is queued behind it, when both streams move to the other route. Each
    # fill finds no trade and must be made again at the symbol's first trade, ending every check it began: a move
    # that began a check of its own for a fill already queued or out left one open forever (never complete).
    cfg = SimConfig(market="usdm", symbols=2, seed=45, speed=0.0, rate=10.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        r = await rig(ex, flow_horizons=["15m"], flow_intervals=["15m"])
        out, queued = ex.truth.symbols()[:2]
        assert not ex.truth.agg_trades(out) and not ex.truth.agg_trades(queued)  # no trade yet
        async with backfilling(r, workers=1) as backfill:
            ex.faults.rest_delay(2.0)  # the first page (the first symbol's) is held two real seconds
            backfill.live([out, queued])
            since = ex.now_ms() - 15 * MIN
            backfill.start(out, since)
            backfill.start(queued, since)
            await until(ex, lambda: backfill.status().in_flight == 1 and backfill.status().queued == 1, step_ms=0)
            assert backfill.status().pages == 0  # the first page is still out
            backfill.moved([out, queued], wait_s=1.0)
            await until(ex, lambda: backfill.status().pages == 2 and idle(backfill), step_ms=0)
            assert r.engine.last_trade_id(out) is None and r.engine.last_trade_id(queued) is None
            assert checking(r.engine, out) and checking(r.engine, queued)  # incomplete until the fills go again
            await ex.advance(20_000)  # trades nobody delivered
            silent = {s: len(ex.truth.agg_trades(s)) for s in (out, queued)}
            assert min(silent.values()) > 20
            await ex.advance(2_000)
            for s in (out, queued):
                first = ex.truth.agg_trades(s)[silent[s] :]  # the first trades on the new route
                assert first
                r.engine.apply_agg_trades(s, agg_body(first))
            await until(
                ex,
                lambda: (
                    backfill.status().pages >= 4
                    and idle(backfill)
                    and not checking(r.engine, out)
                    and not checking(r.engine, queued)
                ),
            )
            now = ex.now_ms()
            assert r.engine.gaps() == []
            for s in (out, queued):
                assert sums(r.engine, s, "15m", now) == truth(ex, s, now, 15 * MIN)
                assert r.engine.volume(s, "15m", now_ms=now).complete
