"""Small asyncio helpers shared by the feeds, the sync workers and the local exchange."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any] | None]) -> None:
    """Cancels every task (``None`` entries are skipped) and waits for each to end; their cancellation is expected,
    so it is not raised. Any other exception a task ends with is raised."""
    live = [t for t in tasks if t is not None]
    for t in live:
        t.cancel()
    for t in live:
        with contextlib.suppress(asyncio.CancelledError):
            await t


def retrieved(fut: asyncio.Future[Any]) -> None:
    """A done-callback that reads a future's exception, for a future whose failure is expected and may never be
    awaited (asyncio would log it as lost)."""
    if not fut.cancelled():
        fut.exception()
