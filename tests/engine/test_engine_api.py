"""The Python surface of the engine: types, errors with fields, and the not-synced guard."""

from __future__ import annotations

import numpy as np
import pytest

import tapeflow
from tapeflow import (
    Action,
    BookGap,
    BookNotSyncedError,
    BookSynced,
    ControlReply,
    DecodeError,
    Engine,
    SnapshotNeeded,
    SyncState,
    TapeflowError,
    UnknownSymbolError,
)


def diff(symbol: str, first: int, last: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> bytes:
    levels = lambda ls: ",".join(f'["{p}","{q}"]' for p, q in ls)  # noqa: E731
    return (
        f'{{"stream":"{symbol.lower()}@depth","data":{{"e":"depthUpdate","E":1700000000000,"s":"{symbol}",'
        f'"U":{first},"u":{last},"b":[{levels(bids)}],"a":[{levels(asks)}]}}}}'
    ).encode()


SNAPSHOT = b'{"lastUpdateId":10,"bids":[["100.5","1.25"],["100","2"]],"asks":[["101","0.5"],["102","3"]]}'


def kinds(actions: list[Action]) -> list[str]:
    return [type(a).__name__ for a in actions]


def synced_engine() -> Engine:
    engine = Engine("spot")
    actions = engine.apply_frame(diff("BTCUSDT", 10, 11, [("100.5", "1.5")], []), 1)
    assert kinds(actions) == ["SnapshotNeeded"]
    assert kinds(engine.apply_snapshot("BTCUSDT", SNAPSHOT)) == ["BookSynced"]
    return engine


def test_public_names_are_exported() -> None:
    for name in tapeflow.__all__:
        assert hasattr(tapeflow, name)
    assert issubclass(DecodeError, TapeflowError) and issubclass(DecodeError, ValueError)
    assert issubclass(BookNotSyncedError, tapeflow.BookError)
    assert issubclass(UnknownSymbolError, KeyError)


def test_book_view_numbers() -> None:
    engine = synced_engine()
    view = engine.book("BTCUSDT", 5)
    assert view.state == SyncState.SYNCED and view.synced
    assert view.last_update_id == 11
    assert view.event_time == 1700000000000
    assert view.recv_ts_ns == 1
    assert view.bids_exact() == [("100.5", "1.5"), ("100", "2")]
    assert view.asks_exact() == [("101", "0.5"), ("102", "3")]
    assert view.bids.dtype == np.float64 and view.bids.shape == (2, 2)
    np.testing.assert_array_equal(view.asks, [[101.0, 0.5], [102.0, 3.0]])
    assert view.best_bid == (100.5, 1.5)
    assert view.spread == 0.5
    assert view.mid == 100.75
    assert (view.n_bids, view.n_asks) == (2, 2)
    assert "SYNCED" in repr(view)


def test_best_reads_the_top_of_a_synced_book() -> None:
    engine = synced_engine()
    assert engine.best("BTCUSDT") == (100.5, 1.5, 101.0, 0.5)
    assert engine.best_exact("BTCUSDT") == ("100.5", "1.5", "101", "0.5")
    with pytest.raises(UnknownSymbolError):
        engine.best("NOPE")


def test_band_depth_and_imbalance() -> None:
    engine = synced_engine()
    band = engine.band("BTCUSDT", 0.5)  # mid 100.75: [100.24625, 101.25375]
    assert band is not None
    assert (band.bid_qty, band.ask_qty) == (1.5, 0.5)
    assert band.imbalance == pytest.approx(0.5)
    assert dict(band.exact())["bid_notional"] == "150.75"
    with pytest.raises(ValueError, match="pct"):
        engine.band("BTCUSDT", -1)


def test_reads_of_unsynced_books_raise_unless_asked() -> None:
    engine = Engine("spot")
    engine.apply_frame(diff("ETHUSDT", 5, 6, [("1", "1")], []), 0)
    with pytest.raises(BookNotSyncedError) as info:
        engine.book("ETHUSDT")
    assert info.value.symbol == "ETHUSDT" and info.value.state == "SYNCING"
    for read in (engine.digest, engine.best, engine.best_exact):
        with pytest.raises(BookNotSyncedError) as info:
            read("ETHUSDT")
        assert info.value.state == "SYNCING"
    view = engine.book("ETHUSDT", allow_unsynced=True)
    assert view.state == SyncState.SYNCING and not view.synced


def test_unknown_symbol() -> None:
    with pytest.raises(UnknownSymbolError) as info:
        Engine("usdm").book("NOPE")
    assert info.value.symbol == "NOPE"
    assert "NOPE" in str(info.value)


def test_decode_error_fields_and_no_state_change() -> None:
    engine = synced_engine()
    before = engine.digest("BTCUSDT")
    bad = diff("BTCUSDT", 12, 12, [("1e5", "1")], [])
    with pytest.raises(DecodeError) as info:
        engine.apply_frame(bad, 0)
    assert info.value.kind == "bad_number" and info.value.field == "b"
    assert engine.digest("BTCUSDT") == before
    with pytest.raises(DecodeError) as info:
        engine.apply_snapshot("BTCUSDT", b'{"bids":[],"asks":[]}')
    assert info.value.kind == "missing_field" and info.value.field == "lastUpdateId"


def test_batch_reports_malformed_frames_with_their_index() -> None:
    engine = synced_engine()
    frames = [b"garbage", diff("BTCUSDT", 12, 12, [("100.5", "0")], []), b'{"e":"depthUpdate"}']
    result = engine.apply_frames(frames, 5)
    assert (result.frames, result.events) == (3, 1)
    assert [e.index for e in result.errors] == [0, 2]  # type: ignore[attr-defined]
    assert all(isinstance(e, DecodeError) for e in result.errors)
    assert engine.book("BTCUSDT").bids_exact() == [("100", "2")]
    assert engine.stats().malformed == 2


def test_batch_accepts_any_iterable_of_bytes_and_rejects_others() -> None:
    engine = Engine("spot")
    result = engine.apply_frames((f for f in [diff("A", 1, 1, [], [])]), 0)
    assert result.frames == 1
    with pytest.raises(TypeError):
        engine.apply_frames(["not bytes"], 0)  # type: ignore[list-item]


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="market"):
        Engine("options")
    with pytest.raises(ValueError, match="buffer_limit"):
        Engine("spot", buffer_limit=0)
    assert Engine("coinm").market == "coinm"


