"""The ``--store`` / ``--no-store`` options of the long-running commands (``watch``; ``record`` takes ``--store``
only: a recording is made from a fresh start unless asked otherwise)."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlsplit

from tapeflow.markets import market_spec
from tapeflow.store import default_path

__all__ = ["add_store_arguments", "store_path"]


def add_store_arguments(p: argparse.ArgumentParser, *, default_on: bool = True) -> None:
    """Adds ``--store PATH`` (and ``--no-store`` when the store is on by default)."""
    if default_on:
        p.add_argument(
            "--store",
            metavar="PATH",
            help="the store file: liquidation history, flow candles and checkpoints, so a restart resumes (default: "
            "$XDG_DATA_HOME/tapeflow/<market>.db, i.e. ~/.local/share/tapeflow/<market>.db; "
            "<market>-<host>_<port>.db for another exchange than Binance)",
        )
        p.add_argument("--no-store", action="store_true", help="keep nothing on disk (a restart starts afresh)")
    else:
        p.add_argument(
            "--store",
            metavar="PATH",
            help="also keep a store file (liquidation history, flow candles, checkpoints; see docs/store.md)",
        )


def store_path(args: argparse.Namespace) -> Path | None:
    """The store file the options ask for (``None``: no store): the default one is per market, and per exchange
    when ``--rest-url`` is not Binance's."""
    if getattr(args, "no_store", False):
        return None
    if args.store:
        return Path(args.store).expanduser()
    if not hasattr(args, "no_store"):
        return None
    rest = getattr(args, "rest_url", None)
    exchange = urlsplit(rest).netloc if rest and rest.rstrip("/") != market_spec(args.market).rest_url else None
    return default_path(args.market, exchange)
