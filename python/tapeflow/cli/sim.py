"""``tapeflow sim``: run the local Binance-compatible exchange until interrupted and print the URLs it serves."""

from __future__ import annotations

import argparse
import asyncio

from tapeflow.cli.args import port, positive_float, positive_int
from tapeflow.sim import SimConfig, SimExchange

NAME = "sim"
HELP = "run the local Binance-compatible exchange until interrupted"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--market", choices=("spot", "usdm", "coinm"), default="usdm")
    p.add_argument("--symbols", type=positive_int, default=20, help="number of symbols")
    p.add_argument("--exchange-info", default=None, help="exchangeInfo JSON to take symbols from")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--speed", type=positive_float, default=1.0, help="virtual seconds per real second")
    p.add_argument("--rate", type=positive_float, default=20.0, help="book events per second per symbol")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port, default=0, help="0 picks a free port")
    p.add_argument("--replay", default=None, metavar="FILE", help="serve a recording instead of the model")


def config_from(args: argparse.Namespace) -> SimConfig:
    """The ``SimConfig`` described by parsed arguments."""
    return SimConfig(market=args.market, symbols=args.symbols, seed=args.seed, speed=args.speed, host=args.host,
                     port=args.port, exchange_info=args.exchange_info, rate=args.rate, replay=args.replay)  # fmt: skip


async def serve(args: argparse.Namespace, stop: asyncio.Event | None = None) -> None:
    """Serves until ``stop`` is set (or forever), printing the base URLs first."""
    async with SimExchange(config_from(args)) as ex:
        prefix = {"spot": "/api/v3", "usdm": "/fapi/v1", "coinm": "/dapi/v1"}[ex.config.market]
        print(f"tapeflow sim: {ex.config.market}, {len(ex.market.models)} symbols, speed {ex.config.speed}")
        print(f"  websocket: {ex.ws_url}   (e.g. {ex.ws_url}/stream?streams=...)")
        print(f"  rest:      {ex.rest_url}{prefix}/...", flush=True)
        await (stop or asyncio.Event()).wait()


def run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0
