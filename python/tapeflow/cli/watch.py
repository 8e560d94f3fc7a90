"""``tapeflow watch``: the live terminal view of a real exchange (Binance by default, any base URLs): a start-up
progress display until every book is synced and every flow window complete, then the top symbols by net taker flow,
big trades, liquidations, one book and connection health."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TextIO
from urllib.parse import urlsplit

from tapeflow.cli.args import positive_float, positive_int, symbols
from tapeflow.cli.storage import add_store_arguments, store_path
from tapeflow.markets import MARKETS
from tapeflow.monitor import Monitor
from tapeflow.view import Notices, Sampler, Screen, Snapshot, show_startup

NAME = "watch"
HELP = "watch an exchange live: flow, big trades, liquidations, a book and health, after a start-up progress display"
DESCRIPTION = (
    "Connects to Binance (or the base URLs given) and shows the top symbols by net taker flow over --window, big "
    "trades, liquidations with the strongest cluster, the first --books symbol's book and connection health. A "
    "progress display runs until every kept book is synced and every flow window is complete. Without a terminal, "
    "or with --plain, it prints log lines and text snapshots. Ctrl-C stops it."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--market", choices=sorted(MARKETS), default="usdm")
    p.add_argument("--quote", default="USDT", help="quote asset of the symbols watched when --symbols is not given")
    p.add_argument(
        "--symbols", type=symbols, default=[], metavar="SYM,...", help="the symbols to watch (default: every one)"
    )
    p.add_argument("--window", default="15m", help="the flow window shown (default 15m)")
    p.add_argument("--books", type=symbols, default=[], metavar="SYM,...", help="books kept; the first is shown")
    p.add_argument("--big-trade", type=positive_float, default=100_000.0, metavar="QUOTE", help="big-trade threshold")
    p.add_argument("--top", type=positive_int, default=10, metavar="N", help="rows of the flow panel (10)")
    p.add_argument("--transport", choices=["websockets", "picows", "native"], default="websockets")
    p.add_argument("--ws-url", help="WebSocket base URL (default: Binance's for the market)")
    p.add_argument("--rest-url", help="REST base URL (default: Binance's for the market)")
    p.add_argument("--plain", action="store_true", help="log lines and text snapshots even on a terminal")
    p.add_argument("--interval", type=positive_float, default=5.0, metavar="SECONDS", help="between text snapshots")
    p.add_argument(
        "--duration", type=positive_float, metavar="SECONDS", help="stop after SECONDS (default: until Ctrl-C)"
    )
    add_store_arguments(p)


async def watch(args: argparse.Namespace, out: TextIO) -> Snapshot:
    """Runs the Monitor and the view described by ``args``; returns the last snapshot shown."""
    plain = args.plain or not out.isatty()
    loop = asyncio.get_running_loop()
    end = None if args.duration is None else loop.time() + args.duration
    books: list[str] = args.books
    watched = args.symbols or "ALL"
    window = args.window
    monitor = Monitor(
        args.market,
        watched,
        quote=args.quote or None,
        books=books,
        flow=tuple(dict.fromkeys(("1m", window))),
        big_trade=args.big_trade,
        ws_url=args.ws_url,
        rest_url=args.rest_url,
        transport=args.transport,
        store=store_path(args),
    )
    notices = Notices()
    root = logging.getLogger()
    root.addHandler(notices)  # warnings go to the health panel, not over the screen
    try:
        async with monitor as m:
            if plain:
                out.write(f"tapeflow watch: {m.market}, {len(m.symbols)} symbols from {m.config.rest_url}\n")
            remaining = None if end is None else end - loop.time()
            try:
                await asyncio.wait_for(show_startup(m, out, plain=plain, interval=args.interval), remaining)
            except TimeoutError:
                pass  # the duration ended during start-up: show what there is
            sampler = Sampler(
                m, books[0] if books else None, top=args.top, window=window, source=_source(m.config.ws_url)
            )
            sampler.notices = notices.lines
            try:
                duration = None if end is None else max(0.0, end - loop.time())
                screen = Screen(plain=plain, duration=duration, interval=args.interval)
                return await screen.show(sampler, out)
            finally:
                sampler.close()
    finally:
        root.removeHandler(notices)


def _source(ws_url: str) -> str:
    return urlsplit(ws_url).netloc or ws_url


def run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(watch(args, sys.stdout))
    except KeyboardInterrupt:
        sys.stdout.write("\ntapeflow watch: stopped\n")
    return 0
