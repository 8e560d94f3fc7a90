"""What a store reports about itself (part of :meth:`tapeflow.Monitor.status`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["StoreStatus"]


@dataclass(frozen=True)
class StoreStatus:
    """The state of a Monitor's store.

    Attributes:
        path: the file.
        state: ``"starting"`` (not written yet), ``"ok"``, ``"failing"`` (writes fail and are retried; see
            ``error``) or ``"closed"``.
        error: why writes fail, while they do.
        pending_rows: rows queued and not written yet.
        written: rows written since start, by kind (``liquidations``, ``intervals``, ``big_trades``,
            ``trade_gaps``, ``outages``, ``checkpoint``...).
        lost: rows given up since start, by kind: writes failed for so long that the backlog passed its limit (the
            oldest went first), or the Monitor stopped while they still failed. Never silent: also logged.
        commits: transactions committed; failures: attempts that failed.
        last_commit_ms: the Monitor's time of the last commit.
        last_checkpoint_ms: when the last checkpoint was taken (written or queued).
        writer_cpu_s: CPU seconds the writer thread spent.
        restore: how the Monitor started: ``"new"`` (an empty store), ``"warm"`` (from a checkpoint), ``"cold"``
            (no usable checkpoint: flow rebuilt from the exchange, liquidations from the stored rows).
        restore_detail: why, in words (the checkpoint's age, or what was wrong with it).
    """

    path: str
    state: str
    error: str | None
    pending_rows: int
    written: Mapping[str, int]
    lost: Mapping[str, int]
    commits: int
    failures: int
    last_commit_ms: int | None
    last_checkpoint_ms: int | None
    writer_cpu_s: float
    restore: str
    restore_detail: str
