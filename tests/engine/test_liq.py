"""Liquidations through the Python API: exact totals/series against brute force, clusters against NumPy."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tapeflow
from tapeflow import DecodeError, Engine
from tests.engine.liq_reference import (
    Liq,
    clusters,
    distinct,
    e16_decimal,
    force_order_frame,
    kept,
    mark_price_array,
    total_e16,
)

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]

liqs = st.lists(
    st.builds(
        Liq,
        symbol=st.sampled_from(SYMBOLS),
        time=st.integers(1_700_000_000_000, 1_700_000_400_000),
        order_side=st.sampled_from(["BUY", "SELL"]),
        price_e8=st.integers(10**6, 10**14),
        qty_e8=st.integers(1, 10**12),
    ),
    max_size=60,
)


def feed(events: list[Liq], **config: float) -> Engine:
    eng = Engine("usdm")
    eng.liq_configure(**config)  # type: ignore[arg-type]
    result = eng.apply_frames([force_order_frame(e) for e in events], 0)
    assert result.errors == []
    return eng


@settings(max_examples=60, deadline=None)
@given(
    events=liqs,
    retention=st.integers(1, 500_000),
    lookback=st.integers(1, 500_000),
    now_off=st.integers(-50_000, 50_000),
    interval=st.integers(1, 120_000),
    symbol=st.sampled_from([None, *SYMBOLS]),
    side=st.sampled_from([None, "long", "short"]),
    tie=st.booleans(),
)
def test_totals_and_series_equal_brute_force(
    events: list[Liq],
    retention: int,
    lookback: int,
    now_off: int,
    interval: int,
    symbol: str | None,
    side: str | None,
    tie: bool,
) -> None:
    if tie and events and max(e.time for e in events) > events[0].time:
        retention = max(e.time for e in events) - events[0].time  # the boundary falls exactly on an event
    eng = feed(events, retention_ms=retention)
    ref = kept(events, retention)
    now = max((e.time for e in events), default=0) + now_off
    start, end = now - lookback + 1, now + 1
    total = eng.liq_total(symbol, lookback_ms=lookback, side=side, now_ms=now)
    notional, count = total_e16(ref, symbol, side, start, end)
    assert (Decimal(total.notional_exact), total.count) == (e16_decimal(notional), count)
    assert (total.start_ms, total.end_ms) == (start, end)
    starts, series, counts = eng.liq_series(symbol, lookback_ms=lookback, interval_ms=interval, side=side, now_ms=now)
    assert starts.dtype == np.int64 and series.dtype == np.float64 and counts.dtype == np.int64
    assert np.all(starts % interval == 0)
    assert starts[0] <= start < starts[0] + interval and starts[-1] < end <= starts[-1] + interval
    for b, got, c in zip(starts.tolist(), series.tolist(), counts.tolist(), strict=True):
        want, want_count = total_e16(ref, symbol, side, max(b, start), min(b + interval, end))
        assert c == want_count
        assert got == pytest.approx(want / 1e16, rel=1e-12, abs=1e-300)


@settings(max_examples=60, deadline=None)
@given(
    events=liqs,
    bin_pct=st.floats(0.01, 5.0),
    tau=st.floats(1_000.0, 1e6),
    age=st.integers(0, 200_000),
    min_events=st.integers(1, 3),
)
def test_clusters_match_numpy_reference(
    events: list[Liq], bin_pct: float, tau: float, age: int, min_events: int
) -> None:
    eng = feed(events, bin_pct=bin_pct, tau_ms=tau, min_events=min_events)
    now = max((e.time for e in events), default=0) + age
    for symbol in SYMBOLS:
        got = eng.liq_clusters(symbol, now_ms=now)
        want = clusters(events, symbol, now, bin_pct=bin_pct, tau_ms=tau, min_events=min_events)
        assert [c.bin for c in got] == [w.bin for w in want]
        for g, w in zip(got, want, strict=True):
            assert g.count == w.count
            assert g.notional == pytest.approx(w.notional, rel=1e-12)
            assert g.decayed_long == pytest.approx(w.decayed_long, rel=1e-9, abs=1e-300)
            assert g.decayed_short == pytest.approx(w.decayed_short, rel=1e-9, abs=1e-300)
            assert g.price == pytest.approx(w.price, rel=1e-9)
            assert g.strength == pytest.approx(w.strength, rel=1e-9, abs=1e-12)
            assert g.side == ("long" if g.decayed_long > g.decayed_short else "short") or (
                g.decayed_long == g.decayed_short
            )
        arrays = eng.liq_cluster_arrays(symbol, now_ms=now)
        assert arrays["bin"].tolist() == [w.bin for w in want]
        assert arrays["decayed"] == pytest.approx([c.decayed for c in got], rel=1e-15)
        assert arrays["side"].tolist() == [0 if c.side == "long" else 1 for c in got]
        # Mass is conserved across bins (with min_events=1 every event is in some cluster).
        if min_events == 1:
            exact = sum(e.notional_e16 for e in distinct(events) if e.symbol == symbol)
            assert sum(Decimal(c.notional_exact) for c in got) == e16_decimal(exact)
        # Decay is monotone in time.
        later = eng.liq_clusters(symbol, now_ms=now + 1000)
        assert all(b.decayed <= a.decayed for a, b in zip(got, later, strict=True))


@pytest.mark.parametrize(("minutes", "share"), [(60, 0.37), (30, 0.61), (5, 0.92)])
def test_decay_rule_worked_numbers(minutes: int, share: float) -> None:
    eng = feed([Liq("BTCUSDT", 0, "SELL", 100 * 10**8, 10**8)], tau_ms=3_600_000.0, min_events=1)
    (c,) = eng.liq_clusters("BTCUSDT", now_ms=minutes * 60_000)
    assert c.decayed / c.notional == pytest.approx(math.exp(-minutes / 60))
    assert round(c.decayed / c.notional, 2) == share


def test_half_life_sets_tau() -> None:
    eng = Engine("usdm")
    eng.liq_configure(half_life_ms=600_000.0)
    assert eng.liq_config()["tau_ms"] == pytest.approx(600_000.0 / math.log(2))
    with pytest.raises(ValueError):
        eng.liq_configure(tau_ms=1.0, half_life_ms=1.0)
    with pytest.raises(ValueError):
        eng.liq_configure(bin_pct=0.0)


@settings(max_examples=40, deadline=None)
@given(events=liqs, interval=st.integers(1_000, 200_000), bin_pct=st.floats(0.05, 10.0))
def test_heatmap_mass_equals_totals(events: list[Liq], interval: int, bin_pct: float) -> None:
    eng = feed(events)
    now = max((e.time for e in events), default=0)
    for symbol in SYMBOLS:
        grid, edges, times = eng.liq_heatmap(symbol, lookback_ms=500_000, interval_ms=interval, bin_pct=bin_pct)
        assert grid.shape == (2, max(len(edges) - 1, 0), len(times))
        assert np.all(np.diff(edges) > 0) and np.all(times % interval == 0)
        for i, side in enumerate(["long", "short"]):
            want = eng.liq_total(symbol, lookback_ms=500_000, side=side, now_ms=now).notional
            assert grid[i].sum() == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_notional_side_and_fallback() -> None:
    eng = Engine("usdm")
    a = Liq("BTCUSDT", 1000, "SELL", 9_911_50_000_000, 1_400_000)
    b = Liq("BTCUSDT", 2000, "BUY", 2_000 * 10**8, 150_000_000)
    first, second = eng.apply_frames(
        [force_order_frame(a, combined=True), force_order_frame(b, ap_zero=True)], 0
    ).actions
    assert isinstance(first, tapeflow.Liquidation) and isinstance(second, tapeflow.Liquidation)
    assert (first.side, first.order_side, first.notional_exact) == ("long", "SELL", "138.761")
    assert (second.side, second.order_side, second.notional_exact) == ("short", "BUY", "3000")
    match first:
        case tapeflow.Liquidation("BTCUSDT", 1000, _, "long", "SELL", price, qty):
            assert (price, qty) == (9911.5, 0.014)
        case _:
            pytest.fail(repr(first))
    # Each kept liquidation is reported once, with the batch that carried it.
    assert eng.apply_frames([mark_price_array({"BTCUSDT": "100"}, 5000)], 0).actions == []


def test_merged_all_market_stream_keeps_markets_apart() -> None:
    um, cm = Engine("usdm"), Engine("coinm")
    cm.set_contract_size("BTCUSD_PERP", "100")
    frames = [
        force_order_frame(Liq("BTCUSDT", 1000, "SELL", 60_000 * 10**8, 10**8), st=1),
        force_order_frame(Liq("BTCUSD_PERP", 1000, "SELL", 60_000 * 10**8, 5 * 10**8), st=2),
        force_order_frame(Liq("ETHUSD_211231", 1000, "BUY", 3_000 * 10**8, 10**8)),
    ]
    for eng in (um, cm):
        assert eng.apply_frames(frames, 0).errors == []
    assert um.liq_total(lookback_ms=10_000).notional_exact == "60000"
    assert (um.liq_stats().kept, um.liq_stats().foreign) == (1, 2)
    # COIN-M: 5 contracts x 100 USD; the delivery contract has no size set: price x contracts.
    assert cm.liq_total("BTCUSD_PERP", lookback_ms=10_000).notional_exact == "500"
    assert (cm.liq_stats().kept, cm.liq_stats().foreign) == (2, 1)


def test_mark_price_feeds_distance_and_best_cluster() -> None:
    eng = feed(
        [Liq("BTCUSDT", t, "SELL", 101 * 10**8, 10**8) for t in (1000, 2000)]
        + [Liq("BTCUSDT", 3000, "BUY", 90 * 10**8, 10**7)],
        min_events=1,
    )
    assert eng.best_cluster("BTCUSDT") is not None
    assert eng.best_cluster("BTCUSDT").distance_pct is None  # type: ignore[union-attr]
    eng.apply_frames([mark_price_array({"BTCUSDT": "100.00000000"}, 5000)], 0)
    assert eng.mark_price("BTCUSDT") == (100.0, 5000)
    best = eng.best_cluster("BTCUSDT", 0.5)
    assert best is not None and best.side == "long" and best.count == 2
    assert best.distance_pct == pytest.approx(1.0)
    assert eng.best_cluster("BTCUSDT", 0.5, "short") is None
    short = eng.best_cluster("BTCUSDT", 0.0, "short")
    assert short is not None and short.distance_pct == pytest.approx(-10.0)
    eng.set_mark_price("BTCUSDT", "90")
    assert eng.best_cluster("BTCUSDT", 0.0, "short").distance_pct == pytest.approx(0.0)  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        eng.best_cluster("BTCUSDT", 0.0, "up")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"z":"1.00000000",', b""),
        (b'"o":{', b'"x":{'),
        (b'"ap":"101.00000000"', b'"ap":"1e2"'),
        (b'"T":5000}', b'"T":"5000"}'),
        (b"}}", b"}"),
        (b'"S":"SELL"', b'"S":5'),
    ],
)
def test_malformed_frames_raise_and_change_nothing(old: bytes, new: bytes) -> None:
    eng = feed([Liq("BTCUSDT", 1000, "SELL", 101 * 10**8, 10**8)])
    before = (eng.liq_stats(), eng.liq_total(lookback_ms=10**9).notional_exact)
    bad = force_order_frame(Liq("BTCUSDT", 5000, "SELL", 101 * 10**8, 10**8)).replace(old, new, 1)
    with pytest.raises(DecodeError):
        eng.apply_frame(bad, 0)
    (err,) = eng.apply_frames([bad], 0).errors
    assert isinstance(err, DecodeError) and err.index == 0
    assert (eng.liq_stats(), eng.liq_total(lookback_ms=10**9).notional_exact) == before
