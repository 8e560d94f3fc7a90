"""Trade flow through ``tapeflow._core`` against the ways people do it in Python today, same run.

- ``engine``: raw combined-stream ``aggTrade`` frames in batches through ``Engine.apply_frames`` (decode, dedupe by
  id, gap check, 5 sliding horizons, 4 aligned intervals, exact integer sums); REST ``aggTrades`` bodies of 1,000
  rows through ``Engine.apply_agg_trades``.
- ``deque``: baseline (a), ``orjson.loads`` per frame and, per symbol and horizon, a deque with running float sums
  (append, add, pop the expired from the left, subtract). It does less than the engine: no dedupe, no gaps, no
  aligned intervals, and its float sums drift.
- ``recompute``: baseline (b), per trade re-summing the 15m window of a symbol from a list of its trades. Its cost
  per trade grows with the trades in the window, so it is run capped (500 trades on a window of 18,000 trades:
  a symbol at 20 trades/s) and the frames/s figure is extrapolated from that; it is labelled so in ``extra_info``.

Each ingest benchmark stores ``frames_per_s`` in ``extra_info``. ``volumes`` times the all-symbols query of 2,000
symbols x 4 horizons (target < 2 ms).

Run: ``.venv/bin/pytest benches/python/test_flow_bench.py --benchmark-enable --benchmark-only -q -p no:cacheprovider``
"""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson
import pytest

from tapeflow import Engine

N_SYMBOLS = 50
N = 200_000
BATCH = 1_000
HORIZONS_MS = (60_000, 300_000, 900_000, 3_600_000, 14_400_000)
T0 = 1_763_000_000_000


def _frame(i: int, symbols: int = N_SYMBOLS) -> bytes:
    """A USD-M combined-stream aggTrade frame in Binance's key order; each symbol trades every 100 ms."""
    s = f"SYM{i % symbols}USDT"
    a = i // symbols
    t = T0 + a * 100
    price = f"{60_000 + (i % 977) * 0.1:.1f}"
    qty = f"{0.001 * (i % 50 + 1):.3f}"
    m = "true" if i % 3 == 0 else "false"
    return (
        f'{{"stream":"{s.lower()}@aggTrade","data":{{"e":"aggTrade","E":{t + 3},"s":"{s}","a":{a},"p":"{price}",'
        f'"q":"{qty}","nq":"{qty}","f":{a * 2},"l":{a * 2 + 1},"T":{t},"m":{m}}}}}'
    ).encode()


FRAMES = [_frame(i) for i in range(N)]
BATCHES = [FRAMES[i : i + BATCH] for i in range(0, N, BATCH)]


def _body(first: int, rows: int) -> bytes:
    return orjson.dumps(
        [
            {
                "a": first + k,
                "p": f"{60_000 + k % 977 * 0.1:.1f}",
                "q": f"{0.001 * (k % 50 + 1):.3f}",
                "f": 2 * (first + k),
                "l": 2 * (first + k) + 1,
                "T": T0 + (first + k) * 100,
                "m": k % 3 == 0,
                "M": True,
            }
            for k in range(rows)
        ]
    )


BODIES = [_body(b * 1_000, 1_000) for b in range(50)]


def _rate(benchmark: Any, frames: int, label: str = "measured") -> None:
    benchmark.extra_info["frames"] = frames  # the throughput table of conftest.py (median round)
    benchmark.extra_info["frames_per_s"] = round(frames / benchmark.stats.stats.min)
    benchmark.extra_info["figure"] = label


def _ingest_engine() -> Engine:
    engine = Engine("usdm")
    for batch in BATCHES:
        engine.apply_frames(batch, 0)
    return engine


def test_ingest_frames_engine(benchmark: Any) -> None:
    benchmark.group = f"flow/ingest {N:,} aggTrade frames"
    engine = benchmark.pedantic(_ingest_engine, rounds=5, iterations=1, warmup_rounds=1)
    _rate(benchmark, N)
    assert engine.flow_stats().aggtrades == N
    assert engine.gaps() == []


class DequeWindows:
    """Baseline (a): per symbol and horizon a deque of trades with running float sums."""

    def __init__(self) -> None:
        self.windows: dict[str, list[tuple[deque[tuple[int, float, float, bool]], list[float]]]] = {}

    def apply(self, frame: bytes) -> None:
        d = orjson.loads(frame)["data"]
        t, qty, buy = d["T"], float(d["q"]), not d["m"]
        quote = qty * float(d["p"])
        wins = self.windows.get(d["s"])
        if wins is None:
            wins = self.windows[d["s"]] = [(deque(), [0.0, 0.0, 0.0, 0.0]) for _ in HORIZONS_MS]
        for (q, sums), h in zip(wins, HORIZONS_MS, strict=True):
            q.append((t, qty, quote, buy))
            k = 0 if buy else 2
            sums[k] += qty
            sums[k + 1] += quote
            while q[0][0] <= t - h:
                _, oq, oquote, obuy = q.popleft()
                k = 0 if obuy else 2
                sums[k] -= oq
                sums[k + 1] -= oquote


