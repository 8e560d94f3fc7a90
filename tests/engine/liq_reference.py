"""Realistic liquidation frames (binance-api.md §3.7, §3.8) and a slow NumPy reference of the liquidation rules.

Shared by the tests and the benchmarks; the reference is written from the documented rules, not from the engine.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

E8 = 10**8


def fmt_e8(v: int) -> str:
    """e8 units as Binance prints decimals (``"9911.50000000"``)."""
    return f"{v // E8}.{v % E8:08d}"


@dataclass(frozen=True)
class Liq:
    """One liquidation as the test generates it (prices/quantities in e8 units, time in ms)."""

    symbol: str
    time: int
    order_side: str  # "BUY" or "SELL"
    price_e8: int  # average price ap (the order price p is 0.5 % worse)
    qty_e8: int

    @property
    def side(self) -> str:
        return "long" if self.order_side == "SELL" else "short"

    @property
    def notional_e16(self) -> int:
        return self.price_e8 * self.qty_e8


def force_order_frame(liq: Liq, *, st: int | None = None, combined: bool = False, ap_zero: bool = False) -> bytes:
    """A USD-M ``forceOrder`` frame (COIN-M shape with ``ps`` for ``..._PERP`` symbols)."""
    order_price = liq.price_e8 * 995 // 1000 if liq.order_side == "SELL" else liq.price_e8 * 1005 // 1000
    o: dict[str, object] = {
        "s": liq.symbol,
        "S": liq.order_side,
        "o": "LIMIT",
        "f": "IOC",
        "q": fmt_e8(liq.qty_e8),
        "p": fmt_e8(liq.price_e8 if ap_zero else order_price),
        "ap": "0" if ap_zero else fmt_e8(liq.price_e8),
        "X": "FILLED",
        "l": fmt_e8(liq.qty_e8),
        "z": fmt_e8(liq.qty_e8),
        "T": liq.time,
    }
    if "_" in liq.symbol:
        o["ps"] = "BOTH"
    event: dict[str, object] = {"e": "forceOrder", "E": liq.time + 7, "o": o}
    if st is not None:
        event["st"] = st
    payload = {"stream": "!forceOrder@arr", "data": event} if combined else event
    return json.dumps(payload, separators=(",", ":")).encode()


def mark_price_array(marks: dict[str, str], time: int) -> bytes:
    """A USD-M ``!markPrice@arr`` frame."""
    items = [
        {"e": "markPriceUpdate", "E": time, "s": s, "p": p, "ap": p, "i": p, "P": p, "r": "0.00010000", "T": time}
        for s, p in marks.items()
    ]
    return json.dumps(items, separators=(",", ":")).encode()


def distinct(events: list[Liq]) -> list[Liq]:
    """The events that count: the first arrival of each. Frames of equal ``Liq`` values have the same content,
    which makes them the same event (a repeat), whatever their arrival."""
    return list(dict.fromkeys(events))


def kept(events: list[Liq], retention_ms: int) -> list[Liq]:
    """The events a store with this retention keeps: distinct ones at or after (newest time - retention)."""
    if not events:
        return []
    cutoff = max(e.time for e in events) - retention_ms
    return [e for e in distinct(events) if e.time >= cutoff]


def total_e16(events: list[Liq], symbol: str | None, side: str | None, start: int, end: int) -> tuple[int, int]:
    """Brute-force exact notional (e16) and count with ``start <= time < end``; the same event given twice counts
    once, as documented (docs/liquidations.md, "Checkpoints and repeats")."""
    sel = [
        e
        for e in dict.fromkeys(events)
        if (symbol is None or e.symbol == symbol) and (side is None or e.side == side) and start <= e.time < end
    ]
    return sum(e.notional_e16 for e in sel), len(sel)


def e16_decimal(v: int) -> Decimal:
    return Decimal(v).scaleb(-16)


@dataclass(frozen=True)
class RefCluster:
    bin: int
    count: int
    notional: float
    decayed_long: float
    decayed_short: float
    price: float
    strength: float


def clusters(
    events: list[Liq], symbol: str, now: int, *, bin_pct: float, tau_ms: float, min_events: int
) -> list[RefCluster]:
    """Slow NumPy reference of the cluster rules: log-price bins, ``exp(-age / tau)`` weights, share strength."""
    events = distinct(events)
    sel = [e for e in events if e.symbol == symbol]
    if not sel:
        return []
    price = np.array([e.price_e8 for e in sel], dtype=np.float64) / 1e8
    notional = np.array([e.notional_e16 for e in sel], dtype=np.float64) / 1e16
    time = np.array([e.time for e in sel], dtype=np.float64)
    long = np.array([e.side == "long" for e in sel])
    bins = np.floor(np.log(price) / math.log1p(bin_pct / 100.0)).astype(np.int64)
    weight = notional * np.exp(-(now - time) / tau_ms)
    total = weight.sum()
    out = []
    for k in np.unique(bins):
        m = bins == k
        if m.sum() < min_events:
            continue
        d = weight[m]
        out.append(
            RefCluster(
                bin=int(k),
                count=int(m.sum()),
                notional=float(notional[m].sum()),
                decayed_long=float(d[long[m]].sum()),
                decayed_short=float(d[~long[m]].sum()),
                price=float((notional[m] * price[m]).sum() / notional[m].sum()),
                strength=float(d.sum() / total) if total > 0 else 0.0,
            )
        )
    return out


def bins_of(prices: npt.NDArray[np.float64], bin_pct: float) -> npt.NDArray[np.int64]:
    return np.floor(np.log(prices) / math.log1p(bin_pct / 100.0)).astype(np.int64)
