"""Helpers for the store tests: rows to write, files in every bad state, a directory nobody may write, the store's
rows read back with plain SQL."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from tapeflow.store import Store

T0 = 1_767_225_600_000


def liquidation_row(
    symbol: str, t: int, side: str = "SELL", qty: str = "0.010", price: str = "100.50"
) -> tuple[Any, ...]:
    """A row of ``liquidations`` (the order of :data:`tapeflow.store.journal.LIQUIDATION_FIELDS`) with its event."""
    o = {"s": symbol, "S": side, "o": "LIMIT", "f": "IOC", "q": qty, "p": price, "ap": price, "X": "FILLED",
         "l": qty, "z": qty, "T": t}  # fmt: skip
    raw = orjson.dumps({"e": "forceOrder", "E": t + 5, "o": o}).decode()
    notional = str(Decimal(qty) * Decimal(price))
    side_name = "long" if side == "SELL" else "short"
    return (symbol, side_name, side, "LIMIT", "IOC", "FILLED", price, price, qty, qty, qty, notional, t, t + 5, t + 9,
            raw)  # fmt: skip


def interval_cols(symbol: str, starts: list[int], *, complete: bool = True, buy: str = "1.5") -> dict[str, list[Any]]:
    """``Engine.closed_intervals`` columns for ``symbol``'s intervals at ``starts``."""
    n = len(starts)
    return {
        "symbol": [symbol] * n,
        "start_ms": starts,
        "buy_base": [buy] * n,
        "sell_base": ["0.25"] * n,
        "buy_quote": ["150.125"] * n,
        "sell_quote": ["25"] * n,
        "buy_count": [3] * n,
        "sell_count": [1] * n,
        "big_buy_count": [0] * n,
        "big_sell_count": [0] * n,
        "first_id": [10 + i for i in range(n)],
        "last_id": [20 + i for i in range(n)],
        "complete": [complete] * n,
        "abandoned": [False] * n,
    }


def open_store(path: Path, market: str = "usdm", now: int = T0, **options: float) -> Store:
    """A store on ``path`` whose clock stands at ``now``, its run begun."""
    store = Store(path, market=market, now_ms=lambda: now, **options)
    store.begin(now)
    return store


def digest(path: Path) -> str:
    """SHA-256 of a file's bytes (and of its WAL and shared-memory files, when present)."""
    h = hashlib.sha256()
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def query(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the store at ``path`` (read-only)."""
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


class ReadOnly:
    """Makes ``directory`` unwritable (no file in it created or removed) until :meth:`release` (idempotent):
    ``chmod`` for a normal user, the immutable attribute for root (who ignores permissions). Skips the test where
    neither can be had."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.root = os.geteuid() == 0
        self.held = False

    def hold(self) -> None:
        d = self.directory
        if self.root:
            if subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode != 0:
                pytest.skip("running as root without chattr +i: a read-only directory cannot be made here")
        else:
            d.chmod(0o555)
        self.held = True
        probe = d / ".probe"
        try:
            probe.touch()
        except OSError:
            return
        probe.unlink()
        self.release()
        pytest.skip("the directory stays writable (a file system without permissions or attributes)")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self.root:
            subprocess.run(["chattr", "-i", str(self.directory)], check=True)
        else:
            self.directory.chmod(0o755)


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[ReadOnly]:
    """:class:`ReadOnly` held for the block (it may be released early)."""
    lock = ReadOnly(directory)
    lock.hold()
    try:
        yield lock
    finally:
        lock.release()
