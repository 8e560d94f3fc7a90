"""Scenario 2: 15-minute taker buy/sell quote volume, for 1 symbol and for 400, on generated USD-M aggTrade frames.

Every contender ingests the same frames; the 15-minute buy and sell quote volume of the trade's symbol is read at
every 1,000th trade (and the last) and compared with an exact integer reference. The window is tapeflow's documented
one, which all contenders implement: at the time ``T`` of the newest trade it holds the trades with
``start <= T' < end``, ``end = (T // 1000 + 1) * 1000``, ``start = end - 900,000`` (one-second resolution).
"""

from __future__ import annotations

import bisect
import random
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
from reference import E8, e8
from timing import interleaved, summary, timed

WINDOW_MS = 900_000
CHECK_EVERY = 1_000
BATCH = 1_000  # frames per apply_frames call: a socket read's worth under load


def trades(symbols: int, n: int, per_second: float, seed: int = 11) -> list[tuple[str, int, str, str, bool]]:
    """``n`` trades ``(symbol, time_ms, price, qty, taker_buy)`` at ``per_second`` over all symbols."""
    rng = random.Random(seed)
    t, out = 1_763_000_000_000, []
    gap = 1000 / per_second
    for _ in range(n):
        t += int(rng.expovariate(1 / gap))
        price = f"{60_000 + rng.randint(0, 40_000) / 10:.1f}"
        out.append(
            (f"S{rng.randrange(symbols)}USDT", t, price, f"{rng.randint(1, 5_000) / 1000:.3f}", rng.random() < 0.5)
        )
    return out


def frame(i: int, tr: tuple[str, int, str, str, bool]) -> bytes:
    """The USD-M combined-stream frame of trade ``tr`` with aggregate id ``i`` (ids run on per symbol)."""
    s, t, p, q, buy = tr
    m = "false" if buy else "true"
    data = (
        f'{{"e":"aggTrade","E":{t + 5},"s":"{s}","a":{i},"p":"{p}","q":"{q}","nq":"{q}","f":{i},"l":{i},"T":{t},'
        f'"m":{m}}}'
    )
    return f'{{"stream":"{s.lower()}@aggTrade","data":{data}}}'.encode()


