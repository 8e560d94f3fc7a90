"""The connection logic on an injected transport and a manual clock: no sockets, no library."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tapeflow import FunctionClock
from tapeflow.feeds import ConnectionOptions, FeedConnection
from tapeflow.feeds.transports import Link, LinkClosed
from tapeflow.markets import MARKETS


class FakeLink:
    def __init__(self, url: str, deliver: bool) -> None:
        self.url = url
        self.deliver = deliver
        self.queue: asyncio.Queue[list[bytes] | None] = asyncio.Queue()
        self.sent: list[str] = []
        self.closed = False

    async def recv_batch(self) -> list[bytes]:
        item = await self.queue.get()
        if item is None:
            raise LinkClosed("closed")
        return item

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def ping(self) -> Awaitable[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        fut.set_result(0.0)
        return fut

    async def close(self) -> None:
        self.abort()

    def abort(self) -> None:
        self.closed = True
        self.queue.put_nowait(None)


class FakeTransport:
    name = "fake"

    def __init__(self, state: dict[str, int], failures: int, deliver: bool = True) -> None:
        self.state = state
        self.failures = failures
        self.deliver = deliver
        self.attempts: list[int] = []
        self.links: list[FakeLink] = []

    async def connect(self, url: str, *, open_timeout: float = 10.0) -> Link:
        self.attempts.append(self.state["now"])
        if len(self.attempts) <= self.failures:
            raise OSError("connection refused")
        link = FakeLink(url, self.deliver)
        self.links.append(link)
        return link


async def until(cond: Callable[[], bool], state: dict[str, int] | None = None) -> None:
    """Polls ``cond`` (moving the clock on if given), for at most 10 real seconds."""
    for _ in range(10_000):
        if cond():
            return
        if state is not None:
            state["now"] += 100
        await asyncio.sleep(0.001)
    raise AssertionError("condition not reached")


async def run_clock(state: dict[str, int], until: int, step: int = 100) -> None:
    while state["now"] < until:
        state["now"] += step
        await asyncio.sleep(0.001)


def fake_connection(
    cid: int,
    state: dict[str, int],
    transport: FakeTransport,
    got: list[list[bytes]],
    options: ConnectionOptions,
    **hooks: Any,
) -> FeedConnection:
    """A USD-M ``/market`` connection of one aggTrade stream on ``transport``, its clock at ``state["now"]``, its
    batches appended to ``got``."""
    return FeedConnection(
        cid,
        MARKETS["usdm"],
        "ws://x",
        "market",
        ["a@aggTrade"],
        canary=None,
        transport=transport,
        clock=FunctionClock(lambda: state["now"], poll=0.0005),
        sink=lambda c, frames, t: got.append(frames),
        options=options,
        **hooks,
    )


@pytest.mark.asyncio
async def test_backoff_grows_with_jitter_and_never_gives_up() -> None:
    state = {"now": 0}
    transport = FakeTransport(state, failures=8)
    got: list[list[bytes]] = []
    conn = fake_connection(1, state, transport, got, ConnectionOptions(backoff_base_s=1.0, backoff_max_s=30.0))
    conn.start()
    try:
        clock = asyncio.create_task(run_clock(state, 400_000))
        await until(lambda: len(transport.links) >= 1)
        clock.cancel()
    finally:
        await conn.stop()
    gaps = [b - a for a, b in zip(transport.attempts, transport.attempts[1:], strict=False)]
    assert len(transport.attempts) == 9
    # Delay n is base x 2^(n-1) x [0.5, 1], capped at 30 s (the clock moves in 100 ms steps).
    for n, gap in enumerate(gaps, start=1):
        cap = min(30_000, 1000 * 2 ** (n - 1))
        assert cap * 0.5 - 100 <= gap <= cap + 500, (n, gap)
    assert max(gaps) >= 15_000


@pytest.mark.asyncio
async def test_silent_connection_is_replaced_and_data_flows_to_the_sink() -> None:
    state = {"now": 0}
    transport = FakeTransport(state, failures=0)
    got: list[list[bytes]] = []
    downs: list[str] = []
    conn = fake_connection(
        2,
        state,
        transport,
        got,
        ConnectionOptions(silence_s=5.0, backoff_base_s=0.1),
        on_down=lambda c, reason: downs.append(reason),
    )
    conn.start()
    try:
        await until(lambda: bool(transport.links))
        frame = b'{"stream":"a@aggTrade","data":{"e":"aggTrade","E":0}}'
        transport.links[0].queue.put_nowait([frame, frame])
        await run_clock(state, 3_000)
        assert got == [[frame, frame]] and conn.status().silent_kinds == ()
        await run_clock(state, 12_000)  # nothing for more than 5 s: a zombie
        await until(lambda: len(transport.links) >= 2, state)
        assert transport.links[0].closed and downs and downs[0].startswith("silent")
        assert conn.status().zombies >= 1 and conn.status().reconnects >= 1
        # The lag comes with the engine's result of each batch (``BatchResult.last_event_time_ms``), not from bytes.
        assert conn.status().lag_ms is None
        conn.record_lag(250)
        conn.record_lag(40)
        assert (conn.status().lag_ms, conn.status().lag_max_ms) == (40, 250)
    finally:
        await conn.stop()


@pytest.mark.asyncio
async def test_live_subscribe_of_a_sparse_stream_is_not_judged_silent() -> None:
    # Liquidations can be quiet for minutes: like a new session, a live subscribe leaves them to the canary.
    state = {"now": 0}
    transport = FakeTransport(state, failures=0)
    conn = fake_connection(3, state, transport, [], ConnectionOptions())
    conn.start()
    try:
        await until(lambda: conn.session is not None)
        conn.subscribe(["!forceOrder@arr", "b@aggTrade"])
        assert conn.session is not None
        assert "forceOrder" not in conn.session.times.unverified and "aggTrade" in conn.session.times.unverified
    finally:
        await conn.stop()
