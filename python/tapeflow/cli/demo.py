"""``tapeflow demo``: the local exchange and a Monitor on it, with the live terminal view."""

from __future__ import annotations

import argparse
import asyncio
import sys

from tapeflow import demo
from tapeflow.cli.args import positive_float, positive_int

NAME = "demo"
HELP = "run the local exchange and a Monitor on it, with a live view of flow, books, liquidations and health"
DESCRIPTION = (
    "Runs the local exchange (a seeded USD-M market on 127.0.0.1) and a Monitor on it in one process, and shows the "
    "top symbols by 15m net taker flow, big trades, liquidations, one book and connection health. Without a terminal "
    "it prints plain text snapshots. Ctrl-C stops it."
)


def run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(demo.run(options_from(args)))
    except KeyboardInterrupt:
        sys.stdout.write("\ntapeflow demo: stopped\n")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the demo's options to ``parser``."""
    d = demo.DemoOptions()
    parser.add_argument("--duration", type=positive_float, default=None, metavar="SECONDS", help="stop after SECONDS")
    parser.add_argument(
        "--symbols", type=positive_int, default=d.symbols, metavar="N", help=f"simulated symbols ({d.symbols})"
    )
    parser.add_argument("--seed", type=int, default=d.seed, help=f"the market's seed ({d.seed})")
    parser.add_argument(
        "--speed", type=positive_float, default=d.speed, metavar="X", help="virtual seconds per real second (1)"
    )
    parser.add_argument("--faults", action="store_true", help="inject disconnects, dropped frames, gaps and 429s")
    parser.add_argument("--book", default=None, metavar="SYMBOL", help="the book to show (default: the first symbol)")
    parser.add_argument(
        "--top", type=positive_int, default=d.top, metavar="N", help=f"rows of the flow panel ({d.top})"
    )
    parser.add_argument(
        "--big-trade",
        type=positive_float,
        default=d.big_trade,
        metavar="QUOTE",
        help=f"big-trade threshold ({d.big_trade:,.0f})",
    )
    parser.add_argument("--plain", action="store_true", help="print text snapshots even on a terminal")
    parser.add_argument(
        "--interval",
        type=positive_float,
        default=d.interval,
        metavar="SECONDS",
        help=f"between text snapshots ({d.interval:g})",
    )


def options_from(args: argparse.Namespace) -> demo.DemoOptions:
    """The :class:`~tapeflow.demo.DemoOptions` described by parsed arguments."""
    return demo.DemoOptions(
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
