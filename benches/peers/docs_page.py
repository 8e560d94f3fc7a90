"""docs/peers.md: the committed results with how they were made, written by ``run.py`` next to results.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import report
from bench_books import PEERS, SLOW_CAP, SLOW_PEERS

INTRO = """\
# tapeflow side by side with the libraries people use

This page is written by the peer benchmark suite (`benches/peers/`) from its last committed run
(`benches/peers/results/results.json`). To reproduce it:

```
make bench-peers
```

That builds tapeflow's abi3 wheel (`make wheel`), creates a separate venv under `target/bench-peers` on CPython 3.13
(3.12 if 3.13 is missing) with the wheel and the peer libraries pinned in `benches/peers/requirements.txt` (never in
the project's `.venv`), and runs `benches/peers/run.py`, which rewrites `benches/peers/results/` (JSON, Markdown, PNG
charts) and this page. `make bench-peers BENCH_ARGS=--quick` is a smaller smoke run (its figures are not comparable).

How the figures are made:
- One process, one run: every contender is timed in each round, the order rotated from round to round (ABC, BCA,
  CAB, ...), so that the machine's drift spreads over all of them; a figure is the median round. The garbage
  collector is paused while a contender is timed.
- Every contender gets the same raw frame bytes and pays for its own parsing (orjson for the Python peers, the
  peer's own parser where it brings one), as tapeflow parses bytes too. Set-up (building and syncing the books,
  filling a window) is not timed.
- Every figure has a correctness column, checked against an exact reference written in the suite: an integer
  (e8) replay of the depth sessions by the official sync rules, itself checked line by line against the golden
  files of `tests/data/golden` (top 10, level counts and whole-book SHA-256 of every applied diff); integer sums
  for the flow windows and the liquidation totals.
"""

BOOKS = """\
## Local order books

Sessions: the three recordings shipped in the wheel (real Binance spot, USD-M and COIN-M depth streams with their
REST snapshots; 18 symbols) and a generated spot stream (4 symbols, 1,000 levels a side, 1-12 level changes per
diff). The set-up of a session syncs every book: the snapshots and each symbol's events up to the first diff it
applies after its snapshot (so that clients which sync lazily, at the next diff, are synced as well); every later
depth frame is timed. Each symbol keeps its order; only the interleaving of different symbols changes.

Modes: **apply** (diffs only), **apply + best bid/ask** (read after every frame, for the frame's symbol), **apply +
top 10** (both sides' top 10 read after every frame). tapeflow reads the best bid/ask with `Engine.best(symbol)`
(one tuple of floats) and the top 10 with `Engine.book(symbol, depth)` (an owned view; NumPy arrays for the levels),
and takes the symbol from the frame's stream name; `tapeflow (batch)` applies a
session's timed frames in one `Engine.apply_frames` call. On the generated stream, peers slower than ~10k frames/s
on deep books ({slow}) are timed on the first {cap:,} frames.

Correctness: each contender replays each whole session once more, untimed, and its top 10 of the symbol is
compared with the reference's after every diff the reference applied (every 10th on the generated stream);
tapeflow's whole-book digests are also compared with the golden files.

How each contender is driven:
{peers}
"""

FLOW = """\
## 15-minute taker buy/sell volume

Generated USD-M `aggTrade` frames: 1 symbol at 20 trades/s (100,000 trades; ~18,000 in a full window) and 400
symbols at 100 trades/s in all (200,000 trades). The window is tapeflow's documented one, one-second resolution,
which every contender implements; the buy and sell quote volume of the trade's symbol is read at every 1,000th trade.

- **tapeflow**: `Engine(flow_horizons=("15m",))`, frames through `apply_frames` in batches of 1,000 (or
  `apply_frame` one by one), `Engine.volume(symbol, "15m")` at the check points (`Volume.exact()` for the check).
- **deque + running sums**: per symbol a deque of trades with running buy/sell sums, evicting from the left; float
  sums, or exact integer sums of e8 x e8.
- **pandas rolling**: a DataFrame of the parsed frames, `groupby(symbol).rolling("900s").sum()` over the whole stream
  at once (batch: it gives the value at every trade, but only after the fact).
- **naive recompute**: the forum answer, re-summing the symbol's whole window on every trade; its cost grows with the
  window, so it is timed on 2,000 trades once the window is full.

## Liquidations

150,000 generated `forceOrder` frames over ~240 h (a quarter BTCUSDT), as the all-market stream carries them. The
old service (`liquidation-service-api.md`) is written as it works: BTCUSDT events in a deque of
`(datetime, side, float notional)`, pruned to 240 h on every write and read, each request a scan, answers rounded
to cents. Queries: totals over 60, 1,440 and 14,400 minutes for both sides and each side (9), series of 1,440
minutes by 1 minute and of 14,400 minutes by 60 (2); tapeflow answers them with `liq_total` and `liq_series`.
"""

NOTES = """\
## What the runs showed besides speed

- **python-binance** keys levels by price string and deletes a level only when its quantity is the string
  `"0.00000000"`; futures streams spell zero `"0"` or `"0.000"`, so removed levels stay in its futures books and its
  top 10 is wrong from the first removal (the "top 10 correct" column). Its own futures manager does not apply diffs
  at all (it keeps partial-depth snapshots); here its `DepthCache` gets the diffs through its manager's
  `_apply_orders`. Every read sorts the whole side.
- **UNICORN** requests a new snapshot whenever the buffered diffs hold no sync point yet, instead of waiting for the
  next diff: on the recordings, whose snapshots are often newer than the frames that follow them, it asked for the
  number of extra snapshots shown as "re-snapshots" (each a REST request of weight 20 on futures in production).
  It trims each side to 1,000 levels by sorting the price strings on every diff, and every read sorts again.
- **nautilus_trader**'s `BookLevel.size()` returns a float that can be off in the last bits (516666.00000000006 for
  a level of 516666); the suite reads the exact `Quantity` of the level instead.
- **Float windows** (deque with float sums, pandas rolling, the naive recompute) are off from the exact sums in the
  last bits (running sums drift; re-summing rounds): the "exact" column counts check points that hold the float
  nearest to the exact value. The exact-int deque is exact but slower than the float one.
- **The old liquidation service** rounds float sums to cents: a few series buckets are a cent off.
  tapeflow's totals are exact decimals; its series are floats, within a few units in the last place.
"""


def _peer_lines() -> str:
    out = []
    for make in PEERS:
        out.append(f"- **{make.name}**: {make.detail}.")  # type: ignore[attr-defined]
    return "\n".join(out)


def write(results: dict[str, Any], path: Path) -> None:
    books = BOOKS.format(slow=", ".join(sorted(SLOW_PEERS)), cap=SLOW_CAP, peers=_peer_lines())
    charts = "\n".join(
        f"![{name}](../benches/peers/results/{name}.png)"
        for name in [f"books_{d}" for d in results["books"]] + ["flow", "liq"]
    )
    parts = [
        INTRO,
        "## Results\n",
        report.headline(results),
        "",
        report.markdown(results),
        charts,
        "",
        books,
        FLOW,
        NOTES,
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
