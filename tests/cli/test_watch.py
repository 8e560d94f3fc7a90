"""``tapeflow watch`` against the local exchange over real sockets: in a pseudo-terminal (progress bars, then the
live view, Ctrl-C), and with ``--plain`` without a terminal; the flow panel held to the exchange's trade tape."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import signal
import struct
import sys
import termios
import threading
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tapeflow.sim import SimConfig, SimExchange
from tapeflow.view import fmt_quote
from tests.sim.support import tape

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r")
ROW = re.compile(r"(S\d{4}USDT)\s+([\d,]+\.\d\d)\s+([\d,]+\.\d\d)\s+[+-]?[\d,]+\.\d\d\s+(\d+)\s+(yes|NO)")


@contextlib.asynccontextmanager
async def exchange() -> AsyncIterator[SimExchange]:
    """A USD-M exchange trading in real time (the watch command follows its clock by itself)."""
    cfg = SimConfig(market="usdm", symbols=8, seed=81, speed=1.0, rate=8.0, liq_rate=0.3)
    async with SimExchange(cfg) as ex:
        yield ex


def watch_args(ex: SimExchange, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tapeflow.cli", "watch", "--ws-url", ex.ws_url, "--rest-url", ex.rest_url,
            "--books", "S0002USDT", "--interval", "1", *extra]  # fmt: skip


def quiet(ex: SimExchange) -> None:
    """The market stops trading, so that the last view can be held to the whole tape."""
    ex.market.rate = 0.0
    ex.market.liq_rate = 0.0


def check_flow_panel(ex: SimExchange, text: str) -> int:
    """The last flow panel in ``text`` shows every symbol's whole tape (the market is younger than the window):
    exact sums rounded half-even to cents, trade counts, complete; strongest buying first."""
    last = text[text.rindex("top symbols by 15m net taker flow") :]
    rows = ROW.findall(last)[:8]
    assert rows, text[-3000:]
    truth = {}
    for s in ex.truth.symbols():
        t = tape(ex, s, 0, 2**62)
        truth[s] = (fmt_quote(t.buy_quote), fmt_quote(t.sell_quote), str(t.buy_count + t.sell_count))
    for symbol, buy, sell, n, complete in rows:
        assert (buy, sell, n, complete) == (*truth[symbol], "yes"), symbol
    assert {r[0] for r in rows} == set(ex.truth.symbols())
    nets = [Decimal(b.replace(",", "")) - Decimal(s.replace(",", "")) for _, b, s, _, _ in rows]
    assert nets == sorted(nets, reverse=True)
    return len(rows)


@pytest.mark.asyncio
async def test_plain_watch_without_a_terminal_logs_start_up_then_snapshots() -> None:
    async with exchange() as ex:
        proc = await asyncio.create_subprocess_exec(
            *watch_args(ex, "--duration", "9"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(5)
        quiet(ex)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        text = out.decode()
        assert proc.returncode == 0, err.decode()
        assert "\x1b[" not in text  # plain text, no escape codes
        assert re.search(r"tapeflow: start-up: books 1/1 synced, flow 8/8 complete, .* — ready", text)
        assert text.count("connection health") >= 3
        assert "book S0002USDT: SYNCED" in text[text.rindex("tapeflow usdm") :]
        assert check_flow_panel(ex, text) == 8


def _spawn_in_pty(args: list[str]) -> tuple[int, int]:
    """Starts ``args`` with a new pseudo-terminal (140x50) as its controlling terminal; returns (pid, master)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 140, 0, 0))
    pid = os.fork()
    if pid == 0:  # the child: a session of its own whose terminal is the pty, so Ctrl-C reaches it as SIGINT
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        os.environ["TERM"] = "xterm-256color"
        os.execv(args[0], args)
    os.close(slave)
    return pid, master


def _reader(master: int, into: bytearray) -> threading.Thread:
    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            into.extend(chunk)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


async def _exit_code(pid: int, limit_s: float) -> int:
    for _ in range(int(limit_s * 20)):
        done, status = os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222 (WNOHANG: it does not block)
        if done:
            return os.waitstatus_to_exitcode(status)
        await asyncio.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("the watch command did not stop")


@pytest.mark.asyncio
@pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminal control as on Linux")
async def test_watch_in_a_terminal_shows_progress_then_the_view() -> None:
    async with exchange() as ex:
        got = bytearray()
        pid, master = _spawn_in_pty(watch_args(ex, "--duration", "9"))
        reader = _reader(master, got)
        try:
            await asyncio.sleep(5)
            quiet(ex)
            assert await _exit_code(pid, 60) == 0
        finally:
            os.close(master)
            reader.join(5)
        raw = bytes(got)
        assert b"\x1b[?1049h" in raw  # the live view took the screen (alternate screen buffer)
        text = ANSI.sub(b"", raw).decode("utf-8", "replace")
        assert "books synced" in text and "flow windows complete" in text  # the progress bars
        assert re.search(r"tapeflow: ready: books 1/1 synced, flow 8/8 complete", text)
        assert check_flow_panel(ex, text) == 8  # the view printed once more as the screen closed


@pytest.mark.asyncio
@pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminal control as on Linux")
async def test_ctrl_c_stops_watch_cleanly() -> None:
    async with exchange() as ex:
        got = bytearray()
        pid, master = _spawn_in_pty(watch_args(ex))
        reader = _reader(master, got)
        try:
            for _ in range(200):  # until the view is up
                if b"connection health" in got:
                    break
                await asyncio.sleep(0.1)
            assert b"connection health" in got
            os.write(master, b"\x03")  # Ctrl-C, as typed
            assert await _exit_code(pid, 30) == 0
        finally:
            os.close(master)
            reader.join(5)
        text = ANSI.sub(b"", bytes(got)).decode("utf-8", "replace")
        assert "tapeflow watch: stopped" in text and "Traceback" not in text
        assert b"\x1b[?1049l" in got  # the terminal was given back (alternate screen left)
