"""Plain-Python helpers for the simulator tests: HTTP GET and frame collection with a plain websockets client."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from tapeflow.sim import SimExchange

DATA = Path(__file__).parent / "data"


def exchange_info(market: str) -> Path:
    """The recorded exchangeInfo of ``market`` in tests/data."""
    return DATA / "exchange_info" / f"{market}.json"


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
