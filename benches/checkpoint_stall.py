"""How long a checkpoint of a full market holds the engine and stalls the event loop.

An ``Engine("usdm")`` with its default windows (horizons 1m, 5m, 15m, 1h, 4h; aligned 1m, 5m, 15m, 1h with 60 kept) is
fed ``--symbols`` symbols that each trade every second for ``--seconds`` seconds (as ``benches/flow_memory.py``; by
default 2,000 symbols for 4 h 5 min: every window full). Then, ``--repeat`` times each:

- engine held: ``Engine.checkpoint_draft()``, the part that holds the engine (with a build that has no drafts, the
  whole ``Engine.checkpoint()``, which held it throughout);
- ``Engine.checkpoint()``: draft, checksum and bytes, the whole call;
- the loop: an event loop with a 1 ms timer checkpoints, alternately, as the Monitor's keeper does with the default
  inline engine (the worker held, the draft written in steps of about 1 ms with the loop free between them) and in
  one go (the whole draft on the loop, as the keeper did before; with a build without drafts, ``checkpoint()`` on the
  loop and its bytes queued); either way the store's writer thread seals and writes it to a store in a temporary
  directory. Until the row is committed, the longest delay of the timer is the stall the feed, the HTTP service and
  the view see.

    .venv/bin/python benches/checkpoint_stall.py                   # the full market (about 29 million trades fed)
    .venv/bin/python benches/checkpoint_stall.py --symbols 200     # a quicker run
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flow_memory import feed, restore_timed
from tapeflow import Engine
from tapeflow.monitor.keeper import Keeper
from tapeflow.monitor.worker import EngineWorker
from tapeflow.store import Store


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Seconds of ``repeat`` calls of ``fn``, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return times, result


def ms(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1e3:7.1f} ms, min {min(times) * 1e3:7.1f}, max {max(times) * 1e3:7.1f}"


async def loop_stall(engine: Engine, store: Store, at_ms: int, steps: bool) -> tuple[float, float, float]:
    """One checkpoint while a 1 ms timer runs: (longest timer delay, seconds until committed, seconds frames would
    wait). With ``steps``, the Monitor's keeper takes it (its buffer made ready on a thread, then an inline worker
    held while the draft is written in steps with the loop free between them; frames wait for the whole hold);
    without, the draft is taken in one go on the loop and sealed into ``bytes``, as the keeper did before drafting in
    steps (frames wait for the draft). Each starts from the buffer its way leaves between checkpoints: the one-go way
    from the buffer its last ``seal()`` kept, the keeper's from none (``seal_buffer()`` keeps nothing)."""
    if steps:
        engine.checkpoint_draft().seal_buffer()  # leaves no buffer kept
    elif hasattr(engine, "checkpoint_draft"):
        engine.checkpoint()  # keeps its buffer
    worst = 0.0
    stop = False

    async def tick() -> None:
        nonlocal worst
        while not stop:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            worst = max(worst, time.perf_counter() - t - 0.001)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.05)
    before = store.writer.written.get("checkpoint", 0)
    t0 = time.perf_counter()
    draft_fn = getattr(engine, "checkpoint_draft", None)
    held = 0.0
    if steps:
        worker = EngineWorker(engine, lambda owner, result, frames: None, threaded=False)
        clock = SimpleNamespace(now_ms=lambda: at_ms)
        keeper = Keeper(
            store,
            engine,
            worker,
            clock,
            None,
            intervals=[],
            ready=lambda: True,
            since_ms=at_ms,  # type: ignore[arg-type]
            checkpoint_s=60.0,
            retention_ms=None,
        )
        await keeper.checkpoint()
        held = keeper.checkpoint_wait_seconds
    elif draft_fn is not None:
        ids = engine.last_trade_ids()
        draft = draft_fn()
        held = time.perf_counter() - t0
        store.checkpoint(draft.seal, ids, at_ms, len(ids))
    else:
        ids = engine.last_trade_ids()
        store.checkpoint(engine.checkpoint(), ids, at_ms, len(ids))
    while store.writer.written.get("checkpoint", 0) == before:  # noqa: ASYNC110 (the writer thread signals nothing)
        await asyncio.sleep(0.005)
    done = time.perf_counter() - t0
    await asyncio.sleep(0.05)
    stop = True
    await ticker
    return worst, done, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=4 * 3600 + 5 * 60)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    symbols = [f"S{i:04d}USDT" for i in range(args.symbols)]
    engine = Engine("usdm")
    t = time.perf_counter()
    feed(engine, symbols, args.seconds)
    print(f"{args.symbols} symbols x {args.seconds} s fed in {time.perf_counter() - t:.1f} s")
    drafts = hasattr(engine, "checkpoint_draft")
    if drafts:
        # As the keeper does: each draft is sealed, so the next one is written into the buffer the last one left.
        held, seal_times = [], []
        for _ in range(args.repeat + 1):
            t = time.perf_counter()
            draft = engine.checkpoint_draft()
            held.append(time.perf_counter() - t)
            t = time.perf_counter()
            draft.seal()
            seal_times.append(time.perf_counter() - t)
        print(f"engine held, first checkpoint_draft (a new buffer): {held[0] * 1e3:7.1f} ms")
        print(f"engine held (checkpoint_draft): {ms(held[1:])}")
        print(f"CheckpointDraft.seal():            {ms(seal_times[1:])}")
    else:
        held, draft = timed(engine.checkpoint, args.repeat)
        print(f"engine held (checkpoint, no drafts in this build): {ms(held)}")
    whole, data = timed(engine.checkpoint, args.repeat)
    print(f"Engine.checkpoint(), whole call:  {ms(whole)}  ({len(data) / 1e6:.1f} MB)")
    restore_s = restore_timed(engine, data, symbols)
    print(f"restore into a fresh engine:       {restore_s * 1e3:7.1f} ms")
    del draft, data
    with tempfile.TemporaryDirectory() as tmp:
        now = 1_767_225_600_000 + args.seconds * 1000
        store = Store(Path(tmp) / "bench.sqlite", market="usdm", now_ms=lambda: now)
        store.begin(now)
        try:
            ways = [False, True] if hasattr(engine, "checkpoint_drafter") else [False]
            stalls: dict[bool, list[float]] = {w: [] for w in ways}
            commits: dict[bool, list[float]] = {w: [] for w in ways}
            helds: dict[bool, list[float]] = {w: [] for w in ways}
            for _ in range(args.repeat):  # the two ways alternated, on the same engine and store
                for steps in ways:
                    worst, done, held_s = asyncio.run(loop_stall(engine, store, now, steps))
                    stalls[steps].append(worst)
                    commits[steps].append(done)
                    helds[steps].append(held_s)
            for steps in ways:
                way = "keeper, draft in steps" if steps else "draft in one go      "
                print(f"loop stall (1 ms timer), {way}:  {ms(stalls[steps])}")
                print(f"frames held back, {way}:           {ms(helds[steps])}")
                print(f"checkpoint committed after, {way}: {ms(commits[steps])}")
        finally:
            store.close()


if __name__ == "__main__":
    main()
