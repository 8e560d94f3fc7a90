"""``tapeflow export``: a store's history as CSV or JSON lines — flow candles, liquidations or big trades, exact."""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson

from tapeflow._core import parse_duration
from tapeflow.store import History
from tapeflow.store.history import KINDS

NAME = "export"
HELP = "export a store's history (candles, liquidations, big trades) as CSV or JSON lines"
DESCRIPTION = (
    "Reads a store file (as kept by 'tapeflow watch', 'tapeflow serve' or Monitor(store=...)) without changing it, "
    "and writes one kind of history in time order: 'candles' (completed flow intervals: exact taker buy/sell base "
    "and quote volume, counts, first/last aggTrade id, complete), 'liquidations' (every field as received, exact "
    "notional) or 'big_trades'. Decimals are written exactly as stored (text), never rounded through floats."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", required=True, metavar="PATH", help="the store file")
    p.add_argument("--what", required=True, choices=sorted(KINDS), help="what to export")
    p.add_argument(
        "--since",
        metavar="TIME",
        help="from TIME on: ms since the epoch, an ISO 8601 time (UTC unless it says), or a duration back from now "
        "('24h', '7d'); default: everything",
    )
    p.add_argument("--until", metavar="TIME", help="before TIME (same forms; default: now and later)")
    p.add_argument("--symbol", help="one symbol (default: all)")
    p.add_argument("--interval", help="candles of this length only ('1m', '15m'...; default: all kept)")
    p.add_argument("--side", help="long/short (liquidations) or buy/sell (big trades)")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="output format (csv)")
    p.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")


def parse_time(text: str, now_ms: int) -> int:
    """ms since the epoch of ``text``: an integer (ms), an ISO 8601 time (UTC unless it has an offset), or a
    duration back from ``now_ms`` (``"24h"``).

    Raises:
        ValueError: none of those.
    """
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return now_ms - parse_duration(text)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: give ms since the epoch, an ISO 8601 time or a duration") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * 1000)


def export(args: argparse.Namespace, out: TextIO) -> int:
    """Writes the rows ``args`` ask for to ``out``; returns how many."""
    now = time.time_ns() // 1_000_000
    since = parse_time(args.since, now) if args.since else None
    until = parse_time(args.until, now) if args.until else None
    history = History(Path(args.store))
    market = history.market()
    names = ["market", *(name for name, _ in KINDS[args.what].columns)]
    rows: Iterator[tuple[Any, ...]] = history.rows(
        args.what, symbol=args.symbol, start=since, end=until, interval=args.interval, side=args.side
    )
    n = 0
    if args.format == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(names)
        for row in rows:
            w.writerow((market, *row))
            n += 1
    else:
        for row in rows:
            out.write(orjson.dumps(dict(zip(names, (market, *row), strict=True))).decode())
            out.write("\n")
            n += 1
    return n


def run(args: argparse.Namespace) -> int:
    try:
        if args.out:
            with open(args.out, "w", newline="", encoding="utf-8") as f:
                n = export(args, f)
        else:
            n = export(args, sys.stdout)
    except ValueError as e:
        sys.stderr.write(f"tapeflow export: error: {e}\n")
        return 2
    sys.stderr.write(f"tapeflow export: {n} {args.what.replace('_', ' ')}\n")
    return 0
