"""The engine worker: in-order application, results while work keeps coming, surviving engine failures."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from tapeflow.monitor.worker import EngineWorker


@pytest.mark.asyncio
async def test_threaded_worker_reports_results_while_work_keeps_coming() -> None:
    # A feed faster than the engine keeps the worker's queue from ever emptying; its results must still come back
    # as it goes, not once the queue runs dry (a benchmark sender re-serving on every reconnect never let it).
    applied = 0
    lock = threading.Lock()

    class SlowEngine:
        def apply_frames(self, frames: list[bytes], recv_ts_ns: int, *, stream: int | None = None) -> Any:
            nonlocal applied
            time.sleep(0.002)
            with lock:
                applied += 1
            return SimpleNamespace(frames=len(frames))

    first = asyncio.Event()
    seen_at_first: list[int] = []

    def on_batch(owner: object, result: object, frames: object) -> None:
        if not first.is_set():
            seen_at_first.append(applied)
            first.set()

    worker = EngineWorker(SlowEngine(), on_batch, threaded=True)  # type: ignore[arg-type]
    try:
        for i in range(300):
            worker.submit_frames(None, [b"x"], i)
        await asyncio.wait_for(first.wait(), 5)
        assert seen_at_first[0] < 300  # the first results came back before the last item was applied
        await asyncio.wait_for(worker.drain(), 5)
        assert worker.batches == 300
    finally:
        worker.stop()


@pytest.mark.asyncio
async def test_threaded_worker_survives_an_engine_failure() -> None:
    class FailingOnce:
        calls = 0

        def apply_frames(self, frames: list[bytes], recv_ts_ns: int, *, stream: int | None = None) -> Any:
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("engine failure")
            return SimpleNamespace(frames=len(frames))

    got: list[int] = []
    worker = EngineWorker(FailingOnce(), lambda owner, r, frames: got.append(r.frames), threaded=True)  # type: ignore[arg-type]
    try:
        for n in (1, 2, 3):
            worker.submit_frames(None, [b"x"] * n, 0)
        await asyncio.wait_for(worker.drain(), 5)  # the failed batch counts as done: nothing waits forever
        assert got == [1, 3]
    finally:
        worker.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("threaded", [True, False])
async def test_each_batch_is_applied_as_the_stream_of_its_connection(threaded: bool) -> None:
    # The engine takes a connection's word for the trades it carries: each batch names its connection's number.
    streams: list[int | None] = []

    class Recording:
        def apply_frames(self, frames: list[bytes], recv_ts_ns: int, *, stream: int | None = None) -> Any:
            streams.append(stream)
            return SimpleNamespace(frames=len(frames))

    worker = EngineWorker(Recording(), lambda owner, r, frames: None, threaded=threaded)  # type: ignore[arg-type]
    try:
        for owner in (
            SimpleNamespace(id=3),
            SimpleNamespace(id=0),
            None,
            SimpleNamespace(id="x"),
            SimpleNamespace(id=-1),
        ):
            worker.submit_frames(owner, [b"x"], 0)
        await asyncio.wait_for(worker.drain(), 5)
        assert streams == [3, 0, None, None, None]
    finally:
        worker.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("threaded", [True, False])
async def test_held_work_waits_for_the_block_then_goes_in_order(threaded: bool) -> None:
    # Within `held()`, nothing submitted reaches the engine; afterwards everything does, in submission order.
    seen: list[Any] = []
    lock = threading.Lock()

    class Recording:
        def apply_frames(self, frames: list[bytes], recv_ts_ns: int, *, stream: int | None = None) -> Any:
            time.sleep(0.001)
            with lock:
                seen.append(frames[0])
            return SimpleNamespace(frames=len(frames))

    batches: list[bytes] = []
    worker = EngineWorker(Recording(), lambda owner, r, frames: batches.append(frames[0]), threaded=threaded)  # type: ignore[arg-type]
    try:
        worker.submit_frames(None, [b"before"], 0)
        async with worker.held():
            assert seen == [b"before"]  # what came before is applied first
            worker.submit_frames(None, [b"during-1"], 0)
            fut = worker.call(lambda: seen.append("call") or 7)
            worker.submit_frames(None, [b"during-2"], 0)
            await asyncio.sleep(0.02)
            assert seen == [b"before"] and not fut.done() and worker.backlog == 3
            with pytest.raises(RuntimeError, match="held already"):
                async with worker.held():
                    pass
        assert await asyncio.wait_for(fut, 5) == 7
        await asyncio.wait_for(worker.drain(), 5)
        assert seen == [b"before", b"during-1", "call", b"during-2"]
        assert batches == [b"before", b"during-1", b"during-2"]
    finally:
        worker.stop()


@pytest.mark.asyncio
async def test_held_work_that_fails_inline_is_dropped_and_the_rest_applied() -> None:
    class FailingOnBad:
        def apply_frames(self, frames: list[bytes], recv_ts_ns: int, *, stream: int | None = None) -> Any:
            if frames[0] == b"bad":
                raise RuntimeError("engine failure")
            return SimpleNamespace(frames=frames[0])

    got: list[bytes] = []
    worker = EngineWorker(FailingOnBad(), lambda owner, r, frames: got.append(r.frames), threaded=False)  # type: ignore[arg-type]
    async with worker.held():
        for f in (b"a", b"bad", b"b"):
            worker.submit_frames(None, [f], 0)
    await asyncio.wait_for(worker.drain(), 5)
    assert got == [b"a", b"b"] and worker.backlog == 0


@pytest.mark.asyncio
async def test_a_hold_waits_only_for_the_work_submitted_before_it() -> None:
    # A feed that never pauses must not keep a hold (a checkpoint) from ever starting.
    seen: list[int] = []

    class Slow:
        def apply_frames(self, frames: list[bytes], recv_ts_ns: int, *, stream: int | None = None) -> Any:
            time.sleep(0.005)
            seen.append(int(frames[0]))
            return SimpleNamespace(frames=len(frames))

    worker = EngineWorker(Slow(), lambda owner, r, frames: None, threaded=True)  # type: ignore[arg-type]
    entered: list[list[int]] = []

    async def hold() -> None:
        async with worker.held():
            entered.append(list(seen))

    try:
        for i in range(3):
            worker.submit_frames(None, [str(i).encode()], 0)
        task = asyncio.create_task(hold())
        await asyncio.sleep(0)  # the hold begins: what follows is held
        i = 3
        while not task.done():  # keeps submitting, faster than the engine applies
            worker.submit_frames(None, [str(i).encode()], 0)
            i += 1
            await asyncio.sleep(0.001)
        await task
        await asyncio.wait_for(worker.drain(), 10)
    finally:
        worker.stop()
    assert entered == [[0, 1, 2]]  # the work before the hold, and none of what came after
    assert seen == list(range(i))


@pytest.mark.asyncio
async def test_work_submitted_while_held_work_is_applied_goes_after_it() -> None:
    seen: list[bytes] = []

    class Recording:
        def apply_frames(self, frames: list[bytes], recv_ts_ns: int, *, stream: int | None = None) -> Any:
            seen.append(frames[0])
            return SimpleNamespace(frames=frames[0])

    def on_batch(owner: object, r: Any, frames: list[bytes]) -> None:
        if r.frames == b"held-1":  # a handler that submits more (as a book reset after a gap does)
            worker.submit_frames(None, [b"from-handler"], 0)

    worker = EngineWorker(Recording(), on_batch, threaded=False)  # type: ignore[arg-type]
    async with worker.held():
        worker.submit_frames(None, [b"held-1"], 0)
        worker.submit_frames(None, [b"held-2"], 0)
    await asyncio.wait_for(worker.drain(), 5)
    assert seen == [b"held-1", b"held-2", b"from-handler"]
