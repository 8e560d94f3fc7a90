"""Start-up progress of ``tapeflow serve`` on the terminal: books synced, flow windows complete, REST weight used.

A line is printed when something changed (at most once a second) until every book is synced and every window is
complete; then one ``ready`` line.
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from tapeflow.monitor import Monitor, MonitorStatus

__all__ = ["Progress", "describe"]


def describe(st: MonitorStatus, flow: bool) -> tuple[str, bool]:
    """A progress line for a status, and whether start-up is done."""
    books = sum(st.books.values())
    synced = st.books.get("SYNCED", 0)
    conns = st.connections
    parts = [f"{sum(c.state == 'open' for c in conns)}/{len(conns)} connections open"]
    if books:
        parts.append(f"books {synced}/{books} synced")
    if flow:
        parts.append(f"windows {st.symbols - st.incomplete}/{st.symbols} complete")
    parts.append(f"REST weight {st.rest.weight_used}/{st.rest.weight_limit}")
    if st.rest.throttled or st.rest.banned:
        parts.append(f"429: {st.rest.throttled}, 418: {st.rest.banned}")
    done = synced == books and (not flow or st.incomplete == 0) and all(c.state == "open" for c in conns)
    return " · ".join(parts), done


class Progress:
    """Prints start-up progress of a started Monitor to ``out``."""

    def __init__(self, monitor: Monitor, out: TextIO, every_s: float = 1.0) -> None:
        self.monitor = monitor
        self.out = out
        self.every_s = every_s

    async def run(self) -> None:
        last = ""
        while True:
            line, done = describe(self.monitor.status(), self.monitor.has_flow)
            if done:
                self.out.write(f"tapeflow serve: ready: {line}\n")
                self.out.flush()
                return
            if line != last:
                self.out.write(f"tapeflow serve: {line}\n")
                self.out.flush()
                last = line
            await asyncio.sleep(self.every_s)
