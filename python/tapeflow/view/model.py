"""What the terminal view shows: a plain snapshot of a Monitor's state, exact where it is money.

:mod:`tapeflow.view.sampler` builds it from a running Monitor; :mod:`tapeflow.view.render` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["BookPanel", "ClusterRow", "FlowRow", "Health", "LiqRow", "Snapshot", "TradeRow", "fmt_quote"]

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class FlowRow:
    """One symbol's taker flow over the flow window (exact quote sums).

    Attributes:
        symbol: the symbol.
        buy_quote: taker-buy quote volume; sell_quote: taker-sell quote volume.
        trades: aggregate trades counted (both sides).
        complete: every trade of the window was counted (no open or abandoned id gap inside it).
    """

    symbol: str
    buy_quote: Decimal
    sell_quote: Decimal
    trades: int
    complete: bool

    @property
    def net_quote(self) -> Decimal:
        """``buy_quote - sell_quote``."""
        return self.buy_quote - self.sell_quote


@dataclass(frozen=True)
class TradeRow:
    """A big trade: time (exchange ms), symbol, taker side (``"buy"``/``"sell"``), price, quantity, quote value."""

    time_ms: int
    symbol: str
    side: str
    price: float
    qty: float
    notional: float


@dataclass(frozen=True)
class LiqRow:
    """A liquidation: time (exchange ms), symbol, side liquidated (``"long"``/``"short"``), exact price and
    quantity, quote value."""

    time_ms: int
    symbol: str
    side: str
    price: str
    qty: str
    notional: float


@dataclass(frozen=True)
class ClusterRow:
    """The strongest liquidation cluster: its price band, dominant side, notional, strength (0-1) and distance from
    the current mark price (%, ``None`` without a mark price)."""

    symbol: str
    side: str
    price_low: float
    price_high: float
    notional: float
    count: int
    strength: float
    distance_pct: float | None


@dataclass(frozen=True)
class BookPanel:
    """One symbol's book as served: levels only when synced (an unsynced book is never read).

    Attributes:
        symbol: the symbol.
        state: ``"SYNCED"``, ``"SYNCING"`` or ``"GAP"``.
        last_update_id: the update id of the levels shown (``None`` when not synced).
        bids / asks: ``(price, qty)`` exact decimal strings, best first.
    """

    symbol: str
    state: str
    last_update_id: int | None = None
    bids: tuple[tuple[str, str], ...] = ()
    asks: tuple[tuple[str, str], ...] = ()

    @property
    def spread(self) -> Decimal | None:
        """Best ask - best bid, exact; ``None`` without both sides."""
        if not self.bids or not self.asks:
            return None
        return Decimal(self.asks[0][0]) - Decimal(self.bids[0][0])


@dataclass(frozen=True)
class Health:
    """Connection and sync health (from :meth:`tapeflow.Monitor.status`)."""

    connections: int
    connections_open: int
    frames_per_s: float
    lag_ms: int | None
    lag_max_ms: int | None
    reconnects: int
    rotations: int
    zombies: int
    books_synced: int
    books: int
    gaps_open: int
    incomplete: int
    trades_backfilled: int
    gaps_filled: int
    weight_used: int
    weight_limit: int
    throttled: int
    banned: int
    malformed: int


@dataclass(frozen=True)
class Snapshot:
    """Everything the view shows at one moment.

    Attributes:
        now_ms: the monitor's clock (exchange time).
        market: the market; source: where the data comes from (e.g. ``"local simulator"``).
        symbols: symbols watched.
        elapsed_s: real seconds since start.
        window: the flow window shown (``"15m"``).
        flow: the top symbols by absolute net flow; ``None`` when trade flow is not available.
        big_trades / liquidations: the most recent, newest first.
        big_trade_min: the big-trade threshold (quote), if any.
        liq_total / liq_count: liquidated notional and count over the flow window, all symbols.
        cluster: the strongest liquidation cluster over all symbols.
        book: the book panel.
        health: connection health.
        notices: recent warnings, newest last.
        faults: faults are being injected.
    """

    now_ms: int
    market: str
    source: str
    symbols: int
    elapsed_s: float
    window: str
    flow: tuple[FlowRow, ...] | None
    big_trades: tuple[TradeRow, ...]
    big_trade_min: float | None
    liquidations: tuple[LiqRow, ...]
    liq_total: float
    liq_count: int
    cluster: ClusterRow | None
    book: BookPanel | None
    health: Health
    notices: tuple[str, ...] = field(default_factory=tuple)
    faults: bool = False


def fmt_quote(value: Decimal, *, signed: bool = False) -> str:
    """An exact quote amount rounded half-even to cents, with thousands separators (``1,234,567.89``)."""
    text = f"{value.quantize(_CENT, rounding=ROUND_HALF_EVEN):,}"
    return f"+{text}" if signed and value > 0 else text
