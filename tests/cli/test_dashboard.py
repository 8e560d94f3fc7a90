"""The terminal view rendered from hand-built snapshots."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from rich.console import Console

from tapeflow.view import BookPanel, ClusterRow, FlowRow, Health, LiqRow, Snapshot, TradeRow, fmt_quote, render

HEALTH = Health(
    connections=3,
    connections_open=2,
    frames_per_s=1234.4,
    lag_ms=7,
    lag_max_ms=250,
    reconnects=4,
    rotations=1,
    zombies=1,
    books_synced=29,
    books=30,
    gaps_open=2,
    incomplete=1,
    trades_backfilled=5321,
    gaps_filled=6,
    weight_used=120,
    weight_limit=2400,
    throttled=2,
    banned=0,
    malformed=3,
)

SNAP = Snapshot(
    now_ms=1_767_225_723_000,  # 2026-01-01 00:02:03 UTC
    market="usdm",
    source="local simulator",
    symbols=30,
    elapsed_s=123.0,
    window="15m",
    flow=(
        FlowRow("AAAUSDT", Decimal("100.005"), Decimal("2000.5"), 7, True),
        FlowRow("BBBUSDT", Decimal("1234567.891"), Decimal("0.004"), 12, True),
        FlowRow("CCCUSDT", Decimal("50"), Decimal("40.125"), 3, False),
    ),
    big_trades=(TradeRow(1_767_225_722_500, "BBBUSDT", "buy", 61234.5, 2.0, 122469.0),),
    big_trade_min=50_000.0,
    liquidations=(LiqRow(1_767_225_721_000, "CCCUSDT", "long", "0.12345", "1000", 123.45),),
    liq_total=123.45,
    liq_count=1,
    cluster=ClusterRow("CCCUSDT", "long", 0.1230, 0.1240, 123.45, 1, 0.8, -1.25),
    book=BookPanel(
        "AAAUSDT",
        "SYNCED",
        987654321,
        bids=(("101.10", "3.5"), ("101.00", "0.001")),
        asks=(("101.30", "2"), ("101.40", "7.25")),
    ),
    health=HEALTH,
)


def text_of(snap: Snapshot, width: int = 160) -> str:
    console = Console(record=True, width=width, file=open("/dev/null", "w"), no_color=True)
    console.print(render(snap, width))
    console.file.close()
    return console.export_text()


def cells(line: str) -> list[str]:
    return line.replace("│", " ").split()


def line_with(text: str, word: str) -> str:
    return next(line for line in text.splitlines() if word in line and "quote" not in line)


def test_exact_quotes_are_rounded_half_even_to_cents() -> None:
    assert fmt_quote(Decimal("1234567.891")) == "1,234,567.89"
    assert fmt_quote(Decimal("0.005")) == "0.00"
    assert fmt_quote(Decimal("0.015")) == "0.02"
    assert fmt_quote(Decimal("-1900.495"), signed=True) == "-1,900.50"
    assert fmt_quote(Decimal("9.999"), signed=True) == "+10.00"
    assert fmt_quote(Decimal(0), signed=True) == "0.00"


def test_flow_rows_are_ordered_by_net_flow_with_exact_figures() -> None:
    text = text_of(SNAP)
    order = [text.index(s) for s in ("BBBUSDT", "CCCUSDT", "AAAUSDT")]
    # The flow panel comes first: the first mention of each symbol is its flow row.
    assert order == sorted(order)
    assert cells(line_with(text, "BBBUSDT"))[:6] == ["BBBUSDT", "1,234,567.89", "0.00", "+1,234,567.89", "12", "yes"]
    aaa = line_with(text, "AAAUSDT")
    assert "100.00" in aaa and "2,000.50" in aaa and "-1,900.50" in aaa
    ccc = line_with(text, "CCCUSDT")
    assert "+9.88" in ccc and " NO" in ccc  # incomplete window flagged


def test_synced_book_shows_levels_spread_and_update_id() -> None:
    text = text_of(SNAP)
    assert "book AAAUSDT: SYNCED" in text
    row = next(line for line in text.splitlines() if "101.10" in line)
    assert cells(row)[:4] == ["3.5", "101.10", "101.30", "2"]
    assert "spread 0.20" in text and "update id 987654321" in text


def test_unsynced_book_is_marked_and_shows_no_levels() -> None:
    snap = replace(SNAP, book=BookPanel("AAAUSDT", "GAP"))
    text = text_of(snap)
    assert "book AAAUSDT: NOT SYNCED" in text and "NOT SYNCED (GAP)" in text
    assert "101.10" not in text and "update id" not in text


def test_health_trades_liquidations_and_cluster() -> None:
    text = text_of(SNAP)
    for expected in (
        "2/3 open",
        "1,234",
        "7 ms, max 250",
        "rotations   1",
        "zombies     1",
        "29/30 synced",
        "5,321 trades",
        "gaps filled 6",
        "120/2400",
        "2 / 0",
        "big trades (>= 50.00k)",
        "61234.5",
        "122.47k",
        "liquidations (15m: 123.45 in 1)",
        "0.12345",
        "strongest cluster: CCCUSDT long",
        "-1.25% from mark",
        "exchange time 2026-01-01 00:02:03 UTC",
        "running 2m03s",
    ):
        assert expected in text, expected


def test_without_flow_the_panel_says_so() -> None:
    text = text_of(replace(SNAP, flow=None, big_trades=(), liquidations=(), cluster=None))
    assert "trade flow is not available" in text
    assert "strongest cluster: none yet" in text
    assert "book AAAUSDT: SYNCED" in text  # the rest still renders


def test_plain_width_fits_every_panel() -> None:
    text = text_of(SNAP, width=140)
    assert max(len(line) for line in text.splitlines()) <= 140
    assert "+1,234,567.89" in text and "5,321" in text and "101.40" in text


def test_narrow_terminal_stacks_panels() -> None:
    text = text_of(SNAP, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "+1,234,567.89" in text and "2/3 open" in text and "101.40" in text and "122.47k" in text


@pytest.mark.parametrize(("width", "height"), [(140, 24), (80, 24), (100, 30), (80, 40)])
def test_short_screen_keeps_the_strongest_rows_and_fits(width: int, height: int) -> None:
    flow = tuple(FlowRow(f"S{i:02d}USDT", Decimal(1000 * i), Decimal(500 * (10 - i)), i + 1, True) for i in range(10))
    levels = tuple((f"{100 - i}.5", "1") for i in range(10))
    book = BookPanel("BKXUSDT", "SYNCED", 7, bids=levels, asks=tuple((f"{101 + i}.5", "2") for i in range(10)))
    trades = tuple(TradeRow(SNAP.now_ms - i * 1000, "TRDUSDT", "buy", 10.0, 1.0, 100_000.0 + i) for i in range(8))
    big = replace(SNAP, flow=flow, book=book, big_trades=trades, liquidations=SNAP.liquidations * 8)
    assert len(text_of(big, width).splitlines()) > height
    console = Console(record=True, width=width, height=height, file=open("/dev/null", "w"))
    console.print(render(big, width, height))
    console.file.close()
    text = console.export_text()
    assert len(text.splitlines()) <= height
    # Whatever number of rows fits, they are the strongest absolute net flows and the levels nearest the spread.
    shown = [f"S{i:02d}USDT" in text for i in range(10)]
    by_strength = sorted(range(10), key=lambda i: -abs(1000 * i - 500 * (10 - i)))
    k = sum(shown)
    assert k >= 2 and all(shown[i] for i in by_strength[:k])
    bids = [f"{100 - i}.5" in text for i in range(10)]
    assert bids[0] and bids == sorted(bids, reverse=True)  # a run from the best bid down
    assert "2/3 open" in text and "strongest cluster" in text
