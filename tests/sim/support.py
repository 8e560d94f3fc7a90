"""Plain-Python helpers for the simulator tests: HTTP GET and frame collection with a plain websockets client."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import ClientConnection

from tapeflow.sim import SimExchange


async def get(url: str) -> tuple[int, dict[str, str], Any]:
    """GET ``url``; returns (status, headers, parsed JSON body)."""

    def call() -> tuple[int, dict[str, str], Any]:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, dict(r.headers), json.loads(r.read())
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = body.decode()
            return e.code, dict(e.headers), parsed

    return await asyncio.to_thread(call)


async def drain(ws: ClientConnection, quiet: float = 0.05) -> list[str]:
    """Every frame available on ``ws`` until it stays quiet for ``quiet`` seconds."""
    out: list[str] = []
    while True:
        try:
            msg = await asyncio.wait_for(ws.recv(), quiet)
        except TimeoutError:
            return out
        out.append(msg if isinstance(msg, str) else msg.decode())


async def run(ex: SimExchange, ws: list[ClientConnection], ms: int, chunk: int = 1000) -> list[list[str]]:
    """Advances the manual clock by ``ms`` in chunks, collecting each connection's frames."""
    got: list[list[str]] = [[] for _ in ws]
    for _ in range(ms // chunk):
        await ex.advance(chunk)
        for i, w in enumerate(ws):
            got[i] += await drain(w, 0.01)
    for i, w in enumerate(ws):
        got[i] += await drain(w, 0.05)
    return got


class Book:
    """An independent local book following the official rules (Decimal prices, plain dicts)."""

    def __init__(self, futures: bool) -> None:
        self.futures = futures
        self.buffer: list[dict[str, Any]] = []
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.uid: int | None = None
        self.synced = False
        self.gaps = 0
        self.applied: list[int] = []

    def snapshot(self, snap: dict[str, Any]) -> None:
        self.bids = {Decimal(p): Decimal(q) for p, q in snap["bids"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in snap["asks"]}
        last = snap["lastUpdateId"]
        self.uid = last
        pending, self.buffer = self.buffer, []
        first = True
        for ev in pending:
            if self.futures:
                if ev["u"] < last:
                    continue
                if first:
                    assert ev["U"] <= last <= ev["u"], (ev["U"], last, ev["u"])
                    first = False
                    self._apply(ev)
                    continue
            elif ev["u"] <= last:
                continue
            self._step(ev)
        self.synced = True

    def event(self, ev: dict[str, Any]) -> None:
        if not self.synced:
            self.buffer.append(ev)
        else:
            self._step(ev)

    def _step(self, ev: dict[str, Any]) -> None:
        assert self.uid is not None
        if self.futures:
            if ev["pu"] != self.uid:
                self.gaps += 1
        elif ev["u"] <= self.uid:
            return
        elif ev["U"] != self.uid + 1:
            self.gaps += 1
        self._apply(ev)

    def _apply(self, ev: dict[str, Any]) -> None:
        for side, levels in ((self.bids, ev["b"]), (self.asks, ev["a"])):
            for p, q in levels:
                if Decimal(q) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = Decimal(q)
        self.uid = ev["u"]
        self.applied.append(ev["u"])
        assert not self.bids or not self.asks or max(self.bids) < min(self.asks), "crossed book"


@dataclass(frozen=True)
class Tape:
    """Taker buy and sell sums of the simulator's true aggTrade tape over a span, as exact decimals."""

    buy_base: Decimal
    sell_base: Decimal
    buy_quote: Decimal
    sell_quote: Decimal
    buy_count: int
    sell_count: int


def tape(ex: SimExchange, symbol: str, start_ms: int, end_ms: int) -> Tape:
    """Sums of the true aggTrade tape of ``symbol`` with ``start_ms <= T < end_ms`` (a buyer-maker trade is a taker
    sell)."""
    base = {True: Decimal(0), False: Decimal(0)}
    quote = {True: Decimal(0), False: Decimal(0)}
    count = {True: 0, False: 0}
    for a in ex.truth.agg_trades(symbol):
        if start_ms <= a.T < end_ms:
            base[a.m] += Decimal(a.q) / 10**8
            quote[a.m] += Decimal(a.p) * Decimal(a.q) / 10**16
            count[a.m] += 1
    return Tape(base[False], base[True], quote[False], quote[True], count[False], count[True])
