"""Outages: spans when something was not received — the process down, no liquidation connection live, one
connection down — and what they mean for liquidation figures.

Liquidations cannot be fetched again, so a liquidation figure is complete only when its whole span was watched: it
starts at or after the history began (the store's first run, or the Monitor's start without a store) and touches no
span when the process was down or no copy of the liquidation stream was live. Each copy counts as live from the
moment its session delivers until it ends; one copy down loses nothing while the other is live.

With a store, every outage is written as it starts and ends (a crash leaves the last one open: the next run closes
it at the last heartbeat and opens a ``process`` outage from there).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tapeflow.feeds.connection import FeedConnection
from tapeflow.monitor.plan import LIQUIDATION_STREAM
from tapeflow.store import Store
from tapeflow.store import journal as rows

__all__ = ["LiquidationCopy", "Outages", "Span"]


@dataclass(frozen=True)
class LiquidationCopy:
    """One connection carrying the liquidation stream (see :attr:`tapeflow.MonitorStatus.liquidation_copies`).

    Attributes:
        connection: the connection's id.
        live: delivering now.
        since_ms: live since, or down since (``None`` before its first session).
    """

    connection: int
    live: bool
    since_ms: int | None


@dataclass
class Span:
    """An outage: ``kind`` (``"process"``, ``"liquidations"``, ``"connection"``), from ``start_ms`` to ``end_ms``
    (``None``: still going)."""

    kind: str
    start_ms: int
    end_ms: int | None
    reason: str
    connection: int | None = None
    id: int = 0

    def touches(self, start_ms: int, end_ms: int) -> bool:
        """Overlaps the time range ``[start_ms, end_ms)``."""
        return self.start_ms < end_ms and (self.end_ms is None or self.end_ms > start_ms)


class Outages:
    """The outages of one Monitor run, and the liquidation ones of earlier runs.

    Args:
        store: where outages are written (``None``: kept in memory only).
        now_ms: the start of this run.
        history_start_ms: when the liquidation history begins (the store's first run).
        stopped_ms: when the previous run stopped receiving (``None``: no previous run).
        past: liquidation and process outages of earlier runs.
    """

    def __init__(
        self,
        store: Store | None,
        now_ms: int,
        *,
        history_start_ms: int | None = None,
        stopped_ms: int | None = None,
        past: Iterable[Span] = (),
    ) -> None:
        self.store = store
        self.history_start_ms = history_start_ms if history_start_ms is not None else now_ms
        self.spans: list[Span] = [s for s in past if s.kind != "connection"]
        self._live: dict[int, tuple[bool, int]] = {}  # connection -> (live, since)
        self._open: dict[int, Span] = {}  # connection -> its open outage
        # Until a liquidation copy is live, nothing is received: the process's downtime (from the previous run's
        # end) or the start-up.
        self._none_live: Span | None
        if stopped_ms is not None:
            self._none_live = self._begin("process", min(stopped_ms, now_ms), "the process was not running")
        else:
            self._none_live = self._begin("liquidations", now_ms, "starting")

    def _begin(self, kind: str, start_ms: int, reason: str, connection: int | None = None) -> Span:
        span = Span(kind, start_ms, None, reason, connection)
        if self.store is not None:
            span.id = self.store.new_outage_id()
            self.store.submit(rows.outage_started(span.id, kind, connection, start_ms, reason))
        if kind != "connection":
            self.spans.append(span)
        return span

    def _end(self, span: Span, end_ms: int) -> None:
        span.end_ms = max(span.start_ms, end_ms)
        if self.store is not None:
            self.store.submit(rows.outage_ended(span.id, span.end_ms))

    # ------------------------------------------------------------------ connection events
    def up(self, conn: FeedConnection, now_ms: int) -> None:
        """A session of ``conn`` delivers."""
        span = self._open.pop(conn.id, None)
        if span is not None:
            self._end(span, now_ms)
        if LIQUIDATION_STREAM in conn.streams:
            self._live[conn.id] = (True, now_ms)
            if self._none_live is not None:
                self._end(self._none_live, now_ms)
                self._none_live = None

    def down(self, conn: FeedConnection, now_ms: int, reason: str) -> None:
        """A session of ``conn`` ended unplanned."""
        if conn.id not in self._open:
            self._open[conn.id] = self._begin("connection", now_ms, reason, conn.id)
        if conn.id in self._live:
            self._live[conn.id] = (False, now_ms)
            if self._none_live is None and not any(live for live, _ in self._live.values()):
                self._none_live = self._begin("liquidations", now_ms, f"every liquidation connection down: {reason}")

    def close(self, now_ms: int) -> None:
        """The run stops cleanly: open connection outages end now (the next run's ``process`` outage starts here)."""
        for span in self._open.values():
            self._end(span, now_ms)
        self._open.clear()
        if self._none_live is not None:
            self._end(self._none_live, now_ms)
            self._none_live = None

    # ------------------------------------------------------------------ answers
    def copies(self, connections: Iterable[FeedConnection]) -> tuple[LiquidationCopy, ...]:
        """The connections carrying the liquidation stream, and whether each is live."""
        out = []
        for c in connections:
            if LIQUIDATION_STREAM in c.streams:
                live, since = self._live.get(c.id, (False, None))
                out.append(LiquidationCopy(c.id, live, since))
        return tuple(out)

    def liquidation_gaps(self, start_ms: int, end_ms: int) -> list[Span]:
        """The outages that lost liquidations in ``[start_ms, end_ms)``, plus the span before the history began."""
        out = [s for s in self.spans if s.touches(start_ms, end_ms)]
        if start_ms < self.history_start_ms:
            out.insert(0, Span("liquidations", start_ms, self.history_start_ms, "before the history began"))
        return out

    def complete(self, start_ms: int, end_ms: int) -> bool:
        """Every liquidation in ``[start_ms, end_ms)`` was received."""
        return not self.liquidation_gaps(start_ms, end_ms)
