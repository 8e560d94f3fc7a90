"""``tapeflow serve``: a Monitor and the HTTP server in one process and one event loop.

Start-up: the Monitor starts (symbols from ``exchangeInfo``, connections opened, books and windows filling), the
server starts listening, and a line of progress goes to the terminal while books sync and windows complete. SIGINT
or SIGTERM stops the server (open requests finish), then closes the Monitor, which writes what it keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TextIO

import uvicorn

from tapeflow.clock import FunctionClock
from tapeflow.demo import schedule_faults
from tapeflow.monitor import Monitor
from tapeflow.serve.app import create_app
from tapeflow.sim import SimConfig, SimExchange
from tapeflow.view import show_startup

__all__ = ["ServeOptions", "Server", "run", "sim_config"]


@dataclass
class ServeOptions:
    """What ``tapeflow serve`` runs.

    Attributes:
        market / symbols / quote / flow / books / big_trade / liquidations: the Monitor's (see
            :class:`tapeflow.Monitor`); ``books`` lists the symbols whose books are kept.
        host / port: where the server listens (loopback unless told otherwise; port 0 picks a free one).
        cors_origins: origins allowed to call from a browser (none by default).
        sim: serve the embedded simulator instead of Binance.
        sim_symbols / sim_rate / seed / speed / faults: the simulator's market (symbols, book events per second per
            symbol...; see :class:`tapeflow.sim.SimConfig`).
        duration: stop after this many seconds (``None``: until a signal).
        store: the Monitor's store file (``None``: none; ``tapeflow serve`` gives the per-user file of the market
            unless ``--no-store``, and none with ``--sim`` unless ``--store``). A refused file stops the start with
            :class:`~tapeflow.errors.StoreError`; a stop writes the last checkpoint.
        monitor_kwargs: more :class:`tapeflow.Monitor` arguments (``ws_url``, ``rest_url``, ``backfill_startup``...).
    """

    market: str = "usdm"
    symbols: Sequence[str] | None = None
    quote: str | None = "USDT"
    flow: Sequence[str] = ("1m", "15m", "1h")
    books: Sequence[str] = ()
    big_trade: float | None = 100_000.0
    liquidations: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: Sequence[str] = ()
    sim: bool = False
    sim_symbols: int = 30
    sim_rate: float = 5.0
    seed: int = 7
    speed: float = 1.0
    faults: bool = False
    duration: float | None = None
    store: str | os.PathLike[str] | None = None
    monitor_kwargs: dict[str, Any] = field(default_factory=dict)


class Server(uvicorn.Server):
    """uvicorn's server, leaving signals to :func:`run` (which stops the Monitor after the server)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    @property
    def port(self) -> int:
        """The port listened on (the one picked when asked for 0)."""
        for s in self.servers:
            for sock in s.sockets:
                return int(sock.getsockname()[1])
        return self.config.port


def sim_config(opts: ServeOptions) -> SimConfig:
    """The simulator of ``--sim``: real USD-M symbol names (BTCUSDT first) up to the 60 bundled, generated beyond."""
    info = resources.files("tapeflow") / "data" / "exchange_info" / "usdm.json"
    bundled = opts.sim_symbols <= 60
    return SimConfig(
        market="usdm",
        symbols=opts.sim_symbols,
        seed=opts.seed,
        speed=opts.speed,
        rate=opts.sim_rate,
        liq_rate=0.05,
        exchange_info=str(info) if bundled else None,
    )


def _monitor(opts: ServeOptions, ex: SimExchange | None) -> Monitor:
    kwargs: dict[str, Any] = {
        "quote": opts.quote,
        "books": list(opts.books),
        "flow": list(opts.flow),
        "big_trade": opts.big_trade,
        "liquidations": opts.liquidations,
        "store": opts.store,
        **opts.monitor_kwargs,
    }
    if ex is not None:
        kwargs.update(ws_url=ex.ws_url, rest_url=ex.rest_url, clock=FunctionClock(ex.now_ms))
        return Monitor("usdm", list(opts.symbols) if opts.symbols else "ALL", **kwargs)
    return Monitor(opts.market, list(opts.symbols) if opts.symbols else "ALL", **kwargs)


async def run(opts: ServeOptions, out: TextIO | None = None, stop: asyncio.Event | None = None) -> int:
    """Runs the Monitor and the server until ``stop`` is set, a signal arrives or ``opts.duration`` passes.

    Returns:
        the port the server listened on.
    """
    out = out or sys.stderr
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    server: Server | None = None

    def on_signal() -> None:
        if stop.is_set() and server is not None:
            server.force_exit = True  # a second Ctrl-C: do not wait for open requests
        stop.set()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
    if opts.duration is not None:
        loop.call_later(opts.duration, stop.set)
    try:
        async with contextlib.AsyncExitStack() as stack:
            sock = _listen(opts.host, opts.port)  # first: a port in use fails before anything starts
            stack.callback(sock.close)
            ex = None
            if opts.sim:
                ex = await stack.enter_async_context(SimExchange(sim_config(opts)))
                if opts.faults:
                    schedule_faults(ex, opts.seed, 12_000)
                _say(out, f"local exchange: {len(ex.truth.symbols())} USD-M symbols on {ex.rest_url}")
            m = _monitor(opts, ex)
            _say(out, f"starting: {m.market}, flow windows {', '.join(m.flow) or 'none'}")
            await stack.enter_async_context(m)
            _say(out, _store_line(m))
            app = create_app(m, cors_origins=opts.cors_origins)
            config = uvicorn.Config(
                app,
                host=opts.host,
                port=opts.port,
                log_level="warning",
                access_log=False,
                lifespan="on",
                limit_concurrency=1000,
                h11_max_incomplete_event_size=16 * 1024,
                timeout_graceful_shutdown=5,
            )
            server = Server(config)
            serving = loop.create_task(server.serve(sockets=[sock]))
            while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn offers a flag, no event)
                await asyncio.sleep(0.01)
            if serving.done():
                serving.result()  # it could not start: say why
            host = f"[{opts.host}]" if ":" in opts.host else opts.host
            _say(out, f"serving http://{host}:{server.port}/  (API: /docs, /openapi.json; metrics: /metrics)")
            progress = loop.create_task(show_startup(m, out, plain=True, interval=1.0))
            try:
                await stop.wait()
            finally:
                progress.cancel()
                app.state.broadcaster.close()  # open event streams end, so the server can stop
                server.should_exit = True
                await serving
            _say(out, "stopping: closing the feeds")
            return server.port
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        _say(out, "stopped")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP by name: asyncio turns Nagle's algorithm off only on sockets whose protocol says TCP (an accepted
    # connection has its listener's), and with it on, a response written in two parts waits for the client's
    # delayed ACK, about 40 ms on a keep-alive connection. TCP_NODELAY on the listener as well (Linux passes it on).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _store_line(m: Monitor) -> str:
    st = m.status().store
    if st is None:
        return "store: none (nothing kept on disk)"
    return f"store: {st.path} ({st.restore}: {st.restore_detail})"


def _say(out: TextIO, line: str) -> None:
    out.write(f"tapeflow serve: {line}\n")
    out.flush()
