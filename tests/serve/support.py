"""Helpers for the HTTP service tests: the app over a Monitor on the simulator, served by uvicorn on a free loopback
port, in the test's own event loop (:func:`served`) or on a thread of its own for synchronous clients such as a
browser or schemathesis (:class:`LiveServer`)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import uvicorn

from tapeflow import Monitor
from tapeflow.serve import Server, create_app
from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import drive, monitor_on, settle
from tests.support import exchange_info

MIN = 60_000


def sim_config(symbols: int = 6, seed: int = 11, **kwargs: Any) -> SimConfig:
    """A USD-M market with real symbol names (BTCUSDT first), a manual clock and frequent liquidations."""
    kwargs.setdefault("rate", 4.0)
    kwargs.setdefault("liq_rate", 0.4)
    return SimConfig(
        market="usdm", symbols=symbols, seed=seed, speed=0.0, exchange_info=exchange_info("usdm"), **kwargs
    )


def monitor_kwargs(**kwargs: Any) -> dict[str, Any]:
    """The Monitor of these tests: flow 1m/15m, a low big-trade threshold, BTCUSDT's and ETHUSDT's books."""
    kwargs.setdefault("flow", ("1m", "15m"))
    kwargs.setdefault("big_trade", 2_000.0)
    kwargs.setdefault("books", ["BTCUSDT", "ETHUSDT"])
    return kwargs


@contextlib.asynccontextmanager
async def served(m: Monitor, **app_kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app of ``m`` served on a free loopback port in this event loop; yields a client of it."""
    app = create_app(m, **app_kwargs)
    server = Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        assert not task.done(), task.result()
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as client:
            yield client
    finally:
        app.state.broadcaster.close()
        server.should_exit = True
        await task


@dataclass
class Live:
    url: str
    ex: SimExchange
    m: Monitor
    loop: asyncio.AbstractEventLoop

    def call(self, fn: Any) -> Any:
        """Runs ``fn()`` on the server's loop (where the Monitor lives) and returns its result."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)


class LiveServer:
    """The simulator, a Monitor and its server on a thread, driven for ``drive_ms`` of virtual time and settled.

    The manual clock then stands still, so every answer stays the same while a synchronous client looks.
    """

    def __init__(self, drive_ms: int = 120_000, cfg: SimConfig | None = None, **kwargs: Any) -> None:
        self.drive_ms = drive_ms
        self.cfg = cfg or sim_config()
        self.kwargs = monitor_kwargs(**kwargs)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._live: Live | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        try:
            self._stop = asyncio.Event()
            async with SimExchange(self.cfg) as ex, monitor_on(ex, **self.kwargs) as m, served(m) as client:
                await drive(ex, m, self.drive_ms)
                await settle(ex, m)
                self._live = Live(str(client.base_url).rstrip("/"), ex, m, asyncio.get_running_loop())
                self._ready.set()
                await self._stop.wait()
        except BaseException as e:
            self._error = e
            self._ready.set()

    def __enter__(self) -> Live:
        self._thread.start()
        self._ready.wait(300)
        if self._error is not None:
            raise self._error
        assert self._live is not None, "the live server did not start"
        return self._live

    def __exit__(self, *exc: object) -> None:
        live, stop = self._live, self._stop
        if live is not None and stop is not None:
            live.loop.call_soon_threadsafe(stop.set)
        self._thread.join(60)


@contextlib.contextmanager
def live_server(**kwargs: Any) -> Iterator[Live]:
    with LiveServer(**kwargs) as live:
        yield live


def liq_truth(
    ex: SimExchange, symbol: str | None, lo_ms: int, hi_ms: int, order_side: str | None = None
) -> tuple[Decimal, int]:
    """Exact notional and count of the liquidations Binance pushed (one per symbol per second) with
    ``lo_ms <= T <= hi_ms``: average price x filled quantity, from the simulator's own record."""
    total, count = Decimal(0), 0
    for liq in ex.truth.liquidations():
        if not liq.pushed or not lo_ms <= liq.T <= hi_ms:
            continue
        if (symbol is not None and liq.symbol != symbol) or (order_side is not None and liq.side != order_side):
            continue
        total += Decimal(liq.q) * Decimal(liq.ap) / 10**16
        count += 1
    return total, count


__all__ = [
    "MIN",
    "Live",
    "LiveServer",
    "drive",
    "liq_truth",
    "live_server",
    "monitor_kwargs",
    "served",
    "settle",
    "sim_config",
]
