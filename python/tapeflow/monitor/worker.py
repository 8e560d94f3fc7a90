"""Feeds the engine in arrival order, inline or on a thread of its own (so decoding never holds up the event loop).

Every change to the engine goes through one FIFO — frame batches from every connection, REST depth snapshots, aggTrade
pages, resets — so the order the engine sees is the order things arrived (a recording made from the same stream of
calls replays to the same state). The engine releases the GIL while it decodes, so the event loop keeps reading
sockets and answering pings meanwhile. Results come back to the loop with one wake-up per drained run of work, or
per ``_RUN`` items when work keeps arriving (so results never wait for a queue that does not empty).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from tapeflow._core import BatchResult, Engine

__all__ = ["EngineWorker"]

log = logging.getLogger("tapeflow.feeds")

_RUN = 64  # work items applied before their results go back to the loop, at most

#: ``on_batch(owner, result, frames)``: called on the event loop with the result of each frame batch (and the
#: batch, for the few actions whose frame is kept, e.g. a liquidation's event as received).
OnBatch = Callable[[Any, BatchResult, list[bytes]], None]


def _stream(owner: Any) -> int | None:
    """The stream number a batch is applied with: its connection's number (frames of one connection reach the engine
    in the order it delivered them, so the engine can take its word for a symbol's trades), ``None`` without one."""
    cid = getattr(owner, "id", None)
    return cid if isinstance(cid, int) and 0 <= cid < 2**32 else None


class EngineWorker:
    """Applies work to the engine in order, on a worker thread (``threaded=True``) or inline on the loop.

    Args:
        engine: the engine.
        on_batch: called on the event loop with ``(owner, BatchResult, frames)`` for every frame batch.
        threaded: run the engine on a worker thread (default) or inline.
    """

    def __init__(self, engine: Engine, on_batch: OnBatch, *, threaded: bool = True) -> None:
        self.engine = engine
        self.on_batch = on_batch
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._submitted = 0
        self._completed = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._progress = asyncio.Event()  # set whenever results come back
        self._thread: threading.Thread | None = None
        #: Work held back by :meth:`held`, in order (``None`` when nothing is held).
        self._held: list[tuple[Any, Any, Any]] | None = None
        self.batches = 0
        if threaded:
            self._thread = threading.Thread(target=self._run, name="tapeflow-engine", daemon=True)
            self._thread.start()

    @property
    def backlog(self) -> int:
        """Work items submitted and not applied yet."""
        return self._submitted - self._completed

    @property
    def holding(self) -> bool:
        """Whether work submitted now is held back (see :meth:`held`)."""
        return self._held is not None

    def submit_frames(self, owner: Any, frames: list[bytes], recv_ms: int) -> None:
        """Queues a batch of raw frames received at ``recv_ms``."""
        self._put((owner, frames, recv_ms))

    def call(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        """Queues ``fn()`` (an engine call) behind everything submitted so far; the future gets its result."""
        fut: asyncio.Future[Any] = self._loop.create_future()
        self._put((fut, fn, None))
        return fut

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Holds back everything submitted from now on, and enters the block once everything submitted before is
        applied and its results handled: within the block, nothing this worker applies changes the engine. When the
        block ends, the held work is applied in order (and work its results submit meanwhile after it)."""
        if self._held is not None:
            raise RuntimeError("the engine worker is held already")
        before, held = self._submitted, list[tuple[Any, Any, Any]]()
        self._held = held
        try:
            while self._completed < before:
                self._progress.clear()
                await self._progress.wait()
            yield
        finally:
            at = 0
            while at < len(held):  # results handled inline may submit more: it joins the end, in order
                item, at = held[at], at + 1
                try:
                    self._dispatch(item)
                except Exception:  # as on the thread: the batch is dropped, the rest still applied
                    log.exception("applying held work failed; it is dropped")
                    self._done([(None, None, None)])
            self._held = None

    def _put(self, item: tuple[Any, Any, Any]) -> None:
        self._submitted += 1
        self._idle.clear()
        if self._held is not None:
            self._held.append(item)
        else:
            self._dispatch(item)

    def _dispatch(self, item: tuple[Any, Any, Any]) -> None:
        """Applies an item at once (inline) or queues it to the thread: ``(owner, frames, recv_ms)`` or
        ``(future, fn, None)``."""
        if self._thread is not None:
            self._queue.put(item)
            return
        a, b, c = item
        if isinstance(a, asyncio.Future):
            try:
                value: Any = b()
            except Exception as e:
                self._done([(None, e, a)])
            else:
                self._done([(None, value, a)])
        else:
            result = self.engine.apply_frames(b, c * 1_000_000, stream=_stream(a))
            self._done([(a, (result, b), None)])

    async def drain(self) -> None:
        """Waits until everything submitted so far has been applied and its results handled."""
        while self._submitted != self._completed:
            self._idle.clear()
            await self._idle.wait()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    # ------------------------------------------------------------------ worker side
    def _run(self) -> None:
        q = self._queue
        engine = self.engine
        while True:
            item = q.get()
            done: list[tuple[Any, Any, asyncio.Future[Any] | None]] = []
            stop = False
            while True:
                if item is None:
                    stop = True
                    break
                a, b, c = item
                if isinstance(a, asyncio.Future):
                    try:
                        done.append((None, b(), a))
                    except Exception as e:
                        done.append((None, e, a))
                else:
                    try:
                        result = engine.apply_frames(b, c * 1_000_000, stream=_stream(a))
                        done.append((a, (result, b), None))
                    except BaseException:  # an engine failure must not end the thread: the batch is dropped
                        log.exception("applying a batch of %d frames failed; it is dropped", len(b))
                        done.append((a, None, None))
                if len(done) >= _RUN:
                    break
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
            if done:
                try:
                    self._loop.call_soon_threadsafe(self._done, done)
                except RuntimeError:  # the loop is closed: nobody is waiting any more
                    return
            if stop:
                return

    def _done(self, done: list[tuple[Any, Any, asyncio.Future[Any] | None]]) -> None:
        for owner, value, fut in done:
            self._completed += 1
            if fut is None and value is None:
                continue  # a batch the engine failed on (logged)
            if fut is None:
                self.batches += 1
                try:
                    self.on_batch(owner, *value)
                except Exception:  # one bad handler must not stop the results of the others
                    log.exception("handling a batch failed")
            elif not fut.done():
                if isinstance(value, Exception):
                    fut.set_exception(value)
                else:
                    fut.set_result(value)
        self._progress.set()
        if self._submitted == self._completed:
            self._idle.set()
