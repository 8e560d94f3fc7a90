"""The engine's actions as store rows: liquidations (with their event as received), big trades, and trade gaps from
the moment one opens until it is filled or abandoned.

A liquidation row takes every field of its ``forceOrder`` event as Binance sent it (the action carries the engine's
reading: side and exact notional); the event is found in the frames of the batch that produced the action. Only
batches that produced a liquidation are looked at, so the cost is per liquidation, not per frame.

A gap is *filled* once no open gap of the engine overlaps it any more, *abandoned* if part of it was given up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from tapeflow._core import Action, BigTrade, Liquidation, TradeGap
from tapeflow.store import Store
from tapeflow.store import journal as ops

__all__ = ["Records"]

_Key = tuple[str, int, str]  # symbol, trade time, order side


@dataclass
class _Gap:
    symbol: str
    from_id: int
    to_id: int
    abandoned: bool = False


class Records:
    """Writes the rows of the engine's actions to ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.gaps: dict[int, _Gap] = {}

    def actions(self, actions: Sequence[Action], frames: Sequence[bytes] | None, now_ms: int) -> None:
        """The actions of one frame batch (``frames``) or REST body (``None``), received at ``now_ms``."""
        liqs: list[Liquidation] = []
        big: list[tuple[Any, ...]] = []
        for a in actions:
            if isinstance(a, Liquidation):
                liqs.append(a)
            elif isinstance(a, BigTrade):
                big.append((a.symbol, a.trade_id, a.time_ms, a.side, a.price_exact, a.qty_exact, a.notional_exact))
            elif isinstance(a, TradeGap):
                self.gap_opened(a.symbol, a.from_id, a.to_id, now_ms)
        if big:
            self.store.submit(ops.big_trades(big))
        if liqs:
            events = _force_orders(frames or ())
            self.store.submit(ops.liquidations([_liquidation_row(a, events.get(_key(a)), now_ms) for a in liqs]))

    # ------------------------------------------------------------------ gaps
    def gap_opened(self, symbol: str, from_id: int, to_id: int, now_ms: int) -> None:
        gid = self.store.new_gap_id()
        self.gaps[gid] = _Gap(symbol, from_id, to_id)
        self.store.submit(ops.gap_opened(gid, symbol, from_id, to_id, now_ms))

    def abandoned(self, symbol: str, from_id: int, to_id: int) -> None:
        """Ids ``from_id..=to_id`` of ``symbol`` were given up."""
        for g in self.gaps.values():
            if g.symbol == symbol and g.from_id <= to_id and g.to_id >= from_id:
                g.abandoned = True

    def reconcile(self, open_gaps: Sequence[tuple[str, int, int]], now_ms: int) -> int:
        """Closes the tracked gaps that none of the engine's ``open_gaps`` overlaps any more; returns how many."""
        if not self.gaps:
            return 0
        by_symbol: dict[str, list[tuple[int, int]]] = {}
        for s, a, b in open_gaps:
            by_symbol.setdefault(s, []).append((a, b))
        closed = [
            gid
            for gid, g in self.gaps.items()
            if not any(a <= g.to_id and b >= g.from_id for a, b in by_symbol.get(g.symbol, ()))
        ]
        for gid in closed:
            g = self.gaps.pop(gid)
            self.store.submit(ops.gap_closed(gid, "abandoned" if g.abandoned else "filled", now_ms))
        return len(closed)


def _key(a: Liquidation) -> _Key:
    return (a.symbol, a.time_ms, a.order_side)


def _force_orders(frames: Sequence[bytes]) -> dict[_Key, dict[str, Any]]:
    """The ``forceOrder`` events in ``frames`` (combined or raw, single or arrays), by symbol, trade time, side."""
    out: dict[_Key, dict[str, Any]] = {}
    for f in frames:
        if b"forceOrder" not in f:
            continue
        try:
            msg = orjson.loads(f)
        except orjson.JSONDecodeError:
            continue
        data = msg.get("data", msg) if isinstance(msg, dict) else msg
        for ev in data if isinstance(data, list) else (data,):
            o = ev.get("o") if isinstance(ev, dict) and ev.get("e") == "forceOrder" else None
            if isinstance(o, dict):
                out[(str(o.get("s")), o.get("T"), str(o.get("S")))] = ev  # type: ignore[index]
    return out


def _liquidation_row(a: Liquidation, ev: dict[str, Any] | None, now_ms: int) -> tuple[Any, ...]:
    """A row of ``liquidations`` (:data:`tapeflow.store.journal.LIQUIDATION_FIELDS`): the event's fields as received;
    without the event (it should not happen), the engine's reading of it, with an event rebuilt from that."""
    if ev is None:
        o = {
            "s": a.symbol,
            "S": a.order_side,
            "o": "",
            "f": "",
            "q": a.qty_exact,
            "p": a.price_exact,
            "ap": a.price_exact,
            "X": "FILLED",
            "l": a.qty_exact,
            "z": a.qty_exact,
            "T": a.time_ms,
        }
        ev = {"e": "forceOrder", "E": a.event_time_ms, "o": o}
    o = ev["o"]
    return (
        a.symbol,
        a.side,
        a.order_side,
        str(o.get("o", "")),
        str(o.get("f", "")),
        str(o.get("X", "")),
        str(o.get("p", "")),
        str(o.get("ap", "")),
        str(o.get("q", "")),
        str(o.get("l", "")),
        str(o.get("z", "")),
        a.notional_exact,
        a.time_ms,
        int(ev.get("E", a.event_time_ms)),
        now_ms,
        orjson.dumps(ev).decode(),
    )
