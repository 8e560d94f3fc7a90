"""``tapeflow serve --sim`` as a user runs it: a process that reports its progress, answers over HTTP, and stops
cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests


def start(*args: str) -> tuple[subprocess.Popen[str], str, list[str]]:
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


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_sim_answers_and_stops_cleanly(sig: signal.Signals) -> None:
    proc, url, seen = start("--books", "BTCUSDT")
    try:
        assert url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 60
        while True:  # ready once the book synced and every window is complete
            health = requests.get(f"{url}/health", timeout=10).json()
            if health["status"] == "ok" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert health["status"] == "ok" and health["books_synced"] == 1
        body = requests.get(f"{url}/liquidations/total", params={"minutes": 60}, timeout=10).json()
        assert body["symbol"] == "BTCUSDT"  # the bundled symbols: the old service's default works on --sim
        assert requests.get(f"{url}/", timeout=10).text.startswith("<!doctype html>")
        with requests.get(f"{url}/events", stream=True, timeout=10) as events:  # an open stream does not hold it up
            assert events.status_code == 200
            proc.send_signal(sig)
            assert proc.wait(timeout=30) == 0
            assert proc.stderr is not None
            err = "".join(seen) + proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == 0, err
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
