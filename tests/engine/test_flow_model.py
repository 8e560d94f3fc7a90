"""Property test: the engine's flow windows equal a brute-force reference after every step.

Random trades (ids consecutive, times non-decreasing) arrive as WebSocket frames and REST bodies, with duplicates,
bounded reordering, ids held back and backfilled much later (gaps, then fills), and abandoned gaps. After every
step every sliding window, every aligned interval, the candle series, the ``complete``/``abandoned`` flags and the
open gaps equal the reference (``tests/flow_reference.py``) to the last digit, on spot, USD-M and COIN-M (where the
quote volume is contracts x contract size).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tapeflow
from tests.engine.flow_reference import Model, Trade, edge_step_ms, rest_body, sliding_span

SYM = "PAIRUSDT"
HORIZONS = {"1s": 1_000, "5s": 5_000, "1m": 60_000, "20m": 1_200_000}
INTERVALS = {"1s": 1_000, "10s": 10_000}
HISTORY = 50


def _decimal(places: int, top: int | str) -> st.SearchStrategy[str]:
    return st.decimals(min_value=Decimal(0), max_value=Decimal(top), places=places, allow_nan=False).map(
        lambda d: format(d, "f")
    )


# Ordinary prices and sizes, BTC-sized prices, and PEPE-sized quantities at tiny prices (notional below 1e14).
PRICE_QTY = st.one_of(
    st.tuples(_decimal(8, 100_000), _decimal(8, 1_000)),
    st.tuples(st.sampled_from(["71273.44000000", "99999.99999999", "123456.7"]), _decimal(5, 50)),
    st.tuples(_decimal(8, "0.001"), _decimal(0, 90_000_000_000)),
)


def _check(engine: tapeflow.Engine, model: Model) -> None:
    clock = max(t.time for t in model.trades.values())
    for name, h in HORIZONS.items():
        v = engine.volume(SYM, name)
        start, end = sliding_span(h, clock)
        assert (v.as_of, v.start_ms, v.end_ms) == (clock, start, end)
        _same(v, model, start, end, clock)
    for name, i in INTERVALS.items():
        start = clock - clock % i
        v = engine.volume(SYM, f"{name}@aligned")
        assert (v.start_ms, v.end_ms) == (start, start + i)
        _same(v, model, start, start + i, clock)
        candles = engine.candles(SYM, name)
        starts = candles["start_ms"].tolist()
        first = min(t.time for t in model.trades.values())
        expected_rows = min(HISTORY + 1, (start - (first - first % i)) // i + 1)
        assert starts == list(range(start - (expected_rows - 1) * i, start + 1, i))
        for row, s in enumerate(starts[-5:]):
            r = len(starts) - min(5, len(starts)) + row
            sums = model.sums(s, s + i)
            assert (candles["buy_count"][r], candles["sell_count"][r]) == (sums.buy_count, sums.sell_count)
            assert bool(candles["complete"][r]) == model.candle_status(s, s + i)[0]
            _same(engine.volume(SYM, f"{name}@aligned", now_ms=s + i - 1), model, s, s + i, s + i - 1)
    assert engine.gaps(SYM) == [(SYM, a, b) for a, b in model.open_gaps()]
    assert engine.last_trade_id(SYM) == max(model.trades)


def _same(v: tapeflow.Volume, model: Model, start: int, end: int, now: int) -> None:
    s = model.sums(start, end)
    x = v.exact()
    assert (x["buy_base"], x["sell_base"], x["buy_quote"], x["sell_quote"]) == (
        s.buy_base,
        s.sell_base,
        s.buy_quote,
        s.sell_quote,
    ), (v, start, end)
    assert x["net_quote"] == s.buy_quote - s.sell_quote
    assert (v.buy_count, v.sell_count) == (s.buy_count, s.sell_count)
    assert (v.complete, v.abandoned) == model.status(start, end, now), (v, start, end, model.holes())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_windows_equal_brute_force_after_every_step(data: st.DataObject) -> None:
    market = data.draw(st.sampled_from(["spot", "usdm", "coinm"]), label="market")
    engine = tapeflow.Engine(market, flow_horizons=list(HORIZONS), flow_intervals=list(INTERVALS), flow_history=HISTORY)
    n = data.draw(st.integers(1, 40), label="n")
    time = 1_700_000_000_000 + data.draw(st.integers(0, 10**7))
    first_id = data.draw(st.integers(0, 10**12))
    trades = []
    for i in range(n):
        time += data.draw(st.sampled_from([0, 1, 999, 1_000, 1_001]) | st.integers(0, 4_000))
        price, qty = data.draw(PRICE_QTY)
        trades.append(Trade(first_id + i, time, price, qty, data.draw(st.booleans())))
    # Arrival plan: (order key, trade index, channel). Most trades arrive live, some a few places late, some are
    # held back and come much later in a REST backfill body; a few arrive twice.
    plan: list[tuple[int, int, str]] = []
    for i in range(n):
        mode = data.draw(st.sampled_from(["live", "live", "live", "late", "held"]))
        delay = {"live": 0, "late": data.draw(st.integers(1, 5)), "held": data.draw(st.integers(5, 80))}[mode]
        plan.append((i + delay, i, "rest" if mode == "held" else "ws"))
        if data.draw(st.integers(0, 7)) == 0:
            plan.append((i + data.draw(st.integers(0, 10)), i, data.draw(st.sampled_from(["ws", "rest"]))))
    plan.sort()
    # COIN-M: contracts of 10 USD (the default for a symbol that is not a BTC contract).
    model = Model(contract_size=Decimal(10) if market == "coinm" else None)
    step = 0
    while step < len(plan):
        channel = plan[step][2]
        size = data.draw(st.integers(1, 4))
        # The next arrivals on one channel, in plan order (a batch never skips an arrival of the other channel).
        group = [plan[step]]
        for arrival in plan[step + 1 : step + size]:
            if arrival[2] != channel:
                break
            group.append(arrival)
        step += len(group)
        batch = [trades[i] for _, i, _ in group]
        if channel == "ws":
            result = engine.apply_frames([t.frame(SYM, market) for t in batch], 0)
            assert not result.errors
            actions = result.actions
        else:
            actions = engine.apply_agg_trades(SYM, rest_body(batch)).actions
        for t in batch:
            model.add(t, streamed=channel == "ws")
        assert all(isinstance(a, tapeflow.TradeGap) for a in actions)
        if channel != "ws":
            # A page is judged as a whole: every id its gaps name is still missing after it.
            missing = {i for lo, hi in model.open_gaps() for i in range(lo, hi + 1)}
            named = {i for a in actions if isinstance(a, tapeflow.TradeGap) for i in range(a.from_id, a.to_id + 1)}
            assert named <= missing
        gaps = model.open_gaps()
        if gaps and data.draw(st.integers(0, 5)) == 0:
            lo, hi = data.draw(st.sampled_from(gaps))
            engine.abandon_gap(SYM, lo, hi)
            model.abandoned.update(range(lo, hi + 1))
        _check(engine, model)
    # Later evaluation times, past the newest trade.
    clock = max(t.time for t in model.trades.values())
    for later in (1, 999, 1_000, 4_999, 59_999, 60_000, 3_600_000):
        for name, h in HORIZONS.items():
            start, end = sliding_span(h, clock + later)
            _same(engine.volume(SYM, name, now_ms=clock + later), model, start, end, clock + later)
    stats = engine.flow_stats()
    assert stats.aggtrades == len(model.trades)
    assert stats.aggtrades + stats.duplicates == len(plan)


@pytest.mark.parametrize(
    ("horizon", "ms", "step"),
    [
        ("15m", 900_000, 1_000),
        ("901s", 901_000, 1_000),
        ("20m", 1_200_000, 10_000),
        ("1h", 3_600_000, 10_000),
        ("4h", 14_400_000, 60_000),
        ("1d", 86_400_000, 600_000),
        ("7d", 604_800_000, 3_600_000),
    ],
)
def test_documented_edge_resolution(horizon: str, ms: int, step: int) -> None:
    engine = tapeflow.Engine("spot", flow_horizons=[horizon], flow_intervals=["1m"])
    engine.apply_frames([Trade(1, 1_767_225_600_000 + 123_456, "1", "1", True).frame(SYM)], 0)
    v = engine.volume(SYM, horizon)
    assert edge_step_ms(ms) == step
    assert (v.start_ms % step, v.end_ms % step, v.end_ms - v.start_ms) == (0, 0, ms)
    assert v.end_ms - step <= v.as_of < v.end_ms


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 200), min_size=1, max_size=60),
    st.integers(0, 10**6),
)
def test_every_missing_id_is_reported_once_as_a_gap(ids: list[int], from_time: int) -> None:
    engine = tapeflow.Engine("spot")
    model = Model(from_time=from_time)
    reported: list[tuple[int, int]] = []
    # A start-time backfill establishes coverage before any trade.
    engine.apply_agg_trades(SYM, b"[]", from_time_ms=from_time)
    for i in ids:
        t = Trade(i, from_time + i * 10, "1", "1", True)
        for a in engine.apply_frame(t.frame(SYM), 0):
            assert isinstance(a, tapeflow.TradeGap) and a.symbol == SYM
            reported.append((a.from_id, a.to_id))
        model.add(t)
        assert engine.gaps() == [(SYM, a, b) for a, b in model.open_gaps()]
        for start in (from_time, from_time + 5, from_time + 1000):
            now = start + 59_999 - 1000
            v = engine.volume(SYM, "1m", now_ms=now)
            assert (v.complete, v.abandoned) == model.status(v.start_ms, v.end_ms, now)
    # Every id missing now was named by a gap action; no id was named twice.
    named = [i for a, b in reported for i in range(a, b + 1)]
    assert len(named) == len(set(named))
    for lo, hi in model.open_gaps():
        assert all(i in named for i in range(lo, hi + 1))
