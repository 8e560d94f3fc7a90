"""Monitor.memory(): the engine's bytes against the documented layout, and the RSS against /proc/self/status."""

from __future__ import annotations

import os
import sys

import pytest

from tapeflow import Engine, Monitor
from tapeflow.monitor.memory import measure_memory, rss_bytes

T0 = 1_767_225_600_000
BUCKET = 128  # bytes of a bucket and of an aligned interval (docs/flow.md, "Cost and memory")
#: Everything else a symbol's flow state holds (its struct, running totals, id ledger): under this.
FIXED = 4096


def feed_every_second(engine: Engine, symbols: list[str], seconds: int) -> None:
    """One trade per symbol per second, ids 1, 2, ...; one batch per second."""
    for sec in range(seconds):
        t = T0 + sec * 1000 + 250
        frames = [
            b'{"e":"aggTrade","E":%d,"a":%d,"s":"%s","p":"70000.1","q":"0.012","f":%d,"l":%d,"T":%d,"m":%s}'
            % (t, sec + 1, s.encode(), sec + 1, sec + 1, t, b"true" if sec % 2 else b"false")
            for s in symbols
        ]
        engine.apply_frames(frames, 0)


def test_flow_bytes_follow_the_documented_layout() -> None:
    # Default windows: 1 s buckets over 15 min, 10 s buckets over 1 h, 1 min buckets over 4 h (each resolution's
    # deque holds its span plus the current step), and 4 aligned series of 60 kept intervals plus the one closing.
    # A symbol trading every second for 4 h 10 min fills every one of them.
    symbols = [f"S{i:04d}USDT" for i in range(12)]
    engine = Engine("usdm")
    feed_every_second(engine, symbols, 4 * 3600 + 600)
    layout = BUCKET * ((900 + 1) + (360 + 1) + (240 + 1) + 4 * 61)
    report = measure_memory(engine, symbols, books=[])
    assert report.flow_symbols == report.symbols == 12
    assert report.flow_per_symbol is not None
    assert layout <= report.flow_per_symbol <= layout + FIXED
    assert report.flow == report.engine and report.liquidations == report.books == 0
    assert report.books_per_book is None and report.liquidations_per_symbol == 0


def test_flow_bytes_grow_with_the_buckets_a_symbol_trades_in() -> None:
    # Trading every 10 s instead: the 1 s resolution keeps 90 buckets over 15 min (a deque grown by doubling: 128),
    # the coarser ones are as full as before.
    engine = Engine("usdm")
    symbols = ["AUSDT", "BUSDT"]
    for sec in range(0, 4 * 3600 + 600, 10):
        t = T0 + sec * 1000
        engine.apply_frames(
            [
                b'{"e":"aggTrade","E":%d,"a":%d,"s":"%s","p":"1.5","q":"2","f":1,"l":1,"T":%d,"m":true}'
                % (t, sec // 10 + 1, s.encode(), t)
                for s in symbols
            ],
            0,
        )
    layout = BUCKET * (128 + (360 + 1) + (240 + 1) + 4 * 61)
    per = measure_memory(engine, symbols, books=[]).flow_per_symbol
    assert per is not None and layout <= per <= layout + FIXED


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_rss_is_the_kernels_resident_set() -> None:
    blob = bytearray(32 << 20)  # 32 MB touched: the RSS must see it
    blob[:: os.sysconf("SC_PAGE_SIZE")] = b"\x01" * len(blob[:: os.sysconf("SC_PAGE_SIZE")])
    ours = rss_bytes()
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
    page = os.sysconf("SC_PAGE_SIZE")
    assert ours is not None
    assert abs(ours - vm) <= 8 * page, (ours, vm)
    del blob


def test_rss_is_none_without_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tapeflow.monitor.memory._STATM", "/nonexistent/statm")
    assert rss_bytes() is None


def test_a_monitor_reports_before_it_starts() -> None:
    m = Monitor("usdm", ["BTCUSDT"], flow=["1m"], books=True)
    report = m.memory()
    assert report.engine == report.flow + report.liquidations + report.books
    # Nothing per symbol yet: the flow holds only its table of per-connection clocks (16 bytes an entry).
    assert report.flow < 1024 and report.liquidations == report.books == 0
    assert report.symbols == 0 and report.flow_per_symbol is None
    assert "engine 0.0 MB" in report.line()
