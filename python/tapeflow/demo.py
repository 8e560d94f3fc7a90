"""``tapeflow demo``: the local exchange and a :class:`tapeflow.Monitor` on it, in one process, with a terminal view.

The simulator serves a seeded USD-M market on loopback (ephemeral ports); the monitor connects to it like to Binance
and the view samples the monitor a few times per second. On a terminal the view is a live screen; otherwise (a pipe,
CI) plain text snapshots are printed every few seconds. ``--faults`` injects disconnects, dropped and duplicated
frames, depth gaps and REST throttling, so the health panel has reconnects and backfills to show.
"""

from __future__ import annotations

import argparse
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

__all__ = ["DemoOptions", "add_arguments", "options_from", "run", "schedule_faults"]


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the demo's options to ``parser``."""
    d = DemoOptions()
    parser.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after SECONDS")
    parser.add_argument("--symbols", type=int, default=d.symbols, metavar="N", help=f"simulated symbols ({d.symbols})")
    parser.add_argument("--seed", type=int, default=d.seed, help=f"the market's seed ({d.seed})")
    parser.add_argument("--speed", type=float, default=d.speed, metavar="X", help="virtual seconds per real second (1)")
    parser.add_argument("--faults", action="store_true", help="inject disconnects, dropped frames, gaps and 429s")
    parser.add_argument("--book", default=None, metavar="SYMBOL", help="the book to show (default: the first symbol)")
    parser.add_argument("--top", type=int, default=d.top, metavar="N", help=f"rows of the flow panel ({d.top})")
    parser.add_argument(
        "--big-trade",
        type=float,
        default=d.big_trade,
        metavar="QUOTE",
        help=f"big-trade threshold ({d.big_trade:,.0f})",
    )
    parser.add_argument("--plain", action="store_true", help="print text snapshots even on a terminal")
    parser.add_argument(
        "--interval", type=float, default=d.interval, metavar="SECONDS", help=f"between text snapshots ({d.interval:g})"
    )


def options_from(args: argparse.Namespace) -> DemoOptions:
    """The :class:`DemoOptions` described by parsed arguments."""
    return DemoOptions(
        symbols=args.symbols,
        seed=args.seed,
        speed=args.speed,
        faults=args.faults,
        duration=args.duration,
        book=args.book,
        top=args.top,
        big_trade=args.big_trade,
        interval=args.interval,
        plain=True if args.plain else None,
    )
