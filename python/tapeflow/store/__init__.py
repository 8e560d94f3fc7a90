"""The embedded store: one SQLite file per market that keeps what a restart would otherwise lose.

It holds every liquidation as received, the completed flow intervals, big trades, trade gaps and outages, and
checkpoints of the engine's flow and liquidation state (see docs/store.md for the schema). The Monitor writes it
through a thread of its own and reads it back on a warm restart; :class:`History` queries it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tapeflow.store.history import History
from tapeflow.store.status import StoreStatus
from tapeflow.store.store import Outage, PreviousRun, Store

__all__ = ["History", "Outage", "PreviousRun", "Store", "StoreStatus", "default_path"]


def default_path(market: str, exchange: str | None = None) -> Path:
    """The per-user store of ``market``: ``$XDG_DATA_HOME/tapeflow/<market>.db`` (``~/.local/share/tapeflow`` when
    ``XDG_DATA_HOME`` is not set) for Binance; for another exchange (``exchange``: its host and port, e.g. a local
    simulator's ``127.0.0.1:8765``) ``<market>-<host>_<port>.db``, so its data never mixes with Binance's."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    name = market if not exchange else f"{market}-{re.sub(r'[^A-Za-z0-9.-]+', '_', exchange)}"
    return Path(base) / "tapeflow" / f"{name}.db"
