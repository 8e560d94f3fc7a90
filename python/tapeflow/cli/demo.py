"""``tapeflow demo``: the local exchange and a Monitor on it, with the live terminal view."""

from __future__ import annotations

import argparse
import asyncio
import sys

from tapeflow import demo

NAME = "demo"
HELP = "run the local exchange and a Monitor on it, with a live view of flow, books, liquidations and health"
DESCRIPTION = (
    "Runs the local exchange (a seeded USD-M market on 127.0.0.1) and a Monitor on it in one process, and shows the "
    "top symbols by 15m net taker flow, big trades, liquidations, one book and connection health. Without a terminal "
    "it prints plain text snapshots. Ctrl-C stops it."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    demo.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(demo.run(demo.options_from(args)))
    except KeyboardInterrupt:
        sys.stdout.write("\ntapeflow demo: stopped\n")
    return 0
