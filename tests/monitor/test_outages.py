"""Outages and what they mean for liquidation figures (pure: connections are stand-ins)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tapeflow.monitor.outages import Outages, Span

T0 = 1_767_225_600_000


def _conn(cid: int, *streams: str) -> Any:
    return SimpleNamespace(id=cid, streams=dict.fromkeys(streams))


def test_one_copy_down_loses_nothing_both_down_is_an_outage() -> None:
    o = Outages(None, T0)
    a, b, trades = _conn(1, "!forceOrder@arr", "!markPrice@arr@1s"), _conn(2, "!forceOrder@arr"), _conn(3, "x@aggTrade")
    assert not o.complete(T0, T0 + 1)  # nothing live yet: the start-up
    o.up(a, T0 + 500)
    o.up(b, T0 + 2500)
    o.up(trades, T0 + 600)
    assert o.complete(T0 + 500, T0 + 10_000) and not o.complete(T0 + 499, T0 + 10_000)
    o.down(a, T0 + 20_000, "reset")
    o.down(trades, T0 + 21_000, "reset")  # not a liquidation copy: no effect on liquidations
    o.up(a, T0 + 22_000)
    assert o.complete(T0 + 500, T0 + 60_000)
    assert [c.live for c in o.copies([a, b, trades])] == [True, True]
    o.down(a, T0 + 30_000, "reset")
    o.down(b, T0 + 31_000, "reset")
    assert [c.live for c in o.copies([a, b])] == [False, False]
    o.up(b, T0 + 33_000)
    gaps = o.liquidation_gaps(T0 + 500, T0 + 60_000)
    assert [(g.kind, g.start_ms, g.end_ms) for g in gaps] == [("liquidations", T0 + 31_000, T0 + 33_000)]
    assert o.complete(T0 + 33_000, T0 + 60_000) and o.complete(T0 + 500, T0 + 31_000)
    assert not o.complete(T0 + 32_999, T0 + 33_001)


def test_the_process_downtime_and_earlier_outages_count() -> None:
    past = [Span("liquidations", T0 + 1000, T0 + 2000, "both down"), Span("connection", T0, T0 + 9000, "x", 4)]
    o = Outages(None, T0 + 100_000, history_start_ms=T0, stopped_ms=T0 + 50_000, past=past)
    o.up(_conn(1, "!forceOrder@arr"), T0 + 101_000)
    assert [(g.kind, g.start_ms, g.end_ms) for g in o.liquidation_gaps(T0, T0 + 200_000)] == [
        ("liquidations", T0 + 1000, T0 + 2000),
        ("process", T0 + 50_000, T0 + 101_000),
    ]
    assert o.complete(T0 + 2000, T0 + 50_000) and o.complete(T0 + 101_000, T0 + 102_000)
    assert not o.complete(T0 - 1, T0 + 10)  # before the history began
    o.close(T0 + 300_000)
