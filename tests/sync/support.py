"""Helpers for the sync tests: the engine behind its worker as the target of the schedulers, against the
simulator's REST API, and aggTrades bodies written from the simulator's true tape."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tapeflow import Engine, FunctionClock
from tapeflow._core import Action
from tapeflow.monitor.bodies import EngineBodies
from tapeflow.monitor.events import EventHub
from tapeflow.monitor.worker import EngineWorker
from tapeflow.sim import SimExchange
from tapeflow.sim.book import AggTrade
from tapeflow.sim.symbols import E8
from tapeflow.sync.rest import RestClient


def _dec(e8: int) -> str:
    return f"{e8 // E8}.{e8 % E8:08d}"


def agg_body(trades: Sequence[AggTrade]) -> bytes:
    """A REST aggTrades body of ``trades`` (Binance's row shape)."""
    rows = [{"a": t.a, "p": _dec(t.p), "q": _dec(t.q), "f": t.f, "l": t.l, "T": t.T, "m": t.m} for t in trades]
    return json.dumps(rows).encode()


@dataclass
class Rig:
    """An engine fed through its worker, the simulator's REST API, and the actions the engine returned."""

    ex: SimExchange
    engine: Engine
    rest: RestClient
    bodies: EngineBodies
    clock: FunctionClock
    actions: list[Action] = field(default_factory=list)


async def rig(ex: SimExchange, **engine_kwargs: object) -> Rig:
    clock = FunctionClock(ex.now_ms, poll=0.001)
    engine = Engine(ex.config.market, **engine_kwargs)  # type: ignore[arg-type]
    worker = EngineWorker(engine, lambda owner, result, frames: None, threaded=False)
    actions: list[Action] = []
    bodies = EngineBodies(engine, worker, actions.extend, EventHub(clock.now_ms))
    rest = RestClient(ex.rest_url, clock=clock, weight_limit=2400)
    await rest.start()
    return Rig(ex, engine, rest, bodies, clock, actions)


async def until(ex: SimExchange, done: Callable[[], bool], *, step_ms: int = 500, max_steps: int = 2000) -> None:
    """Advances the simulator's clock in steps until ``done()`` (real waits between steps let the tasks run);
    ``step_ms=0`` keeps the market still and only waits."""
    for _ in range(max_steps):
        if done():
            return
        if step_ms:
            await ex.advance(step_ms)
        await asyncio.sleep(0.002)
    raise AssertionError("not done in time")