def test_control_and_unknown_events() -> None:
    engine = Engine("spot")
    actions = engine.apply_frame(b'{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":7}', 0)
    match actions:
        case [ControlReply(7, None, 2, "Invalid request: invalid stream")]:
            pass
        case _:
            pytest.fail(repr(actions))
    engine.apply_frames([b'{"e":"blockTrade","E":1}', b'{"e":"serverShutdown","E":9}'], 0)
    assert engine.stats().unknown == {"blockTrade": 1}


def test_gap_then_resync() -> None:
    engine = synced_engine()
    actions = engine.apply_frame(diff("BTCUSDT", 15, 16, [], []), 0)
    match actions:
        case [BookGap("BTCUSDT", 12, 15), SnapshotNeeded("BTCUSDT")]:
            pass
        case _:
            pytest.fail(repr(actions))
    assert engine.sync_state("BTCUSDT") == SyncState.GAP
    snapshot = b'{"lastUpdateId":15,"bids":[["99","1"]],"asks":[["101","1"]]}'
    assert kinds(engine.apply_snapshot("BTCUSDT", snapshot)) == ["BookSynced"]
    assert engine.book("BTCUSDT").last_update_id == 16


def test_actions_are_typed_values_that_match_by_position() -> None:
    engine = Engine("spot")
    first = engine.apply_frame(diff("BTCUSDT", 10, 11, [("1", "1")], []), 0)
    again = Engine("spot").apply_frame(diff("BTCUSDT", 10, 11, [("1", "1")], []), 0)
    (action,) = first
    assert isinstance(action, SnapshotNeeded) and isinstance(action, Action)
    assert first == again and action is not again[0]  # equal by value
    assert repr(action) == "SnapshotNeeded(symbol='BTCUSDT')"
    assert SnapshotNeeded.__match_args__ == ("symbol",)
    (synced,) = engine.apply_snapshot("BTCUSDT", SNAPSHOT)
    match synced:
        case BookSynced(symbol, last_update_id):
            assert (symbol, last_update_id) == ("BTCUSDT", 11)
        case _:
            pytest.fail(repr(synced))
    assert not hasattr(synced, "kind") and not hasattr(synced, "expected")  # only its own fields
    with pytest.raises(AttributeError):
        synced.symbol = "X"  # type: ignore[misc]
    with pytest.raises(TypeError):
        type(synced)("BTCUSDT", 1)  # made by the engine only


