"""``tapeflow sim``: run the local exchange until interrupted and print the URLs it serves.

Wire it as a sub-command: ``add_arguments(subparser)`` then ``asyncio.run(run(args))``.
"""

from __future__ import annotations

import argparse
import asyncio

from tapeflow.sim.config import SimConfig
from tapeflow.sim.server import SimExchange


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the simulator's options to ``parser``."""
    parser.add_argument("--market", choices=("spot", "usdm", "coinm"), default="usdm")
    parser.add_argument("--symbols", type=int, default=20, help="number of symbols")
    parser.add_argument("--exchange-info", default=None, help="exchangeInfo JSON to take symbols from")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=float, default=1.0, help="virtual seconds per real second")
    parser.add_argument("--rate", type=float, default=20.0, help="book events per second per symbol")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--replay", default=None, metavar="FILE", help="serve a recording instead of the model")


def config_from(args: argparse.Namespace) -> SimConfig:
    """The ``SimConfig`` described by parsed arguments."""
    return SimConfig(market=args.market, symbols=args.symbols, seed=args.seed, speed=args.speed, host=args.host,
                     port=args.port, exchange_info=args.exchange_info, rate=args.rate, replay=args.replay)  # fmt: skip


async def run(args: argparse.Namespace, stop: asyncio.Event | None = None) -> None:
    """Serves until ``stop`` is set (or forever), printing the base URLs first."""
    async with SimExchange(config_from(args)) as ex:
        prefix = {"spot": "/api/v3", "usdm": "/fapi/v1", "coinm": "/dapi/v1"}[ex.config.market]
        print(f"tapeflow sim: {ex.config.market}, {len(ex.market.models)} symbols, speed {ex.config.speed}")
        print(f"  websocket: {ex.ws_url}   (e.g. {ex.ws_url}/stream?streams=...)")
        print(f"  rest:      {ex.rest_url}{prefix}/...", flush=True)
        await (stop or asyncio.Event()).wait()


def main(argv: list[str] | None = None) -> None:
    """Stand-alone entry point (``python -m tapeflow.sim.cli``)."""
    parser = argparse.ArgumentParser(prog="tapeflow sim", description=__doc__)
    add_arguments(parser)
    try:
        asyncio.run(run(parser.parse_args(argv)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
