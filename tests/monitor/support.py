"""Helpers for end-to-end Monitor tests: a Monitor on the simulator's virtual clock, and ways to drive time."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from tapeflow import BookNotSyncedError, FunctionClock, Monitor
from tapeflow._core import parse_duration
from tapeflow.sim import SimExchange
from tapeflow.sim.symbols import parse_e8
from tests.sim.support import tape

_connected: weakref.WeakSet[Monitor] = weakref.WeakSet()


def monitor_on(ex: SimExchange, **kwargs: Any) -> Monitor:
    """A Monitor on the simulator (its URLs and virtual clock); quote filter off (generated symbols end in USDT)."""
    kwargs.setdefault("clock", FunctionClock(ex.now_ms, poll=0.003))
    return Monitor(ex.config.market, ws_url=ex.ws_url, rest_url=ex.rest_url, **kwargs)


async def drive(
    ex: SimExchange, m: Monitor, ms: int, *, chunk: int = 1000, each: Callable[[int], Any] | None = None
) -> None:
    """Advances the manual clock by ``ms`` in chunks, letting the monitor run between chunks.

    The first call waits for the connections to open (in real time) so the first frames are not missed; later calls
    must not (a reconnect waits for its backoff in virtual time, which only passes while the clock is driven).
    """
    if m not in _connected:
        await m.wait_connected()
        _connected.add(m)
    for i in range(ms // chunk):
        await ex.advance(chunk)
        await asyncio.sleep(0.004)
        await m.settle()
        if each is not None:
            each(i)


def idle(m: Monitor) -> bool:
    """No snapshot or backfill work pending and every book synced."""
    st = m.status()
    busy = st.snapshots.queued or st.snapshots.in_flight
    if st.backfill is not None:
        busy = busy or st.backfill.queued or st.backfill.in_flight or st.gaps_open or st.incomplete
    return not busy and st.books["SYNCED"] == len(m.book_symbols)


async def settle(ex: SimExchange, m: Monitor, max_ms: int = 300_000, chunk: int = 1000) -> int:
    """Advances time until the monitor is idle; returns the virtual ms it took. Fails if it is not idle within
    ``max_ms``."""
    spent = 0
    while spent < max_ms:
        if idle(m):
            # Idle twice in a row, a second apart: nothing was still on its way.
            await drive(ex, m, chunk, chunk=chunk)
            spent += chunk
            if idle(m):
                return spent
            continue
        await drive(ex, m, chunk, chunk=chunk)
        spent += chunk
    raise AssertionError(f"the monitor was still busy after {max_ms} virtual ms: {m.status()}")


def book_matches_truth(ex: SimExchange, m: Monitor, symbol: str) -> bool:
    """The whole local book equals the simulator's true book at the same update id (digest of every level)."""
    view = m.engine.book(symbol, 1)
    truth = ex.truth.book_at(symbol, view.last_update_id)
    return truth.update_id == view.last_update_id and m.engine.digest(symbol) == truth.digest()


def view_matches_truth(ex: SimExchange, symbol: str, view: Any) -> bool:
    """A served top-of-book view equals the true book at the view's update id."""
    truth = ex.truth.book_at(symbol, view.last_update_id)
    bids = sorted(truth.bids.items(), reverse=True)[: len(view.bids_exact())]
    asks = sorted(truth.asks.items())[: len(view.asks_exact())]
    got_b = [(parse_e8(p), parse_e8(q)) for p, q in view.bids_exact()]
    got_a = [(parse_e8(p), parse_e8(q)) for p, q in view.asks_exact()]
    return got_b == bids and got_a == asks


def read_books(ex: SimExchange, m: Monitor, symbols: list[str], tally: dict[str, int]) -> None:
    """Reads books as a user would: each read is either refused (not synced) or equal to the truth."""
    for s in symbols:
        try:
            view = m.book(s, 5)
        except BookNotSyncedError:
            tally["refused"] += 1
            continue
        tally["served"] += 1
        if not view_matches_truth(ex, s, view):
            tally["wrong"] += 1


MIN = 60_000


def edge_resolution(window_ms: int) -> int:
    """The documented edge of a sliding window (docs/flow.md): the finest of 1 s, 10 s, 1 min, 10 min and 1 h that
    keeps it within 900 steps and divides it, else the next finer one that divides it."""
    steps = (1000, 10_000, MIN, 10 * MIN, 60 * MIN)
    fits = [r for r in steps if window_ms // r <= 900 and window_ms % r == 0]
    if fits:
        return fits[0]
    coarsest = next((r for r in steps if window_ms // r <= 900), steps[-1])
    return max(r for r in steps if r <= coarsest and window_ms % r == 0)


def window_bounds(now: int, window_ms: int, aligned: bool) -> tuple[int, int]:
    """The documented bounds: sliding = the whole edge steps up to now's step; aligned = the UTC interval of now."""
    if aligned:
        start = now - now % window_ms
        return start, start + window_ms
    r = edge_resolution(window_ms)
    end = (now // r + 1) * r
    return end - window_ms, end


def check_windows(ex: SimExchange, m: Any, windows: tuple[str, ...], now: int) -> int:
    """Every symbol's sliding and aligned windows equal the tape and are complete; returns trades compared."""
    seen = 0
    for s in m.symbols:
        for w in windows:
            wms = parse_duration(w)
            for aligned in (False, True):
                v = m.volume(s, w, aligned=aligned, now_ms=now)
                t = tape(ex, s, *window_bounds(now, wms, aligned))
                exact = v.exact()
                got = (exact["buy_base"], exact["sell_base"], exact["buy_quote"], exact["sell_quote"])
                assert got == (t.buy_base, t.sell_base, t.buy_quote, t.sell_quote), (s, w, aligned)
                assert (v.buy_count, v.sell_count) == (t.buy_count, t.sell_count), (s, w, aligned)
                assert v.complete, (s, w, aligned)
                seen += t.buy_count + t.sell_count
    return seen
