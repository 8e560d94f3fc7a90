"""``tapeflow replay``: a recorded session through the engine, printing the final books or one line per applied
depth event."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

import orjson

from tapeflow._core import Action, BookTrace, Engine
from tapeflow.cli.args import positive_int
from tapeflow.errors import TapeflowError
from tapeflow.recordings import ReplaySummary, book_line, bundled, replay

NAME = "replay"
HELP = "replay a recorded session through the engine"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recording", nargs="?", help="a recording (.jsonl or .jsonl.gz)")
    p.add_argument("--bundled", action="store_true", help="replay the recordings shipped with tapeflow")
    p.add_argument("--market", choices=["spot", "usdm", "coinm"], help="default: detected from the URLs")
    p.add_argument("--emit", choices=["books"], help="books: one JSON line per applied depth event")
    p.add_argument("--depth", type=positive_int, default=10, help="top levels to show or emit (default 10)")
    p.add_argument("-o", "--out", help="write to this file instead of standard output")


def print_books(engine: Engine, summary: ReplaySummary, depth: int, out: TextIO) -> None:
    out.write(
        f"market {summary.market}: {summary.frames} frames, {summary.snapshots} snapshots, "
        f"{summary.gaps} gaps, {summary.malformed} malformed\n"
    )
    for symbol in engine.symbols():
        view = engine.book(symbol, depth, allow_unsynced=True)
        out.write(f"\n{symbol:<14} {view.state!s:<8} u={view.last_update_id}  levels {view.n_bids}/{view.n_asks}\n")
        bids, asks = view.bids_exact(), view.asks_exact()
        for i in range(max(len(bids), len(asks))):
            bid = f"{bids[i][1]:>16} @ {bids[i][0]:<14}" if i < len(bids) else " " * 33
            ask = f"{asks[i][0]:>14} x {asks[i][1]:<16}" if i < len(asks) else ""
            out.write(f"    {bid} | {ask}\n")


def _bundled(depth: int) -> int:
    for path in bundled():
        sys.stdout.write(f"=== replay of {path.name} ===\n")
        engine, summary = replay(path)
        print_books(engine, summary, depth, sys.stdout)
        sys.stdout.write("\n")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.bundled:
        if args.recording is not None:
            raise TapeflowError("give a recording or --bundled, not both")
        return _bundled(args.depth)
    if args.recording is None:
        raise TapeflowError("replay: give a recording (.jsonl or .jsonl.gz) or --bundled")
    out: TextIO = sys.stdout if args.out in (None, "-") else open(args.out, "w")
    try:
        emit = args.emit == "books"

        def on_action(action: Action) -> None:
            if isinstance(action, BookTrace):
                out.write(orjson.dumps(book_line(action)).decode())
                out.write("\n")

        engine, summary = replay(
            args.recording,
            market=args.market,
            trace_depth=args.depth if emit else None,
            on_action=on_action if emit else None,
        )
        if not emit:
            print_books(engine, summary, args.depth, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0
