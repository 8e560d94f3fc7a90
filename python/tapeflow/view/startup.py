"""The start-up display: how far a Monitor has come (books synced, flow windows complete, REST weight) until it is
ready — progress bars on a terminal, one log line every few seconds otherwise."""

from __future__ import annotations

import asyncio
import logging
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tapeflow.monitor import Monitor
from tapeflow.monitor import Progress as StartupProgress

__all__ = ["show_startup"]

log = logging.getLogger("tapeflow.watch")


async def show_startup(monitor: Monitor, out: TextIO, *, plain: bool, interval: float = 5.0) -> StartupProgress:
    """Shows ``monitor``'s start-up on ``out`` until it is ready; returns the progress then."""
    if plain:
        return await _lines(monitor, out, interval)
    return await _bars(monitor, out)


async def _lines(monitor: Monitor, out: TextIO, interval: float) -> StartupProgress:
    loop = asyncio.get_running_loop()
    next_line = 0.0
    while True:
        p = monitor.progress()
        if p.ready or loop.time() >= next_line:
            out.write(f"tapeflow: start-up: {p.line()}\n")
            out.flush()
            next_line = loop.time() + interval
        if p.ready:
            return p
        await asyncio.sleep(0.2)


async def _bars(monitor: Monitor, out: TextIO) -> StartupProgress:
    console = Console(file=out)
    columns = (TextColumn("{task.description:<26}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bars:
        p = monitor.progress()
        books = bars.add_task("books synced", total=max(p.books, 1), visible=p.books > 0)
        flow = bars.add_task("flow windows complete", total=max(p.flow, 1), visible=p.flow > 0)
        weight = bars.add_task("REST weight, last minute", total=max(p.weight_limit, 1))
        while True:
            p = monitor.progress()
            bars.update(books, completed=p.books_synced)
            bars.update(flow, completed=p.flow_complete)
            bars.update(weight, completed=p.weight_used, total=max(p.weight_limit, 1))
            if p.ready:
                break
            await asyncio.sleep(0.25)
    console.print(f"tapeflow: ready: {p.line()}")
    return p
