"""Sampling a running Monitor into the view's :class:`~tapeflow.view.model.Snapshot`: the top symbols by net taker
flow (ranked by the exact sums), the latest big trades and liquidations, the strongest liquidation cluster, one book
and connection health."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from decimal import Decimal
from typing import Any

import numpy as np

from tapeflow.errors import BookNotSyncedError, UnknownSymbolError
from tapeflow.monitor import EventStream, Monitor
from tapeflow.view.model import BookPanel, ClusterRow, FlowRow, Health, LiqRow, Snapshot, TradeRow

__all__ = ["WINDOW", "Notices", "Sampler"]

WINDOW = "15m"


class Notices(logging.Handler):
    """Keeps the latest warnings for the health panel instead of writing them over the screen."""

    def __init__(self, keep: int = 5) -> None:
        super().__init__(logging.WARNING)
        self.lines: deque[str] = deque(maxlen=keep)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name.rsplit('.', 1)[-1]}: {record.getMessage()}"[:200])


class Sampler:
    """Turns a monitor's state into :class:`Snapshot` values.

    Args:
        monitor: a started monitor.
        book: the symbol whose book is shown (``None``: no book panel).
        top: rows of the flow panel.
        keep: big trades and liquidations listed.
        window: the flow window shown (one of the monitor's ``flow`` windows).
        source: where the data comes from, for the header.
    """

    def __init__(
        self,
        monitor: Monitor,
        book: str | None,
        *,
        top: int = 10,
        keep: int = 8,
        window: str = WINDOW,
        source: str = "",
    ) -> None:
        self.monitor = monitor
        self.window = window
        self.book_symbol = book.upper() if book is not None else None
        self.top = top
        self.source = source
        self.faults = False
        self.notices: deque[str] = deque(maxlen=5)
        self.keep = keep
        self.big_trades: tuple[TradeRow, ...] = ()
        self.liquidations: tuple[LiqRow, ...] = ()
        self._big: deque[TradeRow] = deque(maxlen=4 * keep)
        self._events: EventStream = monitor.events()
        self._t0 = asyncio.get_running_loop().time()

    def close(self) -> None:
        """Stops following the monitor's events."""
        self._events.close()

    def _drain(self) -> None:
        for e in self._events.pending():
            if e.kind == "big_trade" and e.symbol is not None:
                d = e.data
                self._big.append(TradeRow(e.time_ms, e.symbol, str(d["side"]), d["price"], d["qty"], d["notional"]))
        # Lists are by exchange time, newest first (frames of different symbols and backfilled pages arrive in
        # no particular time order).
        self.big_trades = tuple(sorted(self._big, key=lambda t: t.time_ms, reverse=True)[: self.keep])
        recent = list(self.monitor.liquidations.recent)[-4 * self.keep :]
        recent.sort(key=lambda liq: liq.time_ms, reverse=True)
        self.liquidations = tuple(
            LiqRow(liq.time_ms, liq.symbol, liq.side, liq.price_exact, liq.qty_exact, liq.notional)
            for liq in recent[: self.keep]
        )

    def flow(self, now_ms: int) -> tuple[FlowRow, ...] | None:
        """The top symbols by absolute net quote flow over the window ending at ``now_ms``, exact."""
        m = self.monitor
        if not m.has_flow:
            return None
        cols = m.volumes(self.window, now_ms=now_ms)
        trades = cols["buy_count"] + cols["sell_count"]
        active = np.flatnonzero(trades > 0)
        # Candidates by the float column, then ranked by the exact sums (floats could swap near-ties).
        order = active[np.argsort(-np.abs(cols["net_quote"][active]), kind="stable")][: self.top + 8]
        rows = []
        for i in order:
            sym = str(cols["symbol"][i])
            w = m.volume(sym, self.window, now_ms=now_ms)
            exact: dict[str, Decimal] = w.exact()
            rows.append(
                FlowRow(sym, exact["buy_quote"], exact["sell_quote"], int(w.buy_count + w.sell_count), w.complete)
            )
        rows.sort(key=lambda r: (-abs(r.net_quote), r.symbol))
        return tuple(rows[: self.top])

    def book(self) -> BookPanel | None:
        """The book panel: levels only from a synced book (``None`` when no book is shown)."""
        m, sym = self.monitor, self.book_symbol
        if sym is None:
            return None
        try:
            view = m.book(sym, 10)
        except (BookNotSyncedError, UnknownSymbolError):
            try:
                state = m.engine.sync_state(sym).name
            except UnknownSymbolError:  # no frame of it yet
                state = "SYNCING"
            return BookPanel(sym, state)
        return BookPanel(sym, "SYNCED", view.last_update_id, tuple(view.bids_exact()), tuple(view.asks_exact()))

    def cluster(self, now_ms: int) -> ClusterRow | None:
        """The strongest liquidation cluster over all symbols (largest decayed notional)."""
        best: Any = None
        for sym in {liq.symbol for liq in self.monitor.liquidations.recent}:
            c = self.monitor.engine.best_cluster(sym, now_ms=now_ms)
            if c is not None and (best is None or c.decayed > best.decayed):
                best = c
        if best is None:
            return None
        dist = best.distance_pct
        return ClusterRow(
            best.symbol,
            best.side,
            best.price_low,
            best.price_high,
            best.notional,
            best.count,
            best.strength,
            None if dist is None or dist != dist else dist,
        )

    def health(self) -> Health:
        """Connection health, summed over connections (lag: the worst connection's)."""
        st = self.monitor.status()
        conns = st.connections
        lags = [c.lag_ms for c in conns if c.lag_ms is not None]
        lag_maxes = [c.lag_max_ms for c in conns if c.lag_max_ms is not None]
        bf = st.backfill
        return Health(
            connections=len(conns),
            connections_open=sum(c.state == "open" for c in conns),
            frames_per_s=sum(c.frames_per_s for c in conns),
            lag_ms=max(lags) if lags else None,
            lag_max_ms=max(lag_maxes) if lag_maxes else None,
            reconnects=sum(c.reconnects for c in conns),
            rotations=sum(c.rotations for c in conns),
            zombies=sum(c.zombies for c in conns),
            books_synced=st.books.get("SYNCED", 0),
            books=sum(st.books.values()),
            gaps_open=st.gaps_open,
            incomplete=st.incomplete,
            trades_backfilled=st.trades_backfilled,
            gaps_filled=bf.gaps_filled if bf is not None else 0,
            weight_used=st.rest.weight_used,
            weight_limit=st.rest.weight_limit,
            throttled=st.rest.throttled,
            banned=st.rest.banned,
            malformed=st.malformed,
        )

    def sample(self) -> Snapshot:
        """What the view shows now."""
        m = self.monitor
        self._drain()
        now = m.clock.now_ms()
        health = self.health()
        total = m.liquidations.total(lookback=self.window)
        return Snapshot(
            now_ms=now,
            market=m.market,
            source=self.source,
            symbols=len(m.symbols),
            elapsed_s=asyncio.get_running_loop().time() - self._t0,
            window=self.window,
            flow=self.flow(now),
            big_trades=self.big_trades,
            big_trade_min=m.config.big_trade,
            liquidations=self.liquidations,
            liq_total=total.notional,
            liq_count=total.count,
            cluster=self.cluster(now),
            book=self.book(),
            health=health,
            notices=tuple(self.notices),
            faults=self.faults,
        )
