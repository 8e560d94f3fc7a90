"""Checkpoint drafts: a draft holds the state of the moment it was taken, whatever the engine does before it is
sealed; restored, its windows and liquidation totals equal the brute-force sums of the input up to that moment; a
draft is sealed once; the buffer kept from one checkpoint for the next carries nothing over. A draft written in steps
is the same checkpoint, and any call that changes the engine between two steps voids it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tapeflow import CheckpointError, Engine
from tests.engine.flow_reference import Model, Trade, sliding_span
from tests.engine.liq_reference import Liq, e16_decimal, force_order_frame, total_e16

T0 = 1_767_225_600_000
SYMS = ["AAAUSDT", "BBBUSDT"]
HORIZONS = {"1m": 60_000, "20m": 1_200_000}

# Prices and quantities wide enough that a bucket's notional (e16) passes 64 bits, and small ones.
trade = st.tuples(
    st.sampled_from(SYMS),
    st.integers(0, 4_000),  # ms after the previous event
    st.sampled_from(["0.0001", "1", "70000.12345678", "123456.5"]),
    st.sampled_from(["0.001", "2.5", "1234.5", "99999.99999999"]),
    st.booleans(),
)
liq = st.tuples(st.sampled_from(SYMS), st.integers(0, 3_000), st.sampled_from(["BUY", "SELL"]), st.integers(1, 10**6))


def _engine() -> Engine:
    e = Engine("usdm", flow_horizons=list(HORIZONS), flow_intervals=["1m"], flow_history=30, big_trade=[40.0])
    e.liq_configure(min_events=1)
    return e


class Input:
    """Trades with ascending ids and liquidations, fed to engines and kept for the brute-force sums."""

    def __init__(self) -> None:
        self.time = T0
        self.next_id = {s: 1 for s in SYMS}
        self.models = {s: Model() for s in SYMS}
        self.liqs: list[Liq] = []

    def feed(self, engines: list[Engine], trades: list[tuple[str, int, str, str, bool]], liqs: list[tuple]) -> None:
        frames = []
        for sym, dt, price, qty, buy in trades:
            self.time += dt
            t = Trade(self.next_id[sym], self.time, price, qty, buy)
            self.next_id[sym] += 1
            self.models[sym].add(t)
            frames.append(t.frame(sym, "usdm"))
        for sym, dt, side, qty in liqs:
            self.time += dt
            ev = Liq(sym, self.time, side, 100 * 10**8, qty * 10**4)
            self.liqs.append(ev)
            frames.append(force_order_frame(ev))
        for e in engines:
            assert not e.apply_frames(frames, 0).errors


def _check_against_brute_force(e: Engine, data: Input, now: int) -> None:
    for sym in (s for s in SYMS if data.models[s].trades):
        for name, h in HORIZONS.items():
            start, end = sliding_span(h, now)
            s = data.models[sym].sums(start, end)
            x = e.volume(sym, name, now_ms=now).exact()
            assert (x["buy_base"], x["sell_base"], x["buy_quote"], x["sell_quote"]) == (
                s.buy_base,
                s.sell_base,
                s.buy_quote,
                s.sell_quote,
            )
    for sym in (None, *sorted({x.symbol for x in data.liqs})):
        for side in (None, "long", "short"):
            got = e.liq_total(sym, lookback_ms=10**9, side=side, now_ms=now + 1)
            want = total_e16(data.liqs, sym, side, now + 1 - 10**9, now + 1)
            assert (Decimal(got.notional_exact), got.count) == (e16_decimal(want[0]), want[1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(trade, min_size=1, max_size=60),
    st.lists(liq, max_size=8),
    st.lists(trade, min_size=1, max_size=30),
    st.lists(liq, max_size=4),
)
@example(  # the same liquidation twice counts once
    trades=[("AAAUSDT", 10, "1", "2.5", True)],
    liqs=[("AAAUSDT", 0, "BUY", 1)] * 2,
    later_trades=[("BBBUSDT", 10, "1", "2.5", False)],
    later_liqs=[],
)
def test_a_draft_restores_the_state_it_was_taken_at(
    trades: list[tuple[str, int, str, str, bool]],
    liqs: list[tuple],
    later_trades: list[tuple[str, int, str, str, bool]],
    later_liqs: list[tuple],
) -> None:
    engine, data = _engine(), Input()
    data.feed([engine], trades, liqs)
    now = data.time
    draft = engine.checkpoint_draft()
    # The engine goes on before the draft is sealed: the draft does not see it.
    later = Input()
    later.time, later.next_id = data.time, dict(data.next_id)
    later.feed([engine], later_trades, later_liqs)
    sealed = draft.seal()
    assert len(sealed) == len(draft)
    with pytest.raises(ValueError, match="sealed already"):
        draft.seal()
    restored = _engine()
    assert set(restored.restore(sealed)) == {t[0] for t in trades} | {x[0] for x in liqs}
    _check_against_brute_force(restored, data, now)
    # The engine's next checkpoint is written into the buffer the first one left: the same bytes as a fresh engine
    # fed the same input writes.
    fresh = _engine()
    replay = Input()
    replay.feed([fresh], trades, liqs)
    replay.feed([fresh], later_trades, later_liqs)
    assert engine.checkpoint() == fresh.checkpoint()
    assert engine.checkpoint() == fresh.checkpoint_draft().seal()


def test_a_corrupted_sealed_draft_is_refused() -> None:
    engine, data = _engine(), Input()
    data.feed([engine], [("AAAUSDT", 10, "70000.12345678", "1234.5", True)], [("AAAUSDT", 5, "SELL", 7)])
    sealed = engine.checkpoint_draft().seal()
    for at in (90, len(sealed) // 2, len(sealed) - 1):
        bad = bytearray(sealed)
        bad[at] ^= 0x10
        with pytest.raises(CheckpointError) as info:
            _engine().restore(bytes(bad))
        assert info.value.reason == "corrupt"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(trade, min_size=1, max_size=60),
    st.lists(liq, max_size=8),
    st.lists(st.integers(1, 3), min_size=1, max_size=6),
)
def test_a_draft_in_steps_restores_the_state_and_is_the_whole_draft(
    trades: list[tuple[str, int, str, str, bool]], liqs: list[tuple], sizes: list[int]
) -> None:
    engine, data = _engine(), Input()
    data.feed([engine], trades, liqs)
    now = data.time
    drafter = engine.checkpoint_drafter()
    steps = 0
    while not drafter.step(sizes[steps % len(sizes)]):
        steps += 1
        # Reading the engine between steps leaves the draft valid.
        engine.volumes("1m", now_ms=now)
        engine.liq_total(None, lookback_ms=10**9, now_ms=now + 1)
        engine.last_trade_ids()
    assert steps <= 4  # two symbols in each part, at least one a step
    assert drafter.step()  # complete: nothing more is written
    sealed = drafter.finish().seal()
    with pytest.raises(ValueError, match="finished or void"):
        drafter.step()
    restored = _engine()
    assert set(restored.restore(sealed)) == {t[0] for t in trades} | {x[0] for x in liqs}
    _check_against_brute_force(restored, data, now)
    assert sealed == engine.checkpoint()


CHANGES = {
    "apply_frames": lambda e: e.apply_frames([], 0),
    "apply_frame": lambda e: e.apply_frame(b'{"e":"markPriceUpdate","E":1,"s":"AAAUSDT","p":"1","T":2}', 0),
    "track": lambda e: e.track("CCCUSDT"),
    "restore": lambda e: e.restore(e.checkpoint()),
    "set_mark_price": lambda e: e.set_mark_price("AAAUSDT", "101.5"),
    "reset_books": lambda e: e.reset_books(),
    "begin_check": lambda e: e.begin_check("AAAUSDT"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_between_steps_voids_the_draft(change: Any) -> None:
    engine, data = _engine(), Input()
    data.feed([engine], [("AAAUSDT", 10, "1", "2.5", True), ("BBBUSDT", 10, "1", "0.001", False)], [])
    drafter = engine.checkpoint_drafter()
    assert not drafter.step(1)
    with pytest.raises(ValueError, match="not complete"):
        drafter.finish()
    change(engine)
    with pytest.raises(CheckpointError) as info:
        drafter.step(1)
    assert info.value.reason == "changed"
    with pytest.raises(ValueError, match="finished or void"):
        drafter.finish()
    # A new draft of the changed engine is whole.
    again = engine.checkpoint_drafter()
    while not again.step(1):
        pass
    assert again.finish().seal() == engine.checkpoint()


def test_a_draft_sealed_into_an_array_holds_the_checkpoint_bytes() -> None:
    engine, data = _engine(), Input()
    data.feed([engine], [("AAAUSDT", 10, "70000.12345678", "1234.5", True)], [("AAAUSDT", 5, "SELL", 7)])
    draft = engine.checkpoint_draft()
    array = draft.seal_buffer()
    assert array.dtype == "uint8" and array.ndim == 1 and len(array) == len(draft)
    assert bytes(array) == engine.checkpoint()
    for seal in (draft.seal, draft.seal_buffer):
        with pytest.raises(ValueError, match="sealed already"):
            seal()
