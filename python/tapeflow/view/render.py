"""Drawing the terminal view: :func:`render` is a pure function from a :class:`~tapeflow.view.model.Snapshot` to a
``rich`` renderable, the same for the live screen and for the plain text printed when standard output is not a
terminal. Lists are shortened to the most rows that fit the screen.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from dataclasses import replace

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tapeflow.view.model import Snapshot, fmt_quote

__all__ = ["WIDE", "render"]


# ---------------------------------------------------------------------------------------------------- formatting
def _fmt_num(value: float, digits: int = 6) -> str:
    """A float shown with ``digits`` significant digits, no exponent for everyday magnitudes."""
    if value == 0:
        return "0"
    mag = len(str(int(abs(value)))) if abs(value) >= 1 else 0
    return f"{value:,.{max(0, digits - mag)}f}"


def _fmt_price(value: float) -> str:
    """A price as the shortest decimal that reads back to the same float (``11689.2``, ``0.00001234``)."""
    return np.format_float_positional(value, trim="-")


def _fmt_usd(value: float) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:,.2f}{unit}"
    return f"{value:,.2f}"


def _clock(ms: int) -> str:
    # Minutes and seconds: the header has the full time; the lists are about the last minutes.
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%M:%S")


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s // 60 % 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


# ---------------------------------------------------------------------------------------------------- panels
def _flow_panel(snap: Snapshot) -> Panel:
    title = f"top symbols by {snap.window} net taker flow (quote)"
    if snap.flow is None:
        return Panel(
            Text("trade flow is not available (no flow windows, or an engine without trade flow)", style="yellow"),
            title=title,
        )
    table = Table(expand=True, box=None, pad_edge=False)
    table.add_column("symbol", no_wrap=True)
    table.add_column(f"buy {snap.window}", justify="right", no_wrap=True)
    table.add_column(f"sell {snap.window}", justify="right", no_wrap=True)
    table.add_column("net", justify="right", no_wrap=True)
    table.add_column("trades", justify="right", no_wrap=True)
    table.add_column("complete", justify="center", no_wrap=True)
    # Strongest buying first, strongest selling last.
    for row in sorted(snap.flow, key=lambda r: (-r.net_quote, r.symbol)):
        net = row.net_quote
        table.add_row(
            row.symbol,
            fmt_quote(row.buy_quote),
            fmt_quote(row.sell_quote),
            Text(fmt_quote(net, signed=True), style="green" if net > 0 else "red" if net < 0 else ""),
            str(row.trades),
            Text("yes") if row.complete else Text("NO", style="bold yellow"),
        )
    if not snap.flow:
        table.add_row("(no trades yet)", "", "", "", "", "")
    return Panel(table, title=title, title_align="left")


def _book_panel(snap: Snapshot) -> Panel:
    book = snap.book
    if book is None:
        return Panel(Text("no book"), title="book")
    if book.state != "SYNCED":
        body = Text.assemble(
            (f"NOT SYNCED ({book.state})", "bold red"), " - waiting for a snapshot; an unsynced book is never shown"
        )
        return Panel(body, title=f"book {book.symbol}: NOT SYNCED", title_align="left", border_style="red")
    table = Table(expand=True, box=None, pad_edge=False)
    table.add_column("bid qty", justify="right", no_wrap=True)
    table.add_column("bid", justify="right", style="green", no_wrap=True)
    table.add_column("ask", justify="left", style="red", no_wrap=True)
    table.add_column("ask qty", justify="left", no_wrap=True)
    for i in range(max(len(book.bids), len(book.asks))):
        bid = book.bids[i] if i < len(book.bids) else ("", "")
        ask = book.asks[i] if i < len(book.asks) else ("", "")
        table.add_row(bid[1], bid[0], ask[0], ask[1])
    spread = book.spread
    caption = f"spread {spread}  ·  update id {book.last_update_id}" if spread is not None else "one side empty"
    table.caption = caption
    table.caption_justify = "left"
    return Panel(table, title=f"book {book.symbol}: SYNCED", title_align="left", border_style="green")


def _small_table() -> Table:
    return Table(expand=True, box=None, pad_edge=False, padding=(0, 1), collapse_padding=True)


def _event_table() -> Table:
    """Columns of a list of trades or liquidations."""
    table = _small_table()
    for name, justify in (("time", "left"), ("symbol", "left"), ("side", "left"), ("price", "right")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("quote", justify="right", no_wrap=True)
    return table


def _trades_panel(snap: Snapshot) -> Panel:
    table = _event_table()
    for t in snap.big_trades:
        style = "green" if t.side == "buy" else "red"
        table.add_row(_clock(t.time_ms), t.symbol, Text(t.side, style), _fmt_price(t.price), _fmt_usd(t.notional))
    if not snap.big_trades:
        table.add_row("(none yet)", "", "", "", "")
    limit = f" (>= {_fmt_usd(snap.big_trade_min)})" if snap.big_trade_min is not None else ""
    return Panel(table, title=f"big trades{limit}", title_align="left")


def _liq_panel(snap: Snapshot) -> Panel:
    table = _event_table()
    for liq in snap.liquidations:
        style = "red" if liq.side == "long" else "green"
        table.add_row(_clock(liq.time_ms), liq.symbol, Text(liq.side, style), liq.price, _fmt_usd(liq.notional))
    if not snap.liquidations:
        table.add_row("(none yet)", "", "", "", "")
    c = snap.cluster
    if c is None:
        cluster = Text("strongest cluster: none yet")
    else:
        dist = "no mark price" if c.distance_pct is None else f"{c.distance_pct:+.2f}% from mark"
        cluster = Text(
            f"strongest cluster: {c.symbol} {c.side} {_fmt_num(c.price_low)}-{_fmt_num(c.price_high)}, "
            f"{_fmt_usd(c.notional)} in {c.count}, strength {c.strength:.2f}, {dist}"
        )
    title = f"liquidations ({snap.window}: {_fmt_usd(snap.liq_total)} in {snap.liq_count})"
    return Panel(Group(table, cluster), title=title, title_align="left")


def _health_panel(snap: Snapshot, pairs_per_line: int = 1) -> Panel:
    h = snap.health
    grid = Table.grid(padding=(0, 1))
    for _ in range(pairs_per_line):
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(no_wrap=True)
    up = Text(f"{h.connections_open}/{h.connections} open", style="" if h.connections_open == h.connections else "red")
    lag = "-" if h.lag_ms is None else f"{h.lag_ms} ms, max {h.lag_max_ms}"
    books = Text(f"{h.books_synced}/{h.books} synced", style="" if h.books_synced == h.books else "yellow")
    gaps = Text(str(h.gaps_open), style="yellow" if h.gaps_open else "")
    rows: list[tuple[str, str | Text]] = [
        ("connections", up),
        ("frames/s", f"{h.frames_per_s:,.0f}"),
        ("lag", lag),
        ("reconnects", str(h.reconnects)),
        ("rotations", str(h.rotations)),
        ("zombies", str(h.zombies)),
        ("books", books),
        ("trade gaps", gaps),
        ("incomplete", str(h.incomplete)),
        ("backfilled", f"{h.trades_backfilled:,} trades"),
        ("gaps filled", str(h.gaps_filled)),
        ("REST weight", f"{h.weight_used}/{h.weight_limit}"),
        ("429 / 418", f"{h.throttled} / {h.banned}"),
        ("malformed", str(h.malformed)),
    ]
    for i in range(0, len(rows), pairs_per_line):
        grid.add_row(*(cell for pair in rows[i : i + pairs_per_line] for cell in pair))
    parts: list[RenderableType] = [grid]
    if snap.notices:
        parts.append(Text("\n".join(snap.notices[-3:]), style="yellow", overflow="ellipsis"))
    return Panel(Group(*parts), title="connection health", title_align="left")


#: Below this width the panels are stacked in more rows.
WIDE = 130


def render(snap: Snapshot, width: int = WIDE, height: int | None = None) -> RenderableType:
    """The whole view of ``snap``: flow, book, big trades, liquidations and connection health.

    Args:
        snap: what to show.
        width: the console width the layout is chosen for (two rows of panels from :data:`WIDE` columns on, three
            below).
        height: the screen height, for a live screen: when the whole view is taller, the lists are shortened (the
            strongest flows, the levels nearest the spread, the newest trades) to the most rows that fit, and the
            health panel takes two figures per line. ``None``: no limit (plain text).
    """
    if height is None:
        return _layout(snap, width, 1)
    # Measuring a view costs about as much as drawing it: start from what fitted this screen last time, and now and
    # then try one more row.
    key = (width, height)
    rows = _FIT.get(key, 0)
    if rows and next(_CALLS) % 8 == 0:
        rows = 0 if rows >= _MAX_ROWS else rows + 1
    while True:
        view = _layout(snap, width, 1) if rows == 0 else _layout(_trimmed(snap, rows), width, 2)
        if rows == 1 or _lines(view, width) <= height:
            _FIT[key] = rows
            return view
        rows = _MAX_ROWS if rows == 0 else rows - 1


#: Screen size → rows per list that fitted last time (0: the whole view).
_FIT: dict[tuple[int, int], int] = {}
_CALLS = itertools.count()
_MAX_ROWS = 10


def _lines(view: RenderableType, width: int) -> int:
    """How many lines ``view`` takes at ``width`` columns."""
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    return len(console.render_lines(view, console.options, pad=False))


def _layout(snap: Snapshot, width: int, pairs: int) -> RenderableType:
    when = dt.datetime.fromtimestamp(snap.now_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    header = Text.assemble(
        ("tapeflow ", "bold"),
        f"{snap.market} · {snap.source} · {snap.symbols} symbols · exchange time {when} UTC · "
        f"running {_duration(snap.elapsed_s)}",
        (" · faults injected" if snap.faults else "", "yellow"),
    )
    flow, health, book = _flow_panel(snap), _health_panel(snap, pairs), _book_panel(snap)
    trades, liqs = _trades_panel(snap), _liq_panel(snap)
    if width >= WIDE:
        return Group(header, _row((3, flow), (2, health)), _row((4, book), (5, trades), (5, liqs)))
    return Group(header, flow, _row((1, book), (1, health)), _row((1, trades), (1, liqs)))


def _trimmed(snap: Snapshot, n: int) -> Snapshot:
    """``snap`` with at most ``n`` rows per list."""
    flow = None if snap.flow is None else tuple(sorted(snap.flow, key=lambda r: -abs(r.net_quote))[:n])
    book = snap.book
    if book is not None:
        book = replace(book, bids=book.bids[:n], asks=book.asks[:n])
    return replace(snap, flow=flow, book=book, big_trades=snap.big_trades[:n], liquidations=snap.liquidations[:n])


def _row(*cells: tuple[int, RenderableType]) -> Table:
    grid = Table.grid(expand=True)
    for ratio, _ in cells:
        grid.add_column(ratio=ratio)
    grid.add_row(*(cell for _, cell in cells))
    return grid
