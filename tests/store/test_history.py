"""History queries and ``tapeflow export`` against the rows written, exact; idempotent writes."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tapeflow.cli import main
from tapeflow.store import History, journal
from tests.store.support import T0, interval_cols, liquidation_row, open_store, query

MIN = 60_000


def _fill(path: Path) -> list[tuple[object, ...]]:
    store = open_store(path)
    liqs = [
        liquidation_row(sym, T0 + i * 700, side, qty=f"0.{i + 1:03d}", price=f"{100 + i}.25")
        for i, (sym, side) in enumerate([("BTCUSDT", "SELL"), ("ETHUSDT", "BUY"), ("BTCUSDT", "BUY")] * 20)
    ]
    store.submit(journal.liquidations(liqs))
    store.submit(journal.liquidations(liqs[:10]))  # the same events again (a second connection): kept once
    store.submit(journal.intervals(MIN, interval_cols("BTCUSDT", [T0 + k * MIN for k in range(5)])))
    store.submit(journal.intervals(15 * MIN, interval_cols("BTCUSDT", [T0])))
    trades = [
        ("BTCUSDT", 1000 + i, T0 + i * 500, "buy" if i % 2 else "sell", "100.1", "2.5", "250.25") for i in range(9)
    ]
    store.submit(journal.big_trades(trades))
    store.submit(journal.big_trades(trades))
    store.close(T0 + 3_600_000)
    return liqs


def test_liquidations_come_back_exact_and_once(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    liqs = _fill(path)
    h = History(path)
    cols = h.liquidations()
    assert len(cols["symbol"]) == 60
    assert list(cols["notional_exact"]) == [r[11] for r in liqs]
    assert list(cols["qty_exact"]) == [r[8] for r in liqs] and list(cols["trade_time_ms"]) == [r[12] for r in liqs]
    btc_long = h.liquidations("btcusdt", side="long", start=T0 + 10_000, end=T0 + 30_000)
    want = [r for r in liqs if r[0] == "BTCUSDT" and r[1] == "long" and T0 + 10_000 <= r[12] < T0 + 30_000]
    assert list(btc_long["trade_time_ms"]) == [r[12] for r in want] and want
    assert cols["notional"].dtype.kind == "f" and cols["trade_time_ms"].dtype.kind == "i"
    with pytest.raises(ValueError, match="side"):
        h.liquidations(side="buy")


def test_candles_and_big_trades(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    _fill(path)
    h = History(path)
    c = h.candles("BTCUSDT", "1m", T0 + MIN, T0 + 4 * MIN)
    assert list(c["start_ms"]) == [T0 + k * MIN for k in (1, 2, 3)]
    assert list(c["buy_quote_exact"]) == ["150.125"] * 3 and all(c["complete"])
    assert list(h.candles("BTCUSDT", "15m")["start_ms"]) == [T0]
    b = h.big_trades("BTCUSDT", side="buy")
    assert list(b["trade_id"]) == [1001, 1003, 1005, 1007] and list(b["notional_exact"]) == ["250.25"] * 4


def test_a_complete_interval_is_never_replaced_by_an_incomplete_one(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    store = open_store(path)
    store.submit(journal.intervals(MIN, interval_cols("A", [T0, T0 + MIN], complete=False, buy="1")))
    store.submit(journal.intervals(MIN, interval_cols("A", [T0], complete=True, buy="2")))  # filled later
    store.submit(journal.intervals(MIN, interval_cols("A", [T0], complete=False, buy="3")))  # a worse answer
    store.submit(journal.intervals(MIN, interval_cols("A", [T0 + MIN], complete=False, buy="4")))
    store.close()
    rows = query(path, "SELECT start_ms, buy_base, complete FROM intervals ORDER BY start_ms")
    assert rows == [(T0, "2", 1), (T0 + MIN, "4", 0)]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_writes_exact_rows(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "usdm.db"
    liqs = _fill(path)
    since = str(T0 + 7_000)
    assert main(["export", "--store", str(path), "--what", "liquidations", "--since", since, "--format", fmt]) == 0
    out = capsys.readouterr().out
    want = [r for r in liqs if r[12] >= T0 + 7_000]
    if fmt == "csv":
        got = list(csv.DictReader(io.StringIO(out)))
    else:
        got = [json.loads(line) for line in out.splitlines()]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g["market"] == "usdm" and g["symbol"] == w[0] and g["side"] == w[1]
        assert g["notional"] == w[11] and g["price"] == w[6] and g["filled_qty"] == w[10]
        assert int(g["trade_time_ms"]) == w[12]
    total = sum(Decimal(g["notional"]) for g in got)
    assert total == sum(Decimal(str(w[11])) for w in want)


def test_export_of_candles_to_a_file_with_an_iso_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "usdm.db"
    _fill(path)
    out = tmp_path / "c.jsonl"
    args = ["export", "--store", str(path), "--what", "candles", "--interval", "1m", "--format", "jsonl"]
    assert main([*args, "--since", "2026-01-01T00:02:00", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["start_ms"] for r in rows] == [T0 + 2 * MIN, T0 + 3 * MIN, T0 + 4 * MIN]
    assert rows[0]["complete"] is True and rows[0]["sell_base"] == "0.25" and rows[0]["first_id"] == 12
    assert "3 candles" in capsys.readouterr().err


def test_export_refuses_a_file_that_is_not_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.db"
    path.write_text("not sqlite")
    assert main(["export", "--store", str(path), "--what", "candles"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "not a tapeflow store" in err
    assert main(["export", "--store", str(tmp_path / "missing.db"), "--what", "candles"]) == 2