def _start(t: int) -> int:
    return (t // 1000 + 1) * 1000 - WINDOW_MS


def reference(tr: list[tuple[str, int, str, str, bool]], points: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Exact buy and sell quote volume (price x qty, integer e16 units) of the trade's symbol at each check point."""
    times: dict[str, list[int]] = {}
    sums: dict[str, list[tuple[int, int]]] = {}
    pos = []
    for s, t, p, q, buy in tr:
        quote = e8(p) * e8(q)
        b, a = sums.setdefault(s, [(0, 0)])[-1]
        sums[s].append((b + quote, a) if buy else (b, a + quote))
        times.setdefault(s, []).append(t)
        pos.append(len(times[s]))
    out = {}
    for i in points:
        s, t = tr[i][0], tr[i][1]
        first = bisect.bisect_left(times[s], _start(t))
        (b1, s1), (b0, s0) = sums[s][pos[i]], sums[s][first]
        out[i] = (Decimal(b1 - b0) / E8**2, Decimal(s1 - s0) / E8**2)
    return out


class DequeSums:
    """Per symbol a deque of trades and running sums, evicting from the left (the usual hand-written window)."""

    def __init__(self, exact: bool) -> None:
        self.exact = exact
        self.state: dict[str, list[Any]] = {}

    def apply(self, raw: bytes) -> list[Any]:
        d = orjson.loads(raw)["data"]
        t = d["T"]
        quote = e8(d["p"]) * e8(d["q"]) if self.exact else float(d["p"]) * float(d["q"])
        st = self.state.get(d["s"])
        if st is None:
            st = self.state[d["s"]] = [deque(), 0, 0]
        q = st[0]
        q.append((t, quote, not d["m"]))
        st[1 if not d["m"] else 2] += quote
        start = _start(t)
        while q[0][0] < start:
            _, old, was_buy = q.popleft()
            st[1 if was_buy else 2] -= old
        return st

    def value(self, st: list[Any]) -> tuple[Any, Any]:
        if self.exact:
            return Decimal(st[1]) / E8**2, Decimal(st[2]) / E8**2
        return st[1], st[2]


def recompute(history: dict[str, list[tuple[int, float, bool]]], raw: bytes) -> tuple[float, float]:
    """The forum answer: append the trade, then sum the symbol's whole 15 minutes again."""
    d = orjson.loads(raw)["data"]
    t = d["T"]
    h = history.setdefault(d["s"], [])
    h.append((t, float(d["p"]) * float(d["q"]), not d["m"]))
    start, buy, sell = _start(t), 0.0, 0.0
    for tt, quote, b in reversed(h):
        if tt < start:
            break
        if b:
            buy += quote
        else:
            sell += quote
    return buy, sell


def pandas_rolling(frames: list[bytes]) -> Any:
    """Batch: a DataFrame of the parsed frames, 15-minute rolling sums per symbol at every trade."""
    import pandas as pd

    df = pd.DataFrame([orjson.loads(f)["data"] for f in frames], columns=["s", "T", "p", "q", "m"])
    quote = df["p"].astype(float) * df["q"].astype(float)
    df["buy"] = quote.where(~df["m"], 0.0)
    df["sell"] = quote.where(df["m"], 0.0)
    df["ts"] = pd.to_datetime(df["T"] // 1000, unit="s")
    groups = df.groupby("s", sort=False)
    rolled = groups.rolling("900s", on="ts")[["buy", "sell"]].sum()  # rows grouped by symbol, in trade order
    out = np.empty((len(df), 2))
    out[np.argsort(groups.ngroup().to_numpy(), kind="stable")] = rolled.to_numpy()
    return out


def run_case(symbols: int, n: int, per_second: float, rounds: int, log: Callable[[str], None]) -> dict[str, Any]:
    tr = trades(symbols, n, per_second)
    ids: dict[str, int] = {}
    frames = []
    for x in tr:
        ids[x[0]] = ids.get(x[0], 0) + 1
        frames.append(frame(ids[x[0]], x))
    points = [*range(CHECK_EVERY - 1, n, CHECK_EVERY), n - 1]
    points = sorted(set(points))
    want = reference(tr, points)
    got: dict[str, dict[int, tuple[Any, Any]]] = {}

    def tapeflow_run(batch: bool, record: dict[int, tuple[Any, Any]] | None) -> Callable[[], None]:
        from tapeflow import Engine

        engine = Engine("usdm", flow_horizons=("15m",), flow_intervals=())

        def go() -> None:
            for k in range(0, n, BATCH):
                chunk = frames[k : k + BATCH]
                if batch:
                    engine.apply_frames(chunk, 0)
                else:
                    for f in chunk:
                        engine.apply_frame(f, 0)
                i = k + len(chunk) - 1
                v = engine.volume(tr[i][0], "15m")
                if record is not None:
                    x = v.exact()
                    record[i] = (x["buy_quote"], x["sell_quote"])
                else:
                    v.buy_quote, v.sell_quote  # noqa: B018

        return go

    def deque_run(exact: bool, record: dict[int, tuple[Any, Any]] | None) -> Callable[[], None]:
        w = DequeSums(exact)
        check = set(points)

        def go() -> None:
            apply = w.apply
            for i, f in enumerate(frames):
                st = apply(f)
                if i in check:
                    value = w.value(st)
                    if record is not None:
                        record[i] = value

        return go

    def pandas_run(record: dict[int, tuple[Any, Any]] | None) -> Callable[[], None]:
        def go() -> None:
            rolled = pandas_rolling(frames)
            if record is not None:
                for i in points:
                    record[i] = (rolled[i, 0], rolled[i, 1])

        return go

    # The naive recompute costs (trades in the window) per trade: it is timed on a slice once the window is full.
    warm = min(n // 2, int(per_second * WINDOW_MS / 1000) + 1)
    timed_slice = frames[warm : warm + 2_000]

    def recompute_run(record: dict[int, tuple[Any, Any]] | None) -> Callable[[], None]:
        history: dict[str, list[tuple[int, float, bool]]] = {}
        for f in frames[:warm]:
            recompute(history, f)

        def go() -> None:
            for k, f in enumerate(timed_slice):
                value = recompute(history, f)
                if record is not None and warm + k in want:
                    record[warm + k] = value

        return go

    makers: dict[str, Callable[[dict[int, tuple[Any, Any]] | None], Callable[[], None]]] = {
        "tapeflow (batch)": lambda r: tapeflow_run(True, r),
        "tapeflow (per frame)": lambda r: tapeflow_run(False, r),
        "deque + running float sums": lambda r: deque_run(False, r),
        "deque + running exact int sums": lambda r: deque_run(True, r),
        "pandas rolling (batch)": pandas_run,
        "naive recompute per trade": recompute_run,
    }
    items = {name: n for name in makers} | {"naive recompute per trade": len(timed_slice)}
    for name, make in makers.items():
        got[name] = {}
        make(got[name])()
    times = interleaved({name: (lambda m=make: timed(m(None))) for name, make in makers.items()}, rounds)
    out: dict[str, Any] = {"symbols": symbols, "trades": n, "window_trades": warm, "contenders": {}}
    for name, seconds in times.items():
        out["contenders"][name] = summary(seconds, items[name]) | _exactness(got[name], want)
        log(f"  {symbols:>3} symbols  {name:32} {items[name] / min(seconds):>12,.0f} trades/s")
    out["contenders"]["naive recompute per trade"]["note"] = (
        f"timed on {len(timed_slice):,} trades after {warm:,} (a full window); its cost grows with the window"
    )
    return out


def _exactness(got: dict[int, tuple[Any, Any]], want: dict[int, tuple[Decimal, Decimal]]) -> dict[str, Any]:
    """How many check points hold the exact values: equal to the reference for exact types; for floats, equal to the
    reference rounded to the nearest float (the best a float can hold). Plus the largest relative error seen."""
    exact, worst = 0, 0.0
    for i, value in got.items():
        ok = True
        for v, r in zip(value, want[i], strict=True):
            ok = ok and (v == r if isinstance(v, Decimal) else float(v) == float(r))
            err = abs(Decimal(v) - r)
            worst = max(worst, float(err / r) if r else float(err))
        exact += ok
    return {"checked": len(got), "exact": exact, "max_rel_error": worst}
