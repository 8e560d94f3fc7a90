"""The keeper's checkpoints are drafted in steps with the event loop free between them: frames arriving meanwhile
wait and are applied after, in order, and the checkpoint holds exactly the state of the moment it began (checked by
restoring it against brute-force sums of the trades fed before that moment)."""

from __future__ import annotations

import asyncio
import copy
import random
from types import SimpleNamespace
from typing import Any

import pytest

from tapeflow import Engine
from tapeflow.monitor import keeper as keeper_module
from tapeflow.monitor.keeper import Keeper
from tapeflow.monitor.worker import EngineWorker
from tests.engine.flow_reference import Model, Trade, sliding_span

T0 = 1_767_225_600_000
SYMBOLS = [f"S{i:03d}USDT" for i in range(300)]


def _engine() -> Engine:
    return Engine("usdm", flow_horizons=["1m"], flow_intervals=["1m"], flow_history=5)


class _Store:
    def __init__(self, log: list[str] | None = None) -> None:
        self.checkpoints: list[tuple[bytes, dict[str, int]]] = []
        self.log = log if log is not None else []

    def checkpoint(self, seal: Any, ids: dict[str, int], at_ms: int, n: int) -> None:
        self.log.append("checkpoint")
        self.checkpoints.append((bytes(seal()), ids))


class _Market:
    """Trades with ascending ids per symbol, kept for the brute-force sums."""

    def __init__(self) -> None:
        self.rng = random.Random(7)
        self.time = T0
        self.ids = dict.fromkeys(SYMBOLS, 0)
        self.models = {s: Model() for s in SYMBOLS}

    def frames(self, n: int) -> list[bytes]:
        out = []
        for _ in range(n):
            s = self.rng.choice(SYMBOLS)
            self.time += self.rng.randint(0, 30)
            self.ids[s] += 1
            t = Trade(self.ids[s], self.time, self.rng.choice(["1.5", "70000.1"]), "0.25", self.rng.random() < 0.5)
            self.models[s].add(t)
            out.append(t.frame(s, "usdm"))
        return out

    def check(self, engine: Engine, models: dict[str, Model]) -> None:
        start, end = sliding_span(60_000, self.time)
        for s, model in models.items():
            if not model.trades:
                continue
            want = model.sums(start, end)
            got = engine.volume(s, "1m", now_ms=self.time).exact()
            assert (got["buy_base"], got["sell_base"], got["buy_quote"], got["sell_quote"]) == (
                want.buy_base,
                want.sell_base,
                want.buy_quote,
                want.sell_quote,
            ), s


def _keeper(engine: Engine, worker: EngineWorker, store: _Store, now: int) -> Keeper:
    return Keeper(
        store,  # type: ignore[arg-type]
        engine,
        worker,
        SimpleNamespace(now_ms=lambda: now),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        intervals=[],
        ready=lambda: True,
        since_ms=T0,
        checkpoint_s=60.0,
        retention_ms=None,
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("threaded", [False, True])
async def test_a_checkpoint_holds_the_state_it_began_at_while_frames_keep_coming(
    threaded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keeper_module, "_STEP_S", 1e-9)  # one symbol a step: hundreds of chances to interleave
    # The store's queue: a batch's handler queues its liquidations there, so the checkpoint must come after the
    # handlers of the batches it holds and before those of the batches held back while it is drafted.
    log: list[str] = []
    market, engine, store = _Market(), _engine(), _Store(log)
    worker = EngineWorker(engine, lambda owner, r, frames: log.append("batch"), threaded=threaded)
    try:
        worker.submit_frames(None, market.frames(3_000), 0)
        task = asyncio.create_task(_keeper(engine, worker, store, market.time).checkpoint())
        before, before_ids, interleaved, batches_before = copy.deepcopy(market.models), dict(market.ids), 0, 1
        while not task.done():
            # What is submitted before the worker holds belongs in the checkpoint; what comes after, not.
            held = worker.holding
            worker.submit_frames(None, market.frames(5), 0)
            if held:
                interleaved += 1
            else:
                before, before_ids = copy.deepcopy(market.models), dict(market.ids)
                batches_before += 1
            engine.volume(SYMBOLS[0], "1m", now_ms=market.time)  # a query between steps (the HTTP service's)
            await asyncio.sleep(0)
        await task
        before_ids = {s: i for s, i in before_ids.items() if i}
        await asyncio.wait_for(worker.drain(), 10)
    finally:
        worker.stop()
    assert interleaved > 50  # the loop ran between the draft's steps
    assert log.index("checkpoint") == batches_before and log.count("batch") == batches_before + interleaved
    ((data, ids),) = store.checkpoints
    assert ids == before_ids
    restored = _engine()
    assert set(restored.restore(data)) == set(before_ids)
    market.check(restored, before)  # the checkpoint: only what came before it began
    market.check(engine, market.models)  # the engine: everything, the held frames applied after


@pytest.mark.asyncio
async def test_a_direct_change_during_the_draft_gives_a_whole_checkpoint_in_one_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keeper_module, "_STEP_S", 1e-9)
    market, engine, store = _Market(), _engine(), _Store()
    worker = EngineWorker(engine, lambda owner, r, frames: None, threaded=False)
    worker.submit_frames(None, market.frames(1_000), 0)
    task = asyncio.create_task(_keeper(engine, worker, store, market.time).checkpoint())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not task.done()
    engine.track("NEWUSDT")  # not through the worker: the draft in steps is void
    await task
    ((data, ids),) = store.checkpoints
    assert data == engine.checkpoint() and ids == engine.last_trade_ids()
    restored = _engine()
    assert "NEWUSDT" in restored.restore(data)
    market.check(restored, market.models)
