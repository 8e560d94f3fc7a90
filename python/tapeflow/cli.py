"""The ``tapeflow`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TextIO

import orjson

from tapeflow import __version__, demo
from tapeflow._core import Action, BookTrace, Engine
from tapeflow.errors import TapeflowError
from tapeflow.replay import ReplaySummary, book_line, replay
from tapeflow.sim import cli as sim_cli

__all__ = ["main"]


def _print_books(engine: Engine, summary: ReplaySummary, depth: int, out: TextIO) -> None:
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


def _cmd_replay(args: argparse.Namespace) -> int:
    if args.bundled:
        if args.recording is not None:
            raise TapeflowError("give a recording or --bundled, not both")
        return _replay_bundled(args.depth)
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
            _print_books(engine, summary, args.depth, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    from tapeflow.record import record

    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()] if args.symbols else "ALL"
    flow = [w for w in args.flow.split(",") if w] if args.flow else []
    kwargs: dict[str, object] = {
        "market": args.market,
        "symbols": symbols,
        "books": not args.no_books,
        "flow": flow,
        "liquidations": not args.no_liquidations,
        "quote": args.quote or None,
    }
    if args.ws_url:
        kwargs["ws_url"] = args.ws_url
    if args.rest_url:
        kwargs["rest_url"] = args.rest_url
    try:
        n = asyncio.run(record(args.out, duration_s=args.duration, **kwargs))
    except KeyboardInterrupt:
        return 0
    sys.stderr.write(f"tapeflow: wrote {n} records to {args.out}\n")
    return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    try:
        asyncio.run(sim_cli.run(args))
    except KeyboardInterrupt:
        pass
    return 0


def _bundled_recordings() -> list[Path]:
    root = resources.files("tapeflow") / "data" / "recordings"
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))


def _replay_bundled(depth: int) -> int:
    for path in _bundled_recordings():
        sys.stdout.write(f"=== replay of {path.name} ===\n")
        engine, summary = replay(path)
        _print_books(engine, summary, depth, sys.stdout)
        sys.stdout.write("\n")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    try:
        asyncio.run(demo.run(demo.options_from(args)))
    except KeyboardInterrupt:
        sys.stdout.write("\ntapeflow demo: stopped\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tapeflow", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tapeflow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("replay", help="replay a recorded session through the engine")
    p.add_argument("recording", nargs="?", help="a recording (.jsonl or .jsonl.gz)")
    p.add_argument("--bundled", action="store_true", help="replay the recordings shipped with tapeflow")
    p.add_argument("--market", choices=["spot", "usdm", "coinm"], help="default: detected from the URLs")
    p.add_argument("--emit", choices=["books"], help="books: one JSON line per applied depth event")
    p.add_argument("--depth", type=int, default=10, help="top levels to show or emit (default 10)")
    p.add_argument("-o", "--out", help="write to this file instead of standard output")
    p.set_defaults(func=_cmd_replay)

    p = sub.add_parser("record", help="record a live session (frames and REST replies) for replay")
    p.add_argument("out", help="output file (.jsonl, or .jsonl.gz)")
    p.add_argument("--market", choices=["spot", "usdm", "coinm"], default="usdm")
    p.add_argument("--symbols", help="comma-separated symbols (default: all trading symbols of --quote)")
    p.add_argument("--quote", default="USDT", help="quote asset filter for all symbols (default USDT)")
    p.add_argument("--flow", default="1m,15m", help="flow windows (aggTrade streams); empty for none")
    p.add_argument("--no-books", action="store_true", help="no depth streams or snapshots")
    p.add_argument("--no-liquidations", action="store_true", help="no forceOrder/markPrice streams")
    p.add_argument("--duration", type=float, help="seconds to record (default: until interrupted)")
    p.add_argument("--ws-url", help="WebSocket base URL (default: Binance's)")
    p.add_argument("--rest-url", help="REST base URL (default: Binance's)")
    p.set_defaults(func=_cmd_record)

    p = sub.add_parser("sim", help="run the local Binance-compatible exchange until interrupted")
    sim_cli.add_arguments(p)
    p.set_defaults(func=_cmd_sim)

    p = sub.add_parser(
        "demo",
        help="run the local exchange and a Monitor on it, with a live view of flow, books, liquidations and health",
        description=(
            "Runs the local exchange (a seeded USD-M market on 127.0.0.1) and a Monitor on it in one process, and "
            "shows the top symbols by 15m net taker flow, big trades, liquidations, one book and connection health. "
            "Without a terminal it prints plain text snapshots. Ctrl-C stops it."
        ),
    )
    demo.add_arguments(p)
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tapeflow`` command."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (TapeflowError, OSError) as e:
        sys.stderr.write(f"tapeflow: error: {e}\n")
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