def _ingest_deque() -> DequeWindows:
    w = DequeWindows()
    for f in FRAMES:
        w.apply(f)
    return w


def test_ingest_frames_deque_baseline(benchmark: Any) -> None:
    benchmark.group = f"flow/ingest {N:,} aggTrade frames"
    w = benchmark.pedantic(_ingest_deque, rounds=2, iterations=1)
    _rate(benchmark, N)
    assert len(w.windows) == N_SYMBOLS


WINDOW_TRADES = 18_000  # a symbol at 20 trades/s over 15 minutes
CAP = 500


def _recompute(history: list[tuple[int, float, float, bool]], frames: list[bytes]) -> float:
    """Baseline (b): append each trade and re-sum its symbol's 15m window from the list of trades."""
    net = 0.0
    for f in frames:
        d = orjson.loads(f)["data"]
        t = d["T"]
        history.append((t, float(d["q"]), float(d["q"]) * float(d["p"]), not d["m"]))
        start = t - 900_000
        buy = sell = 0.0
        for tt, _, quote, b in reversed(history):
            if tt <= start:
                break
            if b:
                buy += quote
            else:
                sell += quote
        net = buy - sell
    return net


def test_ingest_frames_recompute_baseline(benchmark: Any) -> None:
    benchmark.group = f"flow/ingest {N:,} aggTrade frames"
    frames = [_frame(i, symbols=1) for i in range(CAP)]
    first_t = T0
    # The window already holds WINDOW_TRADES trades (one every 50 ms) when the capped run starts.
    prefill = [(first_t - 900_000 + 1 + k * 50, 0.01, 600.0, k % 2 == 0) for k in range(WINDOW_TRADES)]

    def run() -> float:
        return _recompute(list(prefill), frames)

    benchmark.pedantic(run, rounds=3, iterations=1)
    _rate(benchmark, CAP, f"extrapolated: capped at {CAP} trades on a {WINDOW_TRADES:,}-trade window")


def test_ingest_rest_bodies_engine(benchmark: Any) -> None:
    benchmark.group = "flow/ingest 50 REST bodies x 1,000 rows"

    def run() -> Engine:
        engine = Engine("usdm")
        for body in BODIES:
            engine.apply_agg_trades("BTCUSDT", body)
        return engine

    engine = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    _rate(benchmark, 50_000)
    assert engine.flow_stats().aggtrades == 50_000


def test_ingest_rest_bodies_deque_baseline(benchmark: Any) -> None:
    benchmark.group = "flow/ingest 50 REST bodies x 1,000 rows"

    def run() -> list[tuple[deque[tuple[int, float, float, bool]], list[float]]]:
        wins: list[tuple[deque[tuple[int, float, float, bool]], list[float]]] = [
            (deque(), [0.0, 0.0, 0.0, 0.0]) for _ in HORIZONS_MS
        ]
        for body in BODIES:
            for row in orjson.loads(body):
                t, qty, buy = row["T"], float(row["q"]), not row["m"]
                quote = qty * float(row["p"])
                for (q, sums), h in zip(wins, HORIZONS_MS, strict=True):
                    q.append((t, qty, quote, buy))
                    k = 0 if buy else 2
                    sums[k] += qty
                    sums[k + 1] += quote
                    while q[0][0] <= t - h:
                        _, oq, oquote, obuy = q.popleft()
                        k = 0 if obuy else 2
                        sums[k] -= oq
                        sums[k + 1] -= oquote
        return wins

    benchmark.pedantic(run, rounds=2, iterations=1)
    _rate(benchmark, 50_000)


@pytest.fixture(scope="module")
def engine_2000() -> Engine:
    engine = Engine("usdm")
    frames = [_frame(i, symbols=2_000) for i in range(100_000)]
    for i in range(0, len(frames), BATCH):
        engine.apply_frames(frames[i : i + BATCH], 0)
    assert len(engine.volumes("15m")["symbol"]) == 2_000
    return engine


def test_volumes_2000_symbols_x_4_horizons(benchmark: Any, engine_2000: Engine) -> None:
    benchmark.group = "flow/volumes 2,000 symbols x 4 horizons"

    def run() -> list[dict[str, Any]]:
        return [engine_2000.volumes(w) for w in ("1m", "5m", "15m", "1h")]

    out = benchmark(run)
    assert all(len(o["net_quote"]) == 2_000 for o in out)
    benchmark.extra_info["target_ms"] = 2.0
