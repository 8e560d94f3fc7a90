"""Engine state as a whole through the Python API: checkpoints and their restore, last trade ids, closed intervals
(against the brute-force flow reference), repeated liquidations counted once, the grace rule of ``complete``, and
the memory report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tapeflow
from tapeflow import CheckpointError, Engine, TapeflowError
from tests.engine.flow_reference import Model, Trade, rest_body
from tests.engine.liq_reference import Liq, e16_decimal, force_order_frame, mark_price_array, total_e16

T0 = 1_767_225_600_000
SYMS = ["AAAUSDT", "BBBUSDT"]
HORIZONS = ["5s", "1m", "20m"]
INTERVALS = ["10s", "1m"]


def _engine() -> Engine:
    e = Engine("usdm", flow_horizons=HORIZONS, flow_intervals=INTERVALS, flow_history=20, big_trade=[40.0])
    e.liq_configure(min_events=1)
    return e


def _columns(d: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in d.items()}


def _answers(e: Engine) -> dict[str, Any]:
    """Every flow and liquidation answer of ``e`` that is state (NaN made comparable)."""
    out: dict[str, Any] = {"ids": e.last_trade_ids(), "gaps": e.gaps(), "symbols": e.flow_stats().symbols}
    for window in [*HORIZONS, *(f"{i}@aligned" for i in INTERVALS)]:
        for now in (None, T0 + 30_000, T0 + 90_000, T0 + 400_000):
            out[f"volumes {window} {now}"] = _columns(e.volumes(window, now_ms=now))
    for sym in e.last_trade_ids():
        for i in INTERVALS:
            out[f"candles {sym} {i}"] = _columns(e.candles(sym, i))
    for i in INTERVALS:
        out[f"closed {i}"] = e.closed_intervals(i, 0)
    for sym in (None, *SYMS):
        t = e.liq_total(sym, lookback_ms=10**9, now_ms=T0 + 10**6)
        out[f"liq {sym}"] = (t.notional_exact, t.count)
        out[f"series {sym}"] = [a.tolist() for a in e.liq_series(sym, lookback_ms=10**6, interval_ms=7_000)]
    for sym in SYMS:
        out[f"clusters {sym}"] = _columns(e.liq_cluster_arrays(sym))
        out[f"heatmap {sym}"] = [a.tolist() for a in e.liq_heatmap(sym, lookback_ms=10**6, interval_ms=5_000)]
        out[f"mark {sym}"] = e.mark_price(sym)
    return _nan_safe(out)


def _nan_safe(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return "nan"
    if isinstance(v, dict):
        return {k: _nan_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_nan_safe(x) for x in v]
    return v


step = st.one_of(
    st.tuples(st.just("trade"), st.sampled_from(SYMS), st.integers(1, 40), st.integers(0, 3_000), st.booleans()),
    st.tuples(st.just("page"), st.sampled_from(SYMS), st.lists(st.integers(1, 40), max_size=5)),
    st.tuples(st.just("abandon"), st.sampled_from(SYMS), st.integers(1, 40), st.integers(0, 3)),
    st.tuples(st.just("liq"), st.sampled_from(SYMS), st.sampled_from(["BUY", "SELL"]), st.integers(0, 2_000)),
    st.tuples(st.just("repeat"), st.integers(0, 5)),
    st.tuples(st.just("mark"), st.sampled_from(SYMS), st.integers(90, 110)),
)


class Feeder:
    """Applies random steps to several engines alike."""

    def __init__(self) -> None:
        self.time = T0
        self.liqs: list[bytes] = []

    def feed(self, engines: list[Engine], steps: list[tuple[Any, ...]]) -> None:
        for s in steps:
            frames: list[bytes] = []
            if s[0] == "trade":
                self.time += s[3]
                frames.append(Trade(s[2], self.time, "10.5", "3", s[4]).frame(s[1], "usdm"))
            elif s[0] == "liq":
                self.time += s[3]
                frame = force_order_frame(Liq(s[1], self.time, s[2], 100 * 10**8, 2 * 10**8))
                self.liqs.append(frame)
                frames.append(frame)
            elif s[0] == "repeat" and self.liqs:
                frames.append(self.liqs[-1 - s[1] % len(self.liqs)])
            elif s[0] == "mark":
                frames.append(mark_price_array({s[1]: str(s[2])}, self.time))
            for e in engines:
                if s[0] == "page":
                    e.apply_agg_trades(s[1], rest_body([Trade(i, self.time - 500, "10", "2", False) for i in s[2]]))
                elif s[0] == "abandon" and s[1] in e.last_trade_ids():
                    e.abandon_gap(s[1], s[2], s[2] + s[3])
                elif frames:
                    assert not e.apply_frames(frames, 0).errors


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=40), st.lists(step, max_size=25))
def test_a_restored_engine_answers_and_goes_on_as_the_original(
    before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]
) -> None:
    original, feeder = _engine(), Feeder()
    feeder.feed([original], before)
    data = original.checkpoint()
    restored = _engine()
    symbols = restored.restore(data)
    assert set(symbols) >= set(original.last_trade_ids()) and set(symbols) <= set(SYMS)
    assert _answers(restored) == _answers(original)
    assert restored.checkpoint() == data
    feeder.feed([original, restored], after)
    assert _answers(restored) == _answers(original)


def _busy() -> Engine:
    e = _engine()
    e.apply_frames([Trade(1, T0, "10", "1", True).frame("AAAUSDT", "usdm")], 0)
    e.apply_frames([force_order_frame(Liq("AAAUSDT", T0 + 5, "SELL", 10**10, 10**8))], 0)
    return e


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        pytest.param(lambda d: b"PK\x03\x04" + d, "not_a_checkpoint", id="not_a_checkpoint"),
        pytest.param(lambda d: d[:8] + b"\xff\x00" + d[10:], "newer_version", id="newer_version"),
        pytest.param(lambda d: d[:-1] + bytes([d[-1] ^ 0x40]), "corrupt", id="flipped_bit"),
        pytest.param(lambda d: d[: len(d) // 2], "corrupt", id="truncated"),
    ],
)
def test_a_bad_checkpoint_is_refused_with_its_reason_and_changes_nothing(mangle: Any, reason: str) -> None:
    target = _engine()
    target.apply_frames([Trade(5, T0, "2", "1", False).frame("BBBUSDT", "usdm")], 0)
    before = target.checkpoint()
    with pytest.raises(CheckpointError) as info:
        target.restore(mangle(_busy().checkpoint()))
    assert info.value.reason == reason
    assert isinstance(info.value, TapeflowError) and isinstance(info.value, ValueError)
    assert target.checkpoint() == before
    assert target.last_trade_ids() == {"BBBUSDT": 5}


def test_another_market_or_other_windows_are_refused_with_a_clear_message() -> None:
    data = _busy().checkpoint()
    with pytest.raises(CheckpointError, match="usdm") as info:
        Engine("coinm", flow_horizons=HORIZONS, flow_intervals=INTERVALS, flow_history=20, big_trade=[40.0]).restore(
            data
        )
    assert info.value.reason == "market"
    with pytest.raises(CheckpointError, match="horizons=5s,1m,20m") as info:
        Engine("usdm").restore(data)
    assert info.value.reason == "config"
    assert _engine().restore(data) == ["AAAUSDT"]


def test_closed_intervals_equal_the_brute_force_reference() -> None:
    model = Model()
    e = _engine()
    trades = [Trade(i, T0 + t, "10.25", q, i % 3 != 0) for i, t, q in [(7, 100, "1"), (8, 9_999, "2.5")]]
    trades += [Trade(9 + k, T0 + 10_000 + 1_337 * k, "9.5", "0.001", k % 2 == 0) for k in range(40)]
    trades.append(Trade(60, T0 + 95_000, "11", "3", True))  # ids 49..59 missing: a gap
    for t in trades:
        e.apply_frames([t.frame("AAAUSDT", "usdm")], 0)
        model.add(t)
    for name, size in (("10s", 10_000), ("1m", 60_000)):
        cols = e.closed_intervals(name, T0 + size)
        assert set(cols) >= {"symbol", "start_ms", "first_id", "last_id", "complete", "abandoned"}
        assert all(len(v) == len(cols["symbol"]) for v in cols.values())
        expected_starts = list(range(T0 + size, T0 + 95_000 - size + 1, size))
        assert cols["start_ms"] == expected_starts
        for row, start in enumerate(expected_starts):
            s = model.sums(start, start + size)
            got = {k: cols[k][row] for k in cols}
            assert (Decimal(got["buy_base"]), Decimal(got["sell_base"])) == (s.buy_base, s.sell_base)
            assert (Decimal(got["buy_quote"]), Decimal(got["sell_quote"])) == (s.buy_quote, s.sell_quote)
            assert (got["buy_count"], got["sell_count"]) == (s.buy_count, s.sell_count)
            ids = [t.id for t in model.trades.values() if start <= t.time < start + size]
            assert (got["first_id"], got["last_id"]) == ((min(ids), max(ids)) if ids else (None, None))
            assert (got["complete"], got["abandoned"]) == model.status(start, start + size)
            assert got["symbol"] == "AAAUSDT"


def test_the_same_liquidations_applied_twice_interleaved_give_the_totals_of_once() -> None:
    events = [
        Liq(SYMS[k % 2], T0 + 1_000 * (k // 3), ["BUY", "SELL"][k % 3 % 2], (100 + k) * 10**8, 10**8) for k in range(9)
    ]
    frames = [force_order_frame(ev) for ev in events]
    once, twice = _engine(), _engine()
    kept_once = once.apply_frames(frames, 0).actions
    a, b = frames[:5], frames[5:]
    first = twice.apply_frames([*a, *b[:2], *a[:3]], 0).actions
    second = twice.apply_frames([*frames, *b], 0).actions
    # One action per event, at its first arrival: 7 distinct in the first batch, the 2 others in the second.
    assert (len(kept_once), len(first), len(second)) == (9, 7, 2)
    assert [x.time_ms for x in first + second] == [x.time_ms for x in kept_once[:5] + kept_once[5:7] + kept_once[7:]]
    assert all(isinstance(x, tapeflow.Liquidation) for x in first + second)
    assert twice.liq_stats().duplicates == 3 + 7 + 4
    for sym in (None, *SYMS):
        for side in (None, "long", "short"):
            got = twice.liq_total(sym, lookback_ms=10**6, side=side, now_ms=T0 + 10_000)
            want = total_e16(events, sym, side, T0 - 10**6 + 10_001, T0 + 10_001)
            assert (Decimal(got.notional_exact), got.count) == (e16_decimal(want[0]), want[1])


def test_a_clock_far_ahead_of_everything_heard_gets_no_complete_window() -> None:
    e = _engine()
    model = Model(from_time=T0)
    e.apply_agg_trades("AAAUSDT", b"[]", from_time_ms=T0)
    for i in range(1, 30):
        t = Trade(i, T0 + 700 * i, "1", "1", True)
        e.apply_frames([t.frame("AAAUSDT", "usdm")], 0)
        model.add(t)
    heard = T0 + 700 * 29
    for now in (heard, heard + 60_000, heard + 60_001, heard + 340 * 86_400_000):
        for window in ("5s", "1m"):
            v = e.volume("AAAUSDT", window, now_ms=now)
            assert (v.complete, v.abandoned) == model.status(v.start_ms, v.end_ms, now)
    assert not e.volume("AAAUSDT", "1m", now_ms=heard + 340 * 86_400_000).complete
    # Events of any stream move the heard-until clock: a mark price ten minutes later.
    e.apply_frames([mark_price_array({"AAAUSDT": "1"}, heard + 600_000)], 0)
    model.hear(heard + 600_000)
    v = e.volume("AAAUSDT", "1m", now_ms=heard + 600_000)
    assert v.complete and v.buy_count == 0
    assert (v.complete, v.abandoned) == model.status(v.start_ms, v.end_ms, heard + 600_000)


def test_memory_and_last_trade_ids() -> None:
    e = _busy()
    m = e.memory()
    assert set(m) == {"flow", "liq", "books", "total"}
    assert m["total"] == m["flow"] + m["liq"] + m["books"] and m["flow"] > 0 and m["liq"] > 0
    assert e.last_trade_ids() == {"AAAUSDT": 1}
    assert Engine("spot").last_trade_ids() == {}
