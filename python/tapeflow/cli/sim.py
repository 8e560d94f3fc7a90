"""``tapeflow sim``: the local Binance-compatible exchange, until interrupted."""

from __future__ import annotations

import argparse
import asyncio

from tapeflow.sim import cli as sim_cli

NAME = "sim"
HELP = "run the local Binance-compatible exchange until interrupted"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sim_cli.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(sim_cli.run(args))
    except KeyboardInterrupt:
        pass
    return 0
