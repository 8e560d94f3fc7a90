"""``tapeflow serve``: a Monitor and the HTTP API (JSON, Prometheus metrics, pushed events, a live page)."""

from __future__ import annotations

import argparse
import asyncio

from tapeflow.cli.args import csv, port, positive_float, positive_int
from tapeflow.serve import ServeOptions
from tapeflow.serve import run as serve

NAME = "serve"
HELP = "watch a market and serve it over HTTP: flow, books, liquidations, health, metrics and a live page"
DESCRIPTION = (
    "Runs a Monitor and an HTTP server in one process: JSON endpoints (OpenAPI at /docs), Prometheus metrics at "
    "/metrics, events at /events and a live page at /. By default it watches Binance USD-M, every USDT symbol, "
    "with flow windows 1m/15m/1h and liquidations, and listens on 127.0.0.1:8000. --sim serves the embedded local "
    "exchange instead (offline). Ctrl-C or SIGTERM stops it cleanly."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = ServeOptions()
    p.add_argument("--sim", action="store_true", help="serve the embedded local exchange instead of Binance")
    p.add_argument("--market", choices=("spot", "usdm", "coinm"), default=d.market, help="Binance market (usdm)")
    p.add_argument("--symbols", default=None, metavar="A,B", help="symbols to watch (default: every --quote symbol)")
    p.add_argument("--quote", default=d.quote, help="quote asset filter for all symbols (USDT; empty for all)")
    p.add_argument("--flow", default=",".join(d.flow), metavar="W,W", help="flow windows (1m,15m,1h)")
    p.add_argument("--books", default="", metavar="A,B", help="symbols whose order books are kept (none)")
    p.add_argument("--big-trade", type=positive_float, default=d.big_trade, metavar="QUOTE", help="big-trade threshold")
    p.add_argument("--no-liquidations", action="store_true", help="do not follow liquidations")
    p.add_argument(
        "--no-backfill",
        action="store_true",
        help="do not fetch the flow windows' trades at start-up (they say incomplete until filled by the stream)",
    )
    p.add_argument("--ws-url", default=None, help="WebSocket base URL (default: Binance's; e.g. a 'tapeflow sim')")
    p.add_argument("--rest-url", default=None, help="REST base URL (default: Binance's)")
    p.add_argument("--host", default=d.host, help="address to listen on (127.0.0.1: this machine only)")
    p.add_argument("--port", type=port, default=d.port, help="port to listen on (8000; 0 picks a free one)")
    p.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow browser pages from ORIGIN to call the API (repeatable; '*' for any; none by default)",
    )
    p.add_argument("--duration", type=positive_float, default=None, metavar="SECONDS", help="stop after SECONDS")
    sim = p.add_argument_group("with --sim")
    sim.add_argument(
        "--sim-symbols", type=positive_int, default=d.sim_symbols, metavar="N", help="simulated symbols (30)"
    )
    sim.add_argument(
        "--sim-rate", type=positive_float, default=d.sim_rate, metavar="N", help="book events per second per symbol (5)"
    )
    sim.add_argument("--seed", type=int, default=d.seed, help="the simulated market's seed")
    sim.add_argument(
        "--speed", type=positive_float, default=d.speed, metavar="X", help="virtual seconds per real second"
    )
    sim.add_argument("--faults", action="store_true", help="inject disconnects, dropped frames, gaps and 429s")


def options_from(args: argparse.Namespace) -> ServeOptions:
    """The :class:`ServeOptions` described by parsed arguments."""
    return ServeOptions(
        market=args.market,
        symbols=[s.upper() for s in csv(args.symbols)] if args.symbols else None,
        quote=args.quote or None,
        flow=csv(args.flow),
        books=[s.upper() for s in csv(args.books)],
        big_trade=args.big_trade,
        liquidations=not args.no_liquidations,
        host=args.host,
        port=args.port,
        cors_origins=args.cors_origin,
        sim=args.sim,
        sim_symbols=args.sim_symbols,
        sim_rate=args.sim_rate,
        seed=args.seed,
        speed=args.speed,
        faults=args.faults,
        duration=args.duration,
        monitor_kwargs=_urls(args) | ({"backfill_startup": False} if args.no_backfill else {}),
    )


def _urls(args: argparse.Namespace) -> dict[str, object]:
    return {k: v for k, v in (("ws_url", args.ws_url), ("rest_url", args.rest_url)) if v}


def run(args: argparse.Namespace) -> int:
    asyncio.run(serve(options_from(args)))
    return 0