def test_stats_are_typed() -> None:
    engine = synced_engine()
    engine.apply_frames([b"garbage", b'{"e":"blockTrade","E":1}', diff("BTCUSDT", 12, 12, [], [("101", "0")])], 0)
    stats = engine.stats()
    assert (stats.frames, stats.events, stats.malformed) == (4, 3, 1)
    assert (stats.depth_updates, stats.level_updates, stats.book_tickers, stats.partial_depth) == (2, 2, 0, 0)
    assert stats.unknown == {"blockTrade": 1}
    assert stats == engine.stats() and stats != Engine("spot").stats()
    assert repr(stats).startswith("EngineStats(frames=4, events=3, malformed=1,")
    assert engine.flow_stats().aggtrades == 0 and engine.liq_stats().kept == 0


def test_sync_state_names_and_counts() -> None:
    engine = synced_engine()
    engine.apply_frame(diff("ETHUSDT", 5, 6, [("1", "1")], []), 0)
    engine.apply_frame(diff("XRPUSDT", 5, 6, [("1", "1")], []), 0)
    engine.apply_snapshot("XRPUSDT", b'{"lastUpdateId":5,"bids":[],"asks":[]}')
    engine.apply_frame(diff("XRPUSDT", 9, 9, [], []), 0)
    names = {s: engine.sync_state(s).name for s in ("BTCUSDT", "ETHUSDT", "XRPUSDT")}
    assert names == {"BTCUSDT": "SYNCED", "ETHUSDT": "SYNCING", "XRPUSDT": "GAP"}
    assert [s.name for s in (SyncState.SYNCED, SyncState.SYNCING, SyncState.GAP)] == ["SYNCED", "SYNCING", "GAP"]
    everyone = ["BTCUSDT", "ETHUSDT", "XRPUSDT", "NEVERSEEN"]
    assert engine.sync_counts(everyone) == {"SYNCED": 1, "SYNCING": 1, "GAP": 1}
    assert engine.sync_counts({"BTCUSDT"}) == {"SYNCED": 1, "SYNCING": 0, "GAP": 0}
    assert engine.sync_counts([]) == {"SYNCED": 0, "SYNCING": 0, "GAP": 0}


def test_batch_reports_the_event_time_of_its_last_event_that_has_one() -> None:
    engine = Engine("spot")
    trade = b'{"e":"aggTrade","E":1700000000456,"s":"X","a":1,"p":"1","q":"1","f":1,"l":1,"T":1700000000455,"m":true}'
    ticker = b'{"u":1,"s":"X","b":"1","B":"1","a":"2","A":"1"}'  # spot book tickers carry no E
    result = engine.apply_frames([diff("X", 1, 1, [], []), trade, ticker, b'{"result":null,"id":1}'], 42)
    assert (result.last_event_time_ms, result.recv_ts_ns) == (1700000000456, 42)
    assert engine.apply_frames([diff("X", 2, 2, [], [])], 0).last_event_time_ms == 1700000000000
    assert engine.apply_frames([ticker, b"garbage"], 0).last_event_time_ms is None
