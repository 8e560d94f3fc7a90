"""``tapeflow demo``: the local exchange and a :class:`tapeflow.Monitor` on it, in one process, with a terminal view.

The simulator serves a seeded USD-M market on loopback (ephemeral ports); the monitor connects to it like to Binance
and the view samples the monitor a few times per second. On a terminal the view is a live screen; otherwise (a pipe,
CI) plain text snapshots are printed every few seconds. ``--faults`` injects disconnects, dropped and duplicated
frames, depth gaps and REST throttling, so the health panel has reconnects and backfills to show.
"""

from __future__ import annotations

import logging
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from tapeflow.clock import FunctionClock
from tapeflow.errors import TapeflowError
from tapeflow.monitor import Monitor
from tapeflow.sim import SimConfig, SimExchange
from tapeflow.view import Notices, Sampler, Screen, Snapshot

__all__ = ["DemoOptions", "run", "schedule_faults"]


@dataclass
class DemoOptions:
    """What ``tapeflow demo`` runs.

    Attributes:
        symbols: simulated USD-M symbols.
        seed: the market's seed.
        speed: virtual seconds per real second.
        rate: book events per second per symbol; liq_rate: liquidations per second per symbol (virtual).
        faults: inject faults (about one every ``fault_every_s`` virtual seconds).
        duration: stop after this many real seconds (``None``: until interrupted).
        book: the symbol whose book is shown (default: the first).
        top: rows of the flow panel.
        big_trade: big-trade threshold (quote units).
        refresh: live-screen updates per second.
        interval: seconds between plain snapshots (when standard output is not a terminal).
        plain: force plain snapshots (``None``: plain unless standard output is a terminal).
        width: width of plain snapshots.
    """

    symbols: int = 30
    seed: int = 7
    speed: float = 1.0
    rate: float = 10.0
    liq_rate: float = 0.05
    faults: bool = False
    fault_every_s: float = 12.0
    duration: float | None = None
    book: str | None = None
    top: int = 10
    big_trade: float = 100_000.0
    refresh: float = 4.0
    interval: float = 5.0
    plain: bool | None = None
    width: int = 140


def schedule_faults(ex: SimExchange, seed: int, every_ms: int, until_ms: int | None = None) -> None:
    """Injects a mix of faults into ``ex``, about one per ``every_ms`` of virtual time (until ``until_ms``, if set).

    In turn: an abrupt cut of one connection (reconnect, tail check, book resync), dropped frames (aggTrade and depth
    gaps: backfill by id and resync), duplicated frames (counted once), a true depth gap, another cut, and two 429
    replies. Each fault schedules the next, so an endless run holds one pending fault at a time.
    """
    rng = random.Random(seed)
    f = ex.faults
    symbols = list(ex.market.models)

    def cut_one() -> None:
        clients = list(ex.clients)
        if clients:
            rng.choice(clients).close(abrupt=True)

    actions: list[Callable[[], Any]] = [
        cut_one,
        lambda: f.drop(3),
        lambda: f.duplicate(5),
        lambda: f.gap(rng.choice(symbols)),
        cut_one,
        lambda: f.rest_fail(429, count=2, retry_after=2),
    ]

    def plan(n: int, after_ms: int) -> None:
        at = after_ms + every_ms // 2 + int(rng.random() * every_ms)
        if until_ms is None or at < until_ms:
            f.schedule(at, lambda: fire(n, at))

    def fire(n: int, at: int) -> None:
        actions[n % len(actions)]()
        plan(n + 1, at)

    plan(0, ex.now_ms())


async def run(opts: DemoOptions, out: TextIO | None = None) -> Snapshot | None:
    """Runs the simulator, a monitor on it and the view until ``opts.duration`` or cancellation.

    Args:
        opts: what to run.
        out: where the view goes (default standard output).

    Returns:
        the last snapshot taken.
    """
    out = out or sys.stdout
    plain = opts.plain if opts.plain is not None else not out.isatty()
    notices = Notices()
    # Every warning of the process (tapeflow, websockets, asyncio) goes to the health panel, not over the screen.
    logger = logging.getLogger()
    logger.addHandler(notices)
    cfg = SimConfig(
        market="usdm", symbols=opts.symbols, seed=opts.seed, speed=opts.speed, rate=opts.rate, liq_rate=opts.liq_rate
    )
    last: Snapshot | None = None
    try:
        async with SimExchange(cfg) as ex:
            book = (opts.book or ex.truth.symbols()[0]).upper()
            if book not in ex.truth.symbols():
                names = ex.truth.symbols()
                raise TapeflowError(f"--book {book}: the local exchange lists {names[0]} to {names[-1]}")
            if opts.faults:
                schedule_faults(ex, opts.seed, int(opts.fault_every_s * 1000))
            clock = FunctionClock(ex.now_ms)
            monitor = Monitor("usdm", ws_url=ex.ws_url, rest_url=ex.rest_url, clock=clock, big_trade=opts.big_trade)
            async with monitor as m:
                sampler = Sampler(m, book, top=opts.top, source="local simulator")
                sampler.faults = opts.faults
                sampler.notices = notices.lines
                try:
                    screen = Screen(plain=plain, duration=opts.duration, refresh=opts.refresh,
                                    interval=opts.interval, width=opts.width)  # fmt: skip
                    last = await screen.show(sampler, out)
                finally:
                    sampler.close()
    finally:
        logger.removeHandler(notices)
    return last
