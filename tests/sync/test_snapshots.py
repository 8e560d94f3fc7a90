"""The snapshot scheduler against the simulator's REST API: one fetch per symbol however often asked, readers first,
bad requests not repeated, throttling waited out, a malformed body asked for again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from tapeflow import FunctionClock
from tapeflow.markets import MARKETS
from tapeflow.sim import SimConfig, SimExchange
from tapeflow.sync.rest import RestClient
from tapeflow.sync.snapshots import HOT, SnapshotScheduler
from tests.sync.support import until


class Target:
    """Records what the scheduler delivers; refuses the first ``bad`` bodies as malformed."""

    def __init__(self, bad: int = 0) -> None:
        self.got: list[tuple[str, int]] = []
        self.levels: list[tuple[str, int, int]] = []  # (symbol, limit asked, bids received)
        self.failed: list[str] = []
        self.bad = bad

    async def apply_snapshot(self, symbol: str, body: bytes, limit: int) -> bool:
        if self.bad:
            self.bad -= 1
            return False
        snap = orjson.loads(body)
        self.got.append((symbol, snap["lastUpdateId"]))
        self.levels.append((symbol, limit, len(snap["bids"])))
        return True

    def snapshot_failed(self, symbol: str) -> None:
        self.failed.append(symbol)


@contextlib.asynccontextmanager
async def scheduling(
    ex: SimExchange, target: Target, workers: int = 1, limit: int = 100, **kwargs: Any
) -> AsyncIterator[tuple[SnapshotScheduler, RestClient]]:
    """A scheduler on the simulator's clock and its REST client, both stopped at the end of the block."""
    clock = FunctionClock(ex.now_ms, poll=0.001)
    rest = RestClient(ex.rest_url, clock=clock, weight_limit=2400)
    snaps = SnapshotScheduler(rest, MARKETS["usdm"], limit, target, clock, workers=workers, stagger_s=0, **kwargs)
    try:
        yield snaps, rest
    finally:
        await snaps.stop()
        await rest.close()


@pytest.mark.asyncio
async def test_each_symbol_is_fetched_once_and_readers_go_first() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=4, seed=51, speed=0.0)) as ex:
        await ex.advance(2000)
        target = Target()
        async with scheduling(ex, target) as (snaps, rest):
            a, b, c, d = ex.truth.symbols()
            for sym in (a, b, a, c, b, d):
                snaps.request(sym)
            snaps.prioritise(d)  # someone reads d: it jumps the queue
            await until(ex, lambda: len(target.got) == 4, step_ms=0)
            await asyncio.sleep(0.05)
            assert [s for s, _ in target.got] == [d, a, b, c]  # then first come, first served
            assert sorted(s for s, _ in target.got) == sorted((a, b, c, d))  # once each
            for sym, uid in target.got:
                assert uid == ex.truth.book(sym).update_id  # the market stood still: the current book
            st = snaps.status()
            assert (st.requested, st.fetched, st.failed, st.queued) == (4, 4, 0, 0)
            assert rest.status().weight_spent == 4 * MARKETS["usdm"].depth_weight(100)


@pytest.mark.asyncio
async def test_snapshot_size_follows_the_use_of_the_book() -> None:
    """Books in use get the full limit; the others a small first snapshot, until a read deepens them: then a full
    one, ahead of the queue."""
    async with SimExchange(SimConfig(market="usdm", symbols=4, seed=53, speed=0.0)) as ex:
        await ex.advance(2000)
        target = Target()
        a, b, c, d = ex.truth.symbols()
        spec = MARKETS["usdm"]
        async with scheduling(ex, target, limit=1000, unread_limit=20, in_use=[a]) as (snaps, rest):
            assert (snaps.limit_for(a), snaps.limit_for(b)) == (1000, 20)
            snaps.request(a)
            snaps.request(b)
            await until(ex, lambda: len(target.got) == 2, step_ms=0)
            depth = {s: len(ex.truth.book(s).bids) for s in (a, b)}
            assert depth[b] > 20  # the simulator's book is deeper than the small snapshot
            assert target.levels == [(a, 1000, min(depth[a], 1000)), (b, 20, 20)]
            assert rest.status().weight_spent == spec.depth_weight(1000) + spec.depth_weight(20) == 22
            assert snaps.deepen(b) and not snaps.deepen(b) and not snaps.deepen(a)  # once; a was full already
            snaps.request(c)
            snaps.request(d)
            snaps.request(b)  # the deepened book asks again after its reset: it goes first, in full
            await until(ex, lambda: len(target.got) == 5, step_ms=0)
            assert target.levels[2:] == [(b, 1000, depth[b]), (c, 20, 20), (d, 20, 20)]


@pytest.mark.asyncio
async def test_a_book_deepened_while_its_small_snapshot_is_out_waits_for_a_full_one() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=2, seed=54, speed=0.0)) as ex:
        await ex.advance(2000)
        target = Target()
        async with scheduling(ex, target, limit=1000, unread_limit=20) as (snaps, rest):
            b = ex.truth.symbols()[1]
            ex.faults.rest_delay(0.3)  # the small snapshot is held on its way
            snaps.request(b)
            await asyncio.sleep(0.1)
            assert snaps.status().in_flight == 1
            assert snaps.deepen(b)  # a read needs more of it meanwhile
            await until(ex, lambda: len(target.levels) == 1, step_ms=0)
            assert target.levels == [(b, 1000, len(ex.truth.book(b).bids))]  # the small one was never applied
            assert target.failed == [b] and rest.status().weight_spent == 2 + 20


@pytest.mark.asyncio
async def test_a_bad_request_is_not_repeated_and_a_malformed_body_is_asked_again() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=2, seed=52, speed=0.0)) as ex:
        target = Target(bad=1)
        async with scheduling(ex, target) as (snaps, _):
            snaps.request("NOPEUSDT", HOT)  # the exchange answers 400: asking again would fail the same way
            good = ex.truth.symbols()[0]
            snaps.request(good)
            await until(ex, lambda: len(target.got) == 1, step_ms=0)
            await asyncio.sleep(0.05)
            assert target.got[0][0] == good and snaps.status().fetched == 2  # one malformed, one kept
            assert target.failed == ["NOPEUSDT", good]  # the engine hears of both
            assert snaps.status().failed == 1 and snaps.status().queued == 0


@pytest.mark.asyncio
async def test_throttling_is_waited_out_on_the_feed_clock() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=2, seed=53, speed=0.0)) as ex:
        target = Target()
        async with scheduling(ex, target) as (snaps, rest):
            ex.faults.rest_fail(429, count=1, retry_after=20)
            sym = ex.truth.symbols()[0]
            snaps.request(sym)
            await until(ex, lambda: rest.status().throttled == 1, step_ms=0)
            await asyncio.sleep(0.05)
            assert target.got == []  # nothing goes out for 20 virtual seconds
            await ex.advance(19_000)
            await asyncio.sleep(0.05)
            assert target.got == []
            await until(ex, lambda: len(target.got) == 1, step_ms=500)
            assert rest.status().throttled == 1 and snaps.status().fetched == 1
