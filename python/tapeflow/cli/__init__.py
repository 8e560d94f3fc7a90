"""The ``tapeflow`` command: one sub-command per module of this package.

Each command module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; :func:`main` builds
the parser from :data:`COMMANDS` and reports a :class:`~tapeflow.errors.TapeflowError` or an ``OSError`` as
``tapeflow: error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from tapeflow import __version__
from tapeflow.cli import demo, export, record, replay, serve, sim, watch
from tapeflow.errors import TapeflowError

__all__ = ["COMMANDS", "main"]

#: The sub-commands, in the order ``--help`` lists them.
COMMANDS: tuple[ModuleType, ...] = (watch, serve, replay, record, export, sim, demo)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tapeflow",
        description=(
            "Exact local order books, taker buy/sell flow and liquidation statistics for Binance market data: "
            "watch an exchange live or serve it over HTTP, replay and record sessions, export a store's history, run "
            "the local exchange, run the demo."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tapeflow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=getattr(command, "DESCRIPTION", None))
        command.add_arguments(p)
        p.set_defaults(func=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tapeflow`` command."""
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.func
    try:
        return run(args)
    except (TapeflowError, OSError) as e:
        sys.stderr.write(f"tapeflow: error: {e}\n")
        return 2
