"""The trade-flow surface of ``tapeflow.Engine``: types, arrays, errors, markets and extreme values."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest

import tapeflow
from tests.engine.flow_reference import Trade, rest_body, sliding_span


def _frames(symbol: str, trades: list[Trade], market: str = "spot") -> list[bytes]:
    return [t.frame(symbol, market) for t in trades]


def test_volume_is_a_frozen_result_with_exact_values() -> None:
    engine = tapeflow.Engine("spot")
    trades = [
        Trade(1, 1_000, "71273.44000000", "0.00100000", True),
        Trade(2, 1_500, "71273.45", "0.5", False),
    ]
    engine.apply_frames(_frames("BTCUSDT", trades), 0)
    v = engine.volume("btcusdt", "15m")
    assert isinstance(v, tapeflow.Volume)
    assert (v.symbol, v.window, v.as_of, v.start_ms, v.end_ms) == ("BTCUSDT", "15m", 1_500, 2_000 - 900_000, 2_000)
    assert (v.buy_count, v.sell_count, v.big_buy_count, v.big_sell_count) == (1, 1, 0, 0)
    assert v.buy_base == pytest.approx(0.001) and v.sell_quote == pytest.approx(35636.725)
    x = v.exact()
    assert x["buy_quote"] == Decimal("71.27344") and x["sell_quote"] == Decimal("35636.725")
    assert x["net_quote"] == Decimal("71.27344") - Decimal("35636.725")
    assert x["vwap"] == (Decimal("71.27344") + Decimal("35636.725")) / Decimal("0.501")
    assert v.vwap == pytest.approx(float(x["vwap"]))
    assert not v.complete, "trades before the first one may be missing"
    with pytest.raises(AttributeError):
        v.buy_base = 1.0  # type: ignore[misc]
    assert "BTCUSDT" in repr(v)


def test_volumes_returns_one_row_per_symbol_for_ranking() -> None:
    engine = tapeflow.Engine("usdm")
    engine.apply_frames(_frames("AAAUSDT", [Trade(1, 1_000, "2", "10", True)], "usdm"), 0)
    engine.apply_frames(_frames("BBBUSDT", [Trade(7, 2_000, "3", "10", False)], "usdm"), 0)
    got = engine.volumes("15m")
    assert got["symbol"].tolist() == ["AAAUSDT", "BBBUSDT"]
    assert got["symbol"].dtype == object
    assert got["net_quote"].tolist() == [20.0, -30.0]
    assert got["buy_count"].dtype == np.int64 and got["complete"].dtype == np.bool_
    for key in ("buy_quote", "sell_quote", "buy_base", "sell_base", "vwap", "sell_count"):
        assert got[key].shape == (2,)
    order = np.argsort(-got["net_quote"])
    assert got["symbol"][order].tolist() == ["AAAUSDT", "BBBUSDT"]
    # The default `now` is the newest trade of any symbol: AAA's trade at 1 s is out of a 1 s window at 2 s.
    assert engine.volumes("1m")["buy_count"].tolist() == [1, 0]
    assert engine.volume("AAAUSDT", "1m").as_of == 2_000


def test_tracked_symbols_without_trades_report_zero_incomplete_volume() -> None:
    engine = tapeflow.Engine("usdm")
    engine.track("ethusdt")
    engine.apply_frames(_frames("BTCUSDT", [Trade(1, 1_000, "2", "10", True)], "usdm"), 0)
    v = engine.volume("ETHUSDT", "15m")
    assert (v.buy_count, v.sell_count, v.complete, v.as_of) == (0, 0, False, 1_000)
    assert np.isnan(v.vwap)
    assert engine.volumes("15m")["symbol"].tolist() == ["ETHUSDT", "BTCUSDT"]
    assert engine.candles("ETHUSDT", "1m")["start_ms"].tolist() == []
    assert engine.last_trade_id("ETHUSDT") is None


def test_candles_are_oldest_first_arrays() -> None:
    engine = tapeflow.Engine("spot", flow_intervals=("1m",), flow_history=3)
    trades = [Trade(i, i * 60_000 + 5, "1", "1", i % 2 == 0) for i in range(1, 7)]
    engine.apply_frames(_frames("X", trades), 0)
    c = engine.candles("X", "1m")
    assert c["start_ms"].tolist() == [180_000, 240_000, 300_000, 360_000]
    assert c["buy_count"].tolist() == [0, 1, 0, 1] and c["sell_count"].tolist() == [1, 0, 1, 0]
    # Trades known since 60.006 s; the last interval is in progress (nothing heard past its end): not complete.
    assert c["complete"].tolist() == [True, True, True, False]
    assert engine.candles("X", "1m@aligned", count=2)["start_ms"].tolist() == [300_000, 360_000]
    with pytest.raises(ValueError, match="not configured"):
        engine.candles("X", "5m")


def test_rest_backfill_fills_a_gap_and_completes_the_windows() -> None:
    engine = tapeflow.Engine("spot")
    live = [Trade(100, 1_000_000, "1", "1", True), Trade(105, 1_030_000, "1", "2", False)]
    actions = engine.apply_frames(_frames("X", live), 0).actions
    match actions:
        case [tapeflow.TradeGap("X", 101, 104)]:
            pass
        case _:
            pytest.fail(repr(actions))
    assert engine.gaps() == [("X", 101, 104)]
    missing = [Trade(i, 1_010_000 + i, "1", "1", True) for i in range(101, 105)]
    assert engine.apply_agg_trades("X", rest_body(missing[:2])).actions == []
    assert engine.gaps("X") == [("X", 103, 104)]
    # Overlapping backfill: the ids counted before are ignored.
    page = engine.apply_agg_trades("X", rest_body(missing))
    assert (page.actions, page.rows, page.counted, page.first_id, page.last_id) == ([], 4, 2, 101, 104)
    assert engine.gaps() == []
    v = engine.volume("X", "1m", now_ms=1_061_000)
    assert (v.buy_count, v.sell_count, v.complete) == (4, 1, True)
    stats = engine.flow_stats()
    assert (stats.aggtrades, stats.duplicates, stats.gaps, stats.gaps_filled) == (6, 2, 1, 1)
    assert stats.late == 4 and stats.rest_bodies == 2


def test_start_time_backfill_sets_coverage_and_abandon_marks_windows() -> None:
    engine = tapeflow.Engine("spot")
    body = rest_body([Trade(1, 60_500, "1", "1", True), Trade(2, 61_000, "1", "1", True)])
    engine.apply_agg_trades("X", body, from_time_ms=60_000)
    assert engine.volume("X", "1m@aligned").complete
    engine.apply_frames(_frames("X", [Trade(9, 119_000, "1", "1", False)]), 0)
    v = engine.volume("X", "1m@aligned", now_ms=60_000)
    assert (v.complete, v.abandoned) == (False, False)
    engine.abandon_gap("X", 3, 8)
    assert engine.gaps() == []
    v = engine.volume("X", "1m@aligned", now_ms=60_000)
    assert (v.complete, v.abandoned) == (False, True)
    with pytest.raises(tapeflow.UnknownSymbolError):
        engine.abandon_gap("NOPE", 1, 2)
    with pytest.raises(ValueError):
        engine.abandon_gap("X", 5, 4)


def test_huge_big_trade_thresholds_are_kept_exactly() -> None:
    # 2e11 x 1e8 is past i64: a threshold that large must not be clamped to ~9.2e10 (a 1e11 trade is below it).
    engine = tapeflow.Engine("usdm", big_trade=[2e11])
    frame = (
        b'{"stream":"x@aggTrade","data":{"e":"aggTrade","E":1,"s":"XUSDT","a":1,"p":"100000","q":"1000000",'
        b'"f":1,"l":1,"T":1000,"m":false}}'
    )
    result = engine.apply_frames([frame], 0)
    assert not result.errors and not [a for a in result.actions if isinstance(a, tapeflow.BigTrade)]


def test_big_trades_are_reported_once_and_counted_per_threshold() -> None:
    engine = tapeflow.Engine("usdm", big_trade=[1_000_000.0, 100_000.0])
    trades = [
        Trade(1, 1_000, "50000", "2", True),  # 100,000: the smaller threshold
        Trade(2, 1_000, "50000", "20", False),  # 1,000,000: both
        Trade(3, 1_000, "50000", "1.99999999", True),  # just below
    ]
    frames = _frames("BTCUSDT", trades, "usdm")
    actions = engine.apply_frames([*frames, frames[1]], 0).actions
    big = [
        (a.trade_id, a.side, a.notional, a.price, a.qty, a.time_ms, a.price_exact, a.qty_exact, a.notional_exact)
        for a in actions
        if isinstance(a, tapeflow.BigTrade)
    ]
    assert len(big) == len(actions)
    assert big == [
        (1, "buy", 100_000.0, 50_000.0, 2.0, 1_000, "50000", "2", "100000"),
        (2, "sell", 1_000_000.0, 50_000.0, 20.0, 1_000, "50000", "20", "1000000"),
    ]
    v = engine.volume("BTCUSDT", "1m")
    assert (v.big_buy_count, v.big_sell_count) == (1, 1)
    assert (v.big_buy_counts, v.big_sell_counts) == ([1, 0], [1, 1])
    assert engine.flow_stats().big_trades == 2


def test_coin_m_quote_volume_is_usd_from_contract_size() -> None:
    engine = tapeflow.Engine("coinm")
    engine.apply_frames(_frames("BTCUSD_PERP", [Trade(1, 1_000, "32000.1", "3", True)], "coinm"), 0)
    engine.apply_frames(_frames("ETHUSD_PERP", [Trade(1, 1_000, "2000", "3", False)], "coinm"), 0)
    assert engine.volume("BTCUSD_PERP", "1m").exact()["buy_quote"] == Decimal(300)
    assert engine.volume("ETHUSD_PERP", "1m").exact()["sell_quote"] == Decimal(30)
    assert engine.volume("BTCUSD_PERP", "1m").vwap == pytest.approx(32000.1)
    engine.set_contract_size("ETHUSD_PERP", "20")
    assert engine.volume("ETHUSD_PERP", "1m").exact()["sell_quote"] == Decimal(60)


def test_trades_and_klines_are_counted_not_added() -> None:
    engine = tapeflow.Engine("usdm")
    frames = [
        b'{"e":"trade","E":1,"T":2,"s":"BTCUSDT","t":9,"p":"1.5","q":"2","X":"MARKET","m":true}',
        b'{"e":"trade","E":1,"T":2,"s":"BTCUSDT","t":10,"p":"1.5","q":"2","X":"INSURANCE_FUND","m":true}',
        b'{"e":"trade","E":1,"T":2,"s":"BTCUSDT","t":11,"p":"1.5","q":"2","X":"SOMETHING_NEW","m":true}',
        b'{"e":"kline","E":1,"s":"X","k":{"t":0,"T":59999,"i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1",'
        b'"v":"1","n":2,"x":false,"q":"1","V":"1","Q":"1"}}',
        b'{"e":"blockTrade","E":1,"s":"X"}',
    ]
    result = engine.apply_frames(frames, 0)
    assert not result.errors
    stats = engine.flow_stats()
    assert (stats.trades_market, stats.trades_other, stats.klines, stats.aggtrades) == (1, 2, 1, 0)
    assert engine.stats().unknown == {"blockTrade": 1}


def test_malformed_input_raises_and_changes_nothing() -> None:
    engine = tapeflow.Engine("spot")
    good = Trade(1, 1_000, "1", "1", True)
    engine.apply_frames(_frames("X", [good]), 0)
    before = engine.volume("X", "1m").exact()
    bad = good.frame("X").replace(b'"q":"1"', b'"q":"1e3"')
    with pytest.raises(tapeflow.DecodeError) as err:
        engine.apply_frame(bad, 0)
    assert err.value.field == "q"
    rows = json.loads(rest_body([Trade(2, 2_000, "1", "1", True)]))
    rows.append({"a": 3})
    with pytest.raises(tapeflow.DecodeError):
        engine.apply_agg_trades("X", json.dumps(rows).encode())
    with pytest.raises(tapeflow.DecodeError):
        engine.apply_agg_trades("X", b'{"code":-1121,"msg":"Invalid symbol."}')
    assert engine.volume("X", "1m").exact() == before
    assert engine.last_trade_id("X") == 1
    result = engine.apply_frames([bad, b"{", good.frame("X")], 0)
    assert [e.index for e in result.errors] == [0, 1]


def test_queries_reject_unknown_symbols_and_windows() -> None:
    engine = tapeflow.Engine("spot", flow_horizons=("30s", "2h"))
    engine.apply_frames(_frames("X", [Trade(1, 10_000_000, "1", "1", True)]), 0)
    with pytest.raises(tapeflow.UnknownSymbolError):
        engine.volume("NOPE", "30s")
    with pytest.raises(ValueError, match="not configured"):
        engine.volume("X", "15m")
    with pytest.raises(ValueError, match="reaches before"):
        engine.volume("X", "2h", now_ms=5_000_000)
    assert engine.volume("X", "2h", now_ms=10_000_000).buy_count == 1
    assert engine.last_trade_id("NOPE") is None
    assert engine.gaps() == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"flow_horizons": ("15x",)},
        {"flow_horizons": ("0m",)},
        {"flow_horizons": ("1m", "60s")},
        {"flow_intervals": ("7m",)},
        {"flow_history": 0},
        {"big_trade": [0.0]},
        {"big_trade": [1.0, 2.0, 3.0, 4.0, 5.0]},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        tapeflow.Engine("spot", **kwargs)  # type: ignore[arg-type]


def test_extreme_values_stay_exact() -> None:
    engine = tapeflow.Engine("spot", flow_horizons=("1h",), flow_intervals=("1h",))
    # PEPE-sized: 90 billion units at 0.00000123; BTC-sized: 9,999,999.99999999 x 9,000.
    pepe = [Trade(i, 3_600_000 + i, "0.00000123", "90000000000", i % 3 != 0) for i in range(1, 1_001)]
    engine.apply_agg_trades("PEPEUSDT", rest_body(pepe))
    x = engine.volume("PEPEUSDT", "1h").exact()
    buys = sum(1 for t in pepe if t.buy)
    assert x["buy_base"] == Decimal(90_000_000_000) * buys
    assert x["buy_quote"] == Decimal("0.00000123") * Decimal(90_000_000_000) * buys
    btc = Trade(1, 3_600_000, "9999999.99999999", "9000", False)
    engine.apply_frames([btc.frame("BTCUSDT")], 0)
    assert engine.volume("BTCUSDT", "1h").exact()["sell_quote"] == Decimal("9999999.99999999") * 9000
    assert engine.flow_stats().overflow == 0


def test_a_million_trades_in_one_window_stay_exact() -> None:
    engine = tapeflow.Engine("spot", flow_horizons=("1h",), flow_intervals=("1h",))
    n, chunk = 1_000_000, 50_000
    for start in range(0, n, chunk):
        rows = ",".join(
            f'{{"a":{i},"p":"0.{i % 97 + 1:08d}","q":"{i % 1000 + 1}.12345678","f":{i},"l":{i},'
            f'"T":{1_000_000 + i // 300},"m":{"true" if i % 2 else "false"}}}'
            for i in range(start, start + chunk)
        )
        engine.apply_agg_trades("X", f"[{rows}]".encode())
    x = engine.volume("X", "1h").exact()
    base = [Decimal(f"{i % 1000 + 1}.12345678") for i in range(n)]
    buy_base = sum(base[0::2], Decimal(0))
    buy_quote = sum((base[i] * Decimal(f"0.{i % 97 + 1:08d}") for i in range(0, n, 2)), Decimal(0))
    assert x["buy_base"] == buy_base
    assert x["sell_base"] == sum(base[1::2], Decimal(0))
    assert x["buy_quote"] == buy_quote
    v = engine.volume("X", "1h")
    assert v.buy_count + v.sell_count == n
    # Memory stays bounded by seconds with trades, not by trades: 1e6 trades in ~3,334 seconds.
    assert engine.flow_memory("X") < 3_334 * 200 + 100_000


def test_memory_per_symbol_is_bounded_by_the_longest_horizon() -> None:
    engine = tapeflow.Engine("usdm")
    # A trade every second for 5 hours. The default horizons keep 900 one-second buckets (up to 15m), 360 ten-second
    # buckets (1h) and 240 one-minute buckets (4h), 128 bytes each, plus the aligned intervals (4 x at most 61).
    n = 5 * 3_600
    for s in range(0, n, 1_000):
        rows = [Trade(i, 1_700_000_000_000 + i * 1_000, "1", "1", i % 2 == 0) for i in range(s, min(n, s + 1_000))]
        engine.apply_agg_trades("BUSY", rest_body(rows))
    engine.apply_agg_trades("QUIET", rest_body([Trade(1, 1_700_000_000_000, "1", "1", True)]))
    assert 1_500 * 128 < engine.flow_memory("BUSY") <= 1_500 * 128 + 4 * 61 * 128 + 4_096
    assert engine.flow_memory("QUIET") < 4_096
    assert engine.flow_stats().memory_bytes == engine.flow_memory("BUSY") + engine.flow_memory("QUIET")
    clock = 1_700_000_000_000 + (n - 1) * 1_000
    start, end = sliding_span(4 * 3_600_000, clock)
    buys = sum(1 for i in range(n) if i % 2 == 0 and start <= 1_700_000_000_000 + i * 1_000 < end)
    assert engine.volume("BUSY", "4h").buy_count == buys < 7_200


@pytest.mark.parametrize("window", ["1m", "5m", "15m@aligned", "1h@aligned"])
def test_volumes_rows_equal_single_symbol_queries(window: str) -> None:
    engine = tapeflow.Engine("spot")
    for k, symbol in enumerate(("AAAUSDT", "BBBUSDT", "CCCUSDT")):
        trades = [
            Trade(i, 1_000_000 + i * 7_919 * (k + 1), f"{k + 1}.5", f"0.{i + 1}", (i + k) % 3 != 0) for i in range(60)
        ]
        engine.apply_frames(_frames(symbol, trades[::2]), 0)
        engine.apply_agg_trades(symbol, rest_body(trades[1::2]))
    # Evaluation times before a symbol's newest trade stay within the buckets kept for one-second edges (15 min).
    for now in (None, 1_900_000, 2_200_000, 3_000_000):
        cols = engine.volumes(window, now_ms=now)
        for row, symbol in enumerate(cols["symbol"].tolist()):
            v = engine.volume(symbol, window, now_ms=now)
            assert cols["buy_quote"][row] == v.buy_quote and cols["sell_quote"][row] == v.sell_quote
            assert cols["net_quote"][row] == pytest.approx(v.net_quote)
            assert (cols["buy_count"][row], cols["sell_count"][row]) == (v.buy_count, v.sell_count)
            assert (cols["buy_base"][row], cols["sell_base"][row]) == (v.buy_base, v.sell_base)
            assert bool(cols["complete"][row]) == v.complete
            assert np.isnan(cols["vwap"][row]) == np.isnan(v.vwap)


def _gaps(actions: list[tapeflow.Action]) -> list[tuple[str, int, int]]:
    return [(a.symbol, a.from_id, a.to_id) for a in actions if isinstance(a, tapeflow.TradeGap)]


@pytest.mark.parametrize(
    ("page_ids", "reported", "counted"),
    [
        # The page fills the hole its first row opens: nothing is missing afterwards, nothing is reported.
        (range(100, 113), [], 10),
        # The page covers part of it: only what is still missing is reported.
        (range(100, 106), [("X", 106, 109)], 6),
    ],
)
def test_a_page_reports_only_the_trades_it_leaves_missing(
    page_ids: range, reported: list[tuple[str, int, int]], counted: int
) -> None:
    engine = tapeflow.Engine("spot")
    live = [Trade(i, 1_000_000 + i, "1", "1", True) for i in range(110, 113)]
    assert _gaps(engine.apply_frames(_frames("X", live), 0).actions) == []
    rows = [Trade(i, 1_000_000 + i, "1", "1", True) for i in page_ids]
    page = engine.apply_agg_trades("X", rest_body(rows), from_time_ms=999_000)
    assert _gaps(page.actions) == reported
    assert engine.gaps() == reported  # the action names exactly what gaps() holds after the page
    assert engine.flow_stats().gaps == len(reported)
    assert (page.rows, page.counted, page.first_id, page.last_id) == (len(rows), counted, 100, page_ids[-1])


def test_trades_page_from_id_abandons_what_the_exchange_no_longer_serves() -> None:
    engine = tapeflow.Engine("spot")
    live = [Trade(1, 1_000, "1", "1", True), Trade(50, 1_050, "1", "1", True)]
    assert _gaps(engine.apply_frames(_frames("X", live), 0).actions) == [("X", 2, 49)]
    # Asked from id 2, the exchange's first row is 30: ids 2..29 are gone.
    page = engine.apply_agg_trades(
        "X", rest_body([Trade(i, 1_000 + i, "1", "1", True) for i in range(30, 50)]), from_id=2
    )
    assert (page.abandoned, page.actions, page.first_id, page.last_id, page.counted) == ((2, 29), [], 30, 49, 20)
    assert engine.gaps() == []
    v = engine.volume("X", "1m", now_ms=1_050)
    assert (v.abandoned, v.complete) == (True, False)
    # Starting at the asked id, or empty, abandons nothing.
    assert engine.apply_agg_trades("X", rest_body([Trade(51, 1_051, "1", "1", True)]), from_id=51).abandoned is None
    empty = engine.apply_agg_trades("X", b"[]", from_id=52)
    assert (empty.rows, empty.counted, empty.first_id, empty.last_id, empty.abandoned) == (0, 0, None, None, None)
    assert "TradesPage(rows=0" in repr(empty)


def test_trade_times_before_a_lower_id_are_counted_not_applied() -> None:
    engine = tapeflow.Engine("spot")
    trades = [Trade(1, 1_000, "1", "1", True), Trade(2, 3_000, "1", "1", True), Trade(3, 2_000, "1", "2", False)]
    engine.apply_frames(_frames("X", trades), 0)
    assert engine.flow_stats().time_regressions == 1
    v = engine.volume("X", "1m", now_ms=3_000)
    assert (v.buy_count, v.sell_count, v.sell_base) == (2, 1, 2.0)  # counted in the windows all the same
    engine.apply_frames(_frames("X", [Trade(4, 3_000, "1", "1", True)]), 0)
    assert engine.flow_stats().time_regressions == 1


def test_pending_checks_make_windows_incomplete_until_they_end() -> None:
    engine = tapeflow.Engine("spot", flow_intervals=("1m",))
    # X's second trade proves its first interval (its candles: that one, and the one in progress).
    x = [Trade(1, 60_500, "1", "1", True), Trade(2, 120_100, "1", "1", True)]
    engine.apply_agg_trades("X", rest_body(x), from_time_ms=60_000)
    engine.apply_agg_trades("Y", rest_body([Trade(1, 60_600, "1", "1", True)]), from_time_ms=60_000)

    def flags() -> tuple[bool, bool, list[bool], list[bool], list[bool]]:
        v = engine.volume("X", "1m@aligned")
        cols = engine.volumes("1m@aligned")
        return (
            v.complete,
            v.checking,
            cols["complete"].tolist(),
            cols["checking"].tolist(),
            engine.candles("X", "1m")["complete"].tolist(),
        )

    assert flags() == (True, False, [True, True], [False, False], [True, False])
    engine.begin_check("x")
    engine.begin_check("X")
    assert flags() == (False, True, [False, True], [True, False], [False, False])
    engine.end_check("X")
    assert flags()[:2] == (False, True)
    engine.end_check("X")
    assert flags() == (True, False, [True, True], [False, False], [True, False])
    engine.end_check("X")  # more ends than begins: a no-op
    engine.end_check("NEVERSEEN")
    assert flags()[:2] == (True, False)
    assert "checking=False" in repr(engine.volume("X", "1m@aligned"))
