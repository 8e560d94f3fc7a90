"""How far a Monitor's start-up has come, and what "ready" means.

* **Books** are ready when every kept book is ``SYNCED`` (a snapshot connected to the diffs; reads are served).
* **Flow** is ready when, for every watched symbol, every configured window — sliding and aligned — is
  ``complete``: the trades are known from before the window's start and no aggTrade id is missing inside it.
* The Monitor is ready when both are (a Monitor without books or flow is ready on that side at once).

The REST weight is the budget start-up spends: snapshots (20 each on futures at the default depth) and the start-up
fills of the flow windows (20 a page of 1,000 trades on futures).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tapeflow._core import Engine
from tapeflow.monitor.universe import Watchlist
from tapeflow.sync.rest import RestStatus

__all__ = ["Progress", "measure"]


@dataclass(frozen=True)
class Progress:
    """A start-up report (see :meth:`tapeflow.Monitor.progress`).

    Attributes:
        symbols: symbols watched.
        books / books_synced: kept books, and how many are synced.
        flow / flow_complete: symbols with flow windows, and how many have every window complete.
        weight_used / weight_limit: REST weight of the current minute, and the limit per minute.
        weight_spent: REST weight spent since start.
        elapsed_s: seconds (on the Monitor's clock) since start.
    """

    symbols: int
    books: int
    books_synced: int
    flow: int
    flow_complete: int
    weight_used: int
    weight_limit: int
    weight_spent: int
    elapsed_s: float

    @property
    def books_ready(self) -> bool:
        return self.books_synced >= self.books

    @property
    def flow_ready(self) -> bool:
        return self.flow_complete >= self.flow

    @property
    def ready(self) -> bool:
        return self.books_ready and self.flow_ready

    @property
    def fraction(self) -> float:
        """Share of the books and flow symbols that are ready, in [0, 1]."""
        total = self.books + self.flow
        return 1.0 if total == 0 else (self.books_synced + self.flow_complete) / total

    def line(self) -> str:
        """One line for logs: ``books 37/300 synced, flow 250/300 complete, weight 1200/2400 (12 s)``."""
        parts = []
        if self.books:
            parts.append(f"books {self.books_synced}/{self.books} synced")
        if self.flow:
            parts.append(f"flow {self.flow_complete}/{self.flow} complete")
        parts.append(f"weight {self.weight_used}/{self.weight_limit} in the last minute, {self.weight_spent} spent")
        return f"{', '.join(parts)} ({self.elapsed_s:.0f} s)" + (" — ready" if self.ready else "")


#: ``volumes(window, aligned, now_ms)``: every symbol's window as columns (see :meth:`tapeflow.Monitor.volumes`).
Volumes = Callable[[str, bool, int], dict[str, Any]]


def measure(
    engine: Engine,
    watch: Watchlist,
    flow: Sequence[str],
    volumes: Volumes,
    rest: RestStatus,
    elapsed_s: float,
    now_ms: int,
) -> Progress:
    """The progress of a Monitor whose engine, watch list, flow windows and REST client are given, at ``now_ms``."""
    synced = engine.sync_counts(watch.books)["SYNCED"]
    complete = 0
    if flow and watch.symbols:
        ok: np.ndarray | None = None
        names: np.ndarray | None = None
        for window in flow:
            for aligned in (False, True):
                cols = volumes(window, aligned, now_ms)
                ok = cols["complete"] if ok is None else ok & cols["complete"]
                names = cols["symbol"]
        assert ok is not None and names is not None
        complete = int(np.count_nonzero(ok & watch.watched(names)))
    return Progress(
        symbols=len(watch.symbols),
        books=len(watch.books),
        books_synced=synced,
        flow=len(watch.symbols) if flow else 0,
        flow_complete=complete,
        weight_used=rest.weight_used,
        weight_limit=rest.weight_limit,
        weight_spent=rest.weight_spent,
        elapsed_s=elapsed_s,
    )
