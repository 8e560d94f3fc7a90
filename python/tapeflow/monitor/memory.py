"""What a Monitor holds in memory: the engine's own account of its state, per part and per symbol, and the process's
resident set.

The engine counts the bytes of its buffers (the capacity of each, not the allocator's overhead): the flow windows
(buckets, aligned intervals, id ledger), the liquidation store (events, running sums, cluster bins) and the books
(levels and buffered diffs). These counts are deterministic: the same trades give the same bytes on any machine,
which is what a test of boundedness needs. The resident set size is the operating system's figure for the whole
process (Python, libraries, sockets, the engine): what a user's machine pays.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass

from tapeflow._core import Engine

__all__ = ["MemoryReport", "measure_memory", "rss_bytes"]

_STATM = "/proc/self/statm"


@dataclass(frozen=True)
class MemoryReport:
    """Memory held by a Monitor (see :meth:`tapeflow.Monitor.memory`). Bytes throughout.

    Attributes:
        flow: the flow windows of every symbol (sliding buckets, aligned intervals, id ledgers).
        liquidations: the liquidation store (kept events, running sums, cluster bins); futures only.
        books: the order books with their buffered diffs, and each symbol's book state (kept or not).
        engine: the three together.
        symbols: symbols watched.
        flow_symbols: symbols with flow state in the engine.
        books_kept: books kept.
        flow_per_symbol: ``flow / flow_symbols`` (``None`` without flow state).
        books_per_book: ``books / books_kept`` (``None`` without books).
        liquidations_per_symbol: ``liquidations / symbols`` (``None`` without symbols).
        rss: the process's resident set size (``None`` where ``/proc/self/statm`` does not exist: Linux only).
    """

    flow: int
    liquidations: int
    books: int
    engine: int
    symbols: int
    flow_symbols: int
    books_kept: int
    flow_per_symbol: float | None
    books_per_book: float | None
    liquidations_per_symbol: float | None
    rss: int | None

    def line(self) -> str:
        """One line for logs: the parts in MB and the per-symbol averages in KB."""

        def kb(v: float | None) -> str:
            return "-" if v is None else f"{v / 1e3:.1f} KB"

        rss = "-" if self.rss is None else f"{self.rss / 1e6:.1f} MB"
        return (
            f"engine {self.engine / 1e6:.1f} MB (flow {self.flow / 1e6:.1f}, liquidations "
            f"{self.liquidations / 1e6:.1f}, books {self.books / 1e6:.1f}); per symbol: flow "
            f"{kb(self.flow_per_symbol)}, liquidations {kb(self.liquidations_per_symbol)}; per book "
            f"{kb(self.books_per_book)}; process RSS {rss}"
        )


def rss_bytes() -> int | None:
    """The resident set size of this process, from ``/proc/self/statm`` (pages x page size); ``None`` elsewhere."""
    try:
        with open(_STATM, "rb") as f:
            resident = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident * os.sysconf("SC_PAGE_SIZE")


def measure_memory(engine: Engine, symbols: Collection[str], books: Collection[str]) -> MemoryReport:
    """The memory report of ``engine`` for the watched ``symbols`` and the kept ``books``."""
    m = engine.memory()
    flow_symbols = engine.flow_stats().symbols

    def per(total: int, n: int) -> float | None:
        return total / n if n else None

    return MemoryReport(
        flow=m["flow"],
        liquidations=m["liq"],
        books=m["books"],
        engine=m["total"],
        symbols=len(symbols),
        flow_symbols=flow_symbols,
        books_kept=len(books),
        flow_per_symbol=per(m["flow"], flow_symbols),
        books_per_book=per(m["books"], len(books)),
        liquidations_per_symbol=per(m["liq"], len(symbols)),
        rss=rss_bytes(),
    )
