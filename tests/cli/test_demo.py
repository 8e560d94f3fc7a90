"""``tapeflow demo``: the view's figures against the simulator's truth, and the command end to end."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from decimal import Decimal

import pytest
from rich.console import Console

from tapeflow.cli import main
from tapeflow.demo import DemoOptions, run, schedule_faults
from tapeflow.sim import SimConfig, SimExchange
from tapeflow.view import Sampler, fmt_quote, render
from tests.monitor.support import drive, monitor_on, settle
from tests.sim.support import tape

E16 = Decimal(10) ** 16
WINDOW_MS = 15 * 60_000


def truth_flow(ex: SimExchange, symbol: str, now_ms: int) -> tuple[Decimal, Decimal, int]:
    """Taker buy and sell quote and trade count of the 15m sliding window, from the simulator's aggTrade tape."""
    end = (now_ms // 1000 + 1) * 1000
    t = tape(ex, symbol, end - WINDOW_MS, end)
    return t.buy_quote, t.sell_quote, t.buy_count + t.sell_count


@pytest.mark.asyncio
async def test_flow_panel_equals_the_trade_tape_through_faults() -> None:
    cfg = SimConfig(market="usdm", symbols=12, seed=11, speed=0.0, rate=4.0, liq_rate=0.2)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=("1m", "15m"), big_trade=50_000) as m:
        sampler = Sampler(m, "S0001USDT", top=6)
        t0 = ex.now_ms()
        schedule_faults(ex, seed=3, every_ms=8_000, until_ms=t0 + 40_000)
        # Besides the random ones: lost aggTrade frames (an id gap to backfill) and every connection cut at once.
        for s in ("s0000usdt", "s0003usdt", "s0005usdt"):
            ex.faults.schedule(t0 + 20_000, lambda s=s: ex.faults.drop(2, stream=f"{s}@aggTrade"))
        ex.faults.schedule(t0 + 30_000, lambda: ex.faults.disconnect_all(abrupt=True))
        await drive(ex, m, 60_000)
        # A quiet stretch (no trading, as if the market paused), then more trading: the window ends past 15 minutes
        # and has slid over the first half minute of trades.
        ex.skip(14 * 60_000 + 30_000)
        await drive(ex, m, 30_000)
        await settle(ex, m)
        snap = sampler.sample()
        assert snap.now_ms - t0 > WINDOW_MS
        now = snap.now_ms
        truth = {s: truth_flow(ex, s, now) for s in ex.truth.symbols()}
        start = (now // 1000 + 1) * 1000 - WINDOW_MS
        assert any(t.T < start for s in ex.truth.symbols() for t in ex.truth.agg_trades(s))  # some slid out
        # The rows are the six symbols with the largest absolute net flow on the tape, with its exact sums.
        ranked = sorted(truth, key=lambda s: -abs(truth[s][0] - truth[s][1]))[:6]
        assert snap.flow is not None
        assert [r.symbol for r in snap.flow] == ranked
        for row in snap.flow:
            buy, sell, n = truth[row.symbol]
            assert (row.buy_quote, row.sell_quote, row.trades, row.complete) == (buy, sell, n, True), row.symbol
        # Faults happened and were repaired.
        h = snap.health
        assert h.reconnects >= 3 and h.trades_backfilled > 0 and h.gaps_filled >= 1 and h.gaps_open == 0
        assert h.books_synced == h.books == 12
        # Big trades shown are trades of the tape at or above the threshold, the newest first.
        big = {(s, t.T, t.a) for s in ex.truth.symbols() for t in ex.truth.agg_trades(s) if t.p * t.q >= 50_000 * E16}
        assert snap.big_trades
        tape_times = {(s, time) for s, time, _ in big}
        assert all((t.symbol, t.time_ms) in tape_times for t in snap.big_trades)
        assert snap.big_trades[0].time_ms == max(time for _, time, _ in big)
        # Liquidations listed are pushed ones (those pushed while a connection was down are lost for good: Binance
        # has no liquidation history), newest first.
        pushed = {(liq.symbol, liq.T, liq.ap) for liq in ex.truth.liquidations() if liq.pushed}
        assert 0 < snap.liq_count < len(pushed)  # the first ones are out of the window
        shown = [(r.symbol, r.time_ms, int(Decimal(r.price) * 10**8)) for r in snap.liquidations]
        assert shown and all(x in pushed for x in shown)
        assert [r.time_ms for r in snap.liquidations] == sorted((r.time_ms for r in snap.liquidations), reverse=True)
        # The book shown is synced and equals the truth at its update id.
        book = snap.book
        assert book is not None and book.state == "SYNCED" and book.last_update_id is not None
        true_book = ex.truth.book_at("S0001USDT", book.last_update_id)
        best_bid = max(true_book.bids)
        assert Decimal(book.bids[0][0]) * 10**8 == best_bid
        sampler.close()
        console = Console(record=True, width=140, file=io.StringIO())
        console.print(render(snap, 140))
        text = console.export_text()
        assert "book S0001USDT: SYNCED" in text
        assert fmt_quote(snap.flow[0].buy_quote) in text


def run_demo(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tapeflow.cli", "demo", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_demo_without_a_terminal_prints_snapshots() -> None:
    done = run_demo("--duration", "6", "--symbols", "8", "--interval", "2.5")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert "\x1b[" not in out  # plain text, no escape codes
    snapshots = out.count("connection health")
    assert snapshots == 3  # at 2.5 s, 5 s and the end
    last = out[out.rindex("tapeflow usdm") :]
    assert "book S0000USDT: SYNCED" in last and "update id" in last
    assert re.search(r"connections\s+(\d+)/\1 open", last)
    assert re.search(r"books\s+8/8 synced", last)
    assert re.search(r"S00\d\dUSDT\s+[\d,]+\.\d\d\s+[\d,]+\.\d\d\s+[+-]?[\d,]+\.\d\d\s+\d+\s+yes", last)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_interrupt_stops_cleanly() -> None:
    command = [sys.executable, "-m", "tapeflow.cli", "demo", "--symbols", "4", "--interval", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            for line in proc.stdout:
                if "connection health" in line:
                    break
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0
    assert "Traceback" not in err and err == ""
    assert "tapeflow demo: stopped" in out


@pytest.mark.asyncio
async def test_live_view_runs_for_its_duration() -> None:
    out = io.StringIO()
    snap = await run(DemoOptions(symbols=5, duration=2.5, plain=False, faults=True, speed=4.0), out)
    assert snap is not None and snap.flow  # rows of taker flow were shown
    assert snap.health.connections_open >= 1 and snap.health.frames_per_s > 0
    assert "connection health" in out.getvalue() and "faults injected" in out.getvalue()


def test_unknown_book_symbol_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--book", "BTCUSDT", "--duration", "1", "--symbols", "3"]) == 2
    assert "--book BTCUSDT: the local exchange lists S0000USDT to S0002USDT" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_without_flow_the_view_still_has_books_liquidations_and_health() -> None:
    cfg = SimConfig(market="usdm", symbols=4, seed=2, speed=0.0, rate=4.0, liq_rate=0.5)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=()) as m:
        sampler = Sampler(m, "S0002USDT")
        first = sampler.sample()
        assert first.book is not None and first.book.state == "SYNCING" and not first.book.bids
        await drive(ex, m, 10_000)
        await settle(ex, m)
        snap = sampler.sample()
        sampler.close()
    assert snap.flow is None and snap.big_trades == ()
    assert snap.book is not None and snap.book.state == "SYNCED" and len(snap.book.bids) == 10
    assert snap.liq_count > 0 and snap.health.books_synced == 4
    console = Console(record=True, width=100, file=io.StringIO())
    console.print(render(snap, 100))
    assert "trade flow is not available" in console.export_text()
