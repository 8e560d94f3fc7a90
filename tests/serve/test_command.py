"""``tapeflow serve --sim`` as a user runs it: a process that reports its progress, answers over HTTP, and stops
cleanly on SIGTERM or SIGINT, writing a last checkpoint to its store; its store options; a refused store file."""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tapeflow._core import Engine
from tapeflow.cli import serve as serve_command
from tapeflow.store import History, Store, default_path


def start(*args: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    """``tapeflow serve --sim`` (10 virtual seconds a second) started, once it says where it serves."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tapeflow.cli", "serve", "--sim", "--port", "0", "--speed", "10", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    seen = []
    while line := proc.stderr.readline():
        seen.append(line)
        found = re.search(r"serving (http://\S+)/ ", line)
        if found:
            return proc, found.group(1), seen
        assert time.monotonic() < deadline, "no 'serving' line"
    raise AssertionError(f"tapeflow serve exited with {proc.wait()} before serving")


@contextlib.contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """:func:`start`, killed at the end of the block if still running."""
    proc, url, seen = start(*args)
    try:
        yield proc, url, seen
    finally:
        proc.kill()
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def signal_stop(proc: subprocess.Popen[str], seen: list[str], sig: signal.Signals) -> str:
    """Sends ``sig``; once the process ended (with status 0), everything it wrote on standard error."""
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0
    assert proc.stderr is not None
    return "".join(seen) + proc.stderr.read()


def wait_ok(url: str) -> dict[str, object]:
    """``/health`` once it says ok (every book synced, every window complete, the store writing)."""
    deadline = time.monotonic() + 60
    while True:
        health: dict[str, object] = requests.get(f"{url}/health", timeout=10).json()
        if health["status"] == "ok" or time.monotonic() > deadline:
            return health
        time.sleep(0.2)


def read_until(proc: subprocess.Popen[str], seen: list[str], pattern: str) -> None:
    """Reads the process's standard error into ``seen`` until a line matches ``pattern``."""
    assert proc.stderr is not None
    while line := proc.stderr.readline():
        seen.append(line)
        if re.search(pattern, line):
            return
    raise AssertionError(f"no line matching {pattern!r}: {''.join(seen)}")


READY = r"tapeflow: start-up: books (\d+)/\1 synced, flow (\d+)/\2 complete, .* — ready"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_sim_answers_and_stops_cleanly(sig: signal.Signals) -> None:
    with running("--books", "BTCUSDT") as (proc, url, seen):
        assert url.startswith("http://127.0.0.1:")
        health = wait_ok(url)  # ready once the book synced and every window is complete
        assert health["status"] == "ok" and health["books_synced"] == 1
        read_until(proc, seen, READY)  # the progress line says so too (it looks every 0.2 s)
        body = requests.get(f"{url}/liquidations/total", params={"minutes": 60}, timeout=10).json()
        assert body["symbol"] == "BTCUSDT"  # the bundled symbols: the old service's default works on --sim
        assert requests.get(f"{url}/", timeout=10).text.startswith("<!doctype html>")
        with requests.get(f"{url}/events", stream=True, timeout=10) as events:  # an open stream does not hold it up
            assert events.status_code == 200
            err = signal_stop(proc, seen, sig)
    assert re.search(r"tapeflow: start-up: books 1/1 synced, flow \d+/\d+ complete, .* — ready", err), err
    assert "stopping: closing the feeds" in err and err.rstrip().endswith("stopped")


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "tapeflow.cli", "serve", "--sim", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 2
    assert f"tapeflow: error: [Errno 98] cannot listen on 127.0.0.1:{port}" in out.stderr


def test_sigterm_writes_a_last_checkpoint_to_the_store(tmp_path: Path) -> None:
    path = tmp_path / "sim.db"
    with running("--store", str(path), "--sim-symbols", "4", "--flow", "1m,15m") as (proc, url, seen):
        health = wait_ok(url)
        assert health["status"] == "ok" and health["store"] == {
            "state": "ok", "error": None, "pending_rows": 0, "lost_rows": 0
        }, health  # fmt: skip
        before = requests.get(f"{url}/status", timeout=10).json()
        assert before["store"]["path"] == str(path) and before["store"]["restore"] == "new"
        names = requests.get(f"{url}/symbols", timeout=10).json()["symbols"]
        second = subprocess.run(  # one process uses a file as its store at a time
            [sys.executable, "-m", "tapeflow.cli", "serve", "--sim", "--port", "0", "--store", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2 and "Traceback" not in second.stderr, second.stderr
        assert f"store {str(path)!r} refused: another process uses it" in second.stderr, second.stderr
        time.sleep(1)  # some virtual time past the last look
        err = signal_stop(proc, seen, signal.SIGTERM)
    assert f"store: {path} (new: a new store)" in err and err.rstrip().endswith("stopped"), err
    store = Store(path, market="usdm", now_ms=lambda: 0)  # read back, as a next start would
    try:
        stop = store.previous.clean_stop_ms
        newest = store.checkpoints()[0]
    finally:
        store.close()
    assert stop is not None and stop > before["now_ms"]  # it stopped cleanly, after the last look
    assert newest.at_ms >= stop  # the last checkpoint was taken at the stop, not before it
    # It holds the engine as it stopped: every stored liquidation, and each symbol's last trade id.
    engine = Engine("usdm", flow_horizons=("1m", "15m"), flow_intervals=("1m", "15m"), big_trade=(100_000.0,))
    assert sorted(engine.restore(newest.data)) == sorted(names)
    stored = History(path, "usdm").liquidations()
    assert len(stored["trade_time_ms"]) > 0
    assert engine.liq_total(None, lookback_ms=86_400_000, now_ms=newest.at_ms).count == len(stored["trade_time_ms"])


def test_a_refused_store_stops_the_start_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)  # an SQLite header over garbage
    before = path.read_bytes()
    out = subprocess.run(
        [sys.executable, "-m", "tapeflow.cli", "serve", "--sim", "--port", "0", "--store", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    assert f"tapeflow: error: store {str(path)!r} refused: SQLite" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and "serving http" not in out.stderr
    assert path.read_bytes() == before  # left alone


def options(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    serve_command.add_arguments(p)
    return p.parse_args(argv)


def test_the_store_is_on_by_default_and_off_with_sim_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert serve_command.options_from(options()).store == tmp_path / "tapeflow" / "usdm.db"
    assert serve_command.options_from(options("--market", "spot")).store == default_path("spot")
    assert serve_command.options_from(options("--no-store")).store is None
    assert serve_command.options_from(options("--store", "~/x.db")).store == Path("~/x.db").expanduser()
    other = options("--rest-url", "http://127.0.0.1:8765", "--ws-url", "ws://127.0.0.1:8765")
    assert serve_command.options_from(other).store == tmp_path / "tapeflow" / "usdm-127.0.0.1_8765.db"
    assert serve_command.options_from(options("--sim")).store is None  # the local exchange's clock restarts
    assert serve_command.options_from(options("--sim", "--store", "s.db")).store == Path("s.db")
    p = argparse.ArgumentParser()
    serve_command.add_arguments(p)
    assert "With --sim: no store unless --store is given" in " ".join(p.format_help().split())
