"""Replaying a recorded session through the engine exactly as a live client would.

Frames are applied in the order they were received; each REST snapshot is fed when it appears in the file (the
recorder fetched it when the engine-equivalent client asked for it), and so is each aggTrades page (a backfill by id,
or a start-up fill by time). Nothing is reordered or skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tapeflow._core import Action, BookGap, BookSynced, BookTrace, Engine, SnapshotNeeded
from tapeflow.recordings.format import RecordingError, agg_trades_query, market_of_url, read_recording, snapshot_symbol

__all__ = ["ReplaySummary", "book_line", "replay"]


@dataclass
class ReplaySummary:
    """What a replay did."""

    market: str
    frames: int = 0
    snapshots: int = 0
    trade_pages: int = 0
    malformed: int = 0
    gaps: int = 0
    snapshot_requests: Counter[str] = field(default_factory=Counter)
    synced_at: dict[str, int] = field(default_factory=dict)


def book_line(action: BookTrace) -> dict[str, object]:
    """The ``--emit books`` record of a traced book: symbol, u, top levels, level counts and digest."""
    return {
        "symbol": action.symbol,
        "u": action.last_update_id,
        "bids": [list(level) for level in action.bids],
        "asks": [list(level) for level in action.asks],
        "levels": list(action.levels),
        "digest": action.digest,
    }


def replay(
    path: str | Path,
    *,
    market: str | None = None,
    trace_depth: int | None = None,
    on_action: Callable[[Action], None] | None = None,
) -> tuple[Engine, ReplaySummary]:
    """Replays a recording; returns the engine (with its final books) and a summary.

    Args:
        path: a recording (``.jsonl`` or ``.jsonl.gz``).
        market: ``"spot"``, ``"usdm"`` or ``"coinm"``; detected from the first URL when omitted.
        trace_depth: when set, every applied diff produces a ``BookTrace`` action with that many top levels.
        on_action: called with every action the engine returns, in order.
    """
    engine: Engine | None = None
    summary: ReplaySummary | None = None
    for record in read_recording(path):
        if engine is None or summary is None:
            market = market or market_of_url(record.url)
            if market is None:
                raise RecordingError(f"cannot tell the market of {record.url!r}; pass market=", path=str(path))
            engine = Engine(market, trace_depth=trace_depth)
            summary = ReplaySummary(market=market)
        ts_ns = int(record.t * 1e9)
        if record.kind == "ws":
            summary.frames += 1
            try:
                actions = engine.apply_frame(record.raw, ts_ns)
            except ValueError:  # DecodeError: counted, the replay goes on as a live feed would
                summary.malformed += 1
                continue
        elif record.kind == "http" and (symbol := snapshot_symbol(record.url)) is not None:
            summary.snapshots += 1
            actions = engine.apply_snapshot(symbol, record.raw)
        elif record.kind == "http" and (agg := agg_trades_query(record.url)) is not None:
            # aggTrades pages a live client fetched (backfill by id, start-up fill by time) rebuild its flow state.
            summary.trade_pages += 1
            actions = engine.apply_agg_trades(agg[0], record.raw, from_time_ms=agg[1], from_id=agg[2]).actions
        else:
            continue
        for action in actions:
            match action:
                case BookGap():
                    summary.gaps += 1
                case SnapshotNeeded(symbol):
                    summary.snapshot_requests[symbol] += 1
                case BookSynced(symbol, last_update_id):
                    summary.synced_at.setdefault(symbol, last_update_id)
            if on_action is not None:
                on_action(action)
    if engine is None or summary is None:
        raise RecordingError(f"{path}: empty recording", path=str(path))
    return engine, summary
