"""A warm restart: the engine's flow and liquidation state back from the store before the feed starts.

1. The newest checkpoint that restores (the older one if the newer is refused) gives every symbol's windows, id
   ledger and liquidations as they were. A checkpoint older than the longest flow window is not used: its windows
   are all past, and fetching every trade since would cost more than a fresh start.
2. The liquidations stored after it are replayed (the engine counts an event it already holds once, so overlap is
   harmless); without a checkpoint, every stored liquidation within the engine's retention is replayed.
3. The caller then backfills each restored symbol from its last counted aggTrade id + 1 (``fromId``), never from a
   start time; symbols not in the checkpoint start as on a fresh start. Books always start from a fresh snapshot.

Liquidations pushed while the process was down are lost for good; that span is an outage (see
:mod:`~tapeflow.monitor.outages`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tapeflow._core import Engine, Liquidation
from tapeflow.errors import CheckpointError
from tapeflow.store import Store

__all__ = ["Restored", "recent_liquidations", "replay_liquidations", "restore_state"]

log = logging.getLogger("tapeflow.store")

#: Stored events replayed per engine call.
_CHUNK = 5000
#: A checkpoint taken more than this (ms) after the Monitor's now is not used.
FUTURE_MS = 60_000


@dataclass(frozen=True)
class Restored:
    """What a start took from the store.

    Attributes:
        mode: ``"new"`` (nothing stored), ``"warm"`` (a checkpoint restored) or ``"cold"`` (no usable checkpoint).
        detail: why, in words.
        symbols: symbols whose flow state came back.
        checkpoint_ms: when the restored checkpoint was taken.
        after_liquidation: stored liquidation rows after this one are newer than the restored state.
    """

    mode: str
    detail: str
    symbols: tuple[str, ...] = ()
    checkpoint_ms: int | None = None
    after_liquidation: int = 0


def restore_state(engine: Engine, store: Store, *, now_ms: int, longest_window_ms: int) -> Restored:
    """Restores the newest usable checkpoint into ``engine`` (which must not have been fed yet)."""
    if store.previous.created_ms is None:
        return Restored("new", "a new store")
    reasons = []
    for ck in store.checkpoints():
        age_s = (now_ms - ck.at_ms) / 1000
        if ck.at_ms > now_ms + FUTURE_MS:
            reasons.append(f"checkpoint {ck.id} was taken {-age_s:.0f} s after now (the file was kept for another "
                           "exchange, or the clock went back)")  # fmt: skip
            continue
        if longest_window_ms and now_ms - ck.at_ms > longest_window_ms:
            reasons.append(
                f"the newest checkpoint is {age_s:.0f} s old, older than the longest flow window "
                f"({longest_window_ms / 1000:.0f} s)"
            )
            break
        try:
            symbols = engine.restore(ck.data)
        except CheckpointError as e:
            log.warning("checkpoint %d of %s not restored: %s (%s)", ck.id, store.path, e, e.reason)
            reasons.append(f"checkpoint {ck.id} not restored: {e} ({e.reason})")
            continue
        detail = f"{len(symbols)} symbols from a checkpoint {age_s:.0f} s old"
        return Restored("warm", detail, tuple(symbols), ck.at_ms, ck.liquidation_id)
    return Restored("cold", "; ".join(reasons) or "no checkpoint stored")


def replay_liquidations(engine: Engine, store: Store, restored: Restored, *, now_ms: int, retention_ms: int) -> int:
    """Feeds ``engine`` the stored liquidations newer than what ``restored`` gave back (all those within
    ``retention_ms`` without a checkpoint); returns how many events were fed."""
    until = now_ms + FUTURE_MS
    if restored.mode == "warm":
        events = store.liquidation_events(after_id=restored.after_liquidation, until_ms=until)
    else:
        events = store.liquidation_events(since_ms=now_ms - retention_ms, until_ms=until)
    for i in range(0, len(events), _CHUNK):
        engine.apply_frames(events[i : i + _CHUNK], now_ms * 1_000_000)
    return len(events)


def recent_liquidations(
    store: Store, market: str, count: int, contract_sizes: Mapping[str, str | float], now_ms: int
) -> Iterable[Liquidation]:
    """The ``count`` newest stored liquidations as the engine reports them (read through a scratch engine, so the
    Monitor's recent list resumes too)."""
    events = store.liquidation_events(last=count, until_ms=now_ms + FUTURE_MS)
    if not events:
        return []
    scratch = Engine(market)
    for symbol, size in contract_sizes.items():
        scratch.set_contract_size(symbol, size)
    result = scratch.apply_frames(events, 0)
    return [a for a in result.actions if isinstance(a, Liquidation)]
