"""``tapeflow record``: a live session (frames and REST replies) written to a recording file for replay."""

from __future__ import annotations

import argparse
import asyncio
import sys

from tapeflow.cli.args import csv, positive_float, symbols
from tapeflow.cli.storage import add_store_arguments, store_path

NAME = "record"
HELP = "record a live session (frames and REST replies) for replay"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", help="output file (.jsonl, or .jsonl.gz)")
    p.add_argument("--market", choices=["spot", "usdm", "coinm"], default="usdm")
    p.add_argument("--symbols", type=symbols, default=[], help="comma-separated symbols (default: all of --quote)")
    p.add_argument("--quote", default="USDT", help="quote asset filter for all symbols (default USDT)")
    p.add_argument("--flow", type=csv, default=["1m", "15m"], help="flow windows (aggTrade streams); empty for none")
    p.add_argument("--no-books", action="store_true", help="no depth streams or snapshots")
    p.add_argument("--no-liquidations", action="store_true", help="no forceOrder/markPrice streams")
    p.add_argument(
        "--duration", type=positive_float, help="seconds of the exchange's time to record (default: until interrupted)"
    )
    p.add_argument("--ws-url", help="WebSocket base URL (default: Binance's)")
    p.add_argument("--rest-url", help="REST base URL (default: Binance's)")
    add_store_arguments(p, default_on=False)


def run(args: argparse.Namespace) -> int:
    from tapeflow.recordings.record import record

    kwargs: dict[str, object] = {
        "market": args.market,
        "symbols": args.symbols or "ALL",
        "books": not args.no_books,
        "flow": args.flow,
        "liquidations": not args.no_liquidations,
        "quote": args.quote or None,
    }
    if args.ws_url:
        kwargs["ws_url"] = args.ws_url
    if args.rest_url:
        kwargs["rest_url"] = args.rest_url
    store = store_path(args)
    if store is not None:
        kwargs["store"] = store
    try:
        n = asyncio.run(record(args.out, duration_s=args.duration, **kwargs))
    except KeyboardInterrupt:
        return 0
    sys.stderr.write(f"tapeflow: wrote {n} records to {args.out}\n")
    return 0
