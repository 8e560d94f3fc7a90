"""Showing the view: a live screen on a terminal, or plain text snapshots every few seconds (a pipe, CI, logs)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.live import Live

from tapeflow.view.model import Snapshot
from tapeflow.view.render import render
from tapeflow.view.sampler import Sampler

__all__ = ["Screen"]


@dataclass(frozen=True)
class Screen:
    """How the view is shown.

    Attributes:
        plain: text snapshots instead of a live screen.
        duration: stop after this many real seconds (``None``: until cancelled).
        refresh: live-screen updates per second.
        interval: seconds between text snapshots.
        width: width of text snapshots.
    """

    plain: bool
    duration: float | None = None
    refresh: float = 4.0
    interval: float = 5.0
    width: int = 140

    async def show(self, sampler: Sampler, out: TextIO) -> Snapshot:
        """Shows ``sampler``'s snapshots on ``out`` until the duration ends or the task is cancelled; returns the
        last one."""
        return await (self._plain(sampler, out) if self.plain else self._live(sampler, out))

    async def _plain(self, sampler: Sampler, out: TextIO) -> Snapshot:
        console = Console(file=out, width=self.width, force_terminal=False, no_color=True, highlight=False, emoji=False)
        loop = asyncio.get_running_loop()
        end = None if self.duration is None else loop.time() + self.duration
        while True:
            wait = self.interval if end is None else min(self.interval, end - loop.time())
            await asyncio.sleep(max(0.0, wait))
            snap = sampler.sample()
            console.print(render(snap, console.width))
            console.print()
            out.flush()
            if end is not None and loop.time() >= end - 1e-3:
                return snap

    async def _live(self, sampler: Sampler, out: TextIO) -> Snapshot:
        console = Console(file=out)
        loop = asyncio.get_running_loop()
        end = None if self.duration is None else loop.time() + self.duration
        snap = sampler.sample()
        with Live(render(snap, *console.size), console=console, screen=True, auto_refresh=False) as live:
            while end is None or loop.time() < end:
                await asyncio.sleep(1 / self.refresh)
                snap = sampler.sample()
                live.update(render(snap, *console.size), refresh=True)
        console.print(render(snap, console.width))
        return snap
