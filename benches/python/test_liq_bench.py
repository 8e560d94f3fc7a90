"""Liquidations through ``tapeflow._core`` against a pure-Python/NumPy implementation of the same rules, same run.

Run: ``.venv/bin/pytest benches/python/test_liq_bench.py --benchmark-enable --benchmark-only -q -p no:cacheprovider``
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np
import orjson
import pytest
from tests.engine.liq_reference import Liq, force_order_frame

from tapeflow import Engine

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "ADAUSDT", "LTCUSDT"]
N = 10_000


def _frames(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        liq = Liq(
            SYMBOLS[i % len(SYMBOLS)],
            1_763_000_000_000 + (i // len(SYMBOLS)) * 1000,
            "BUY" if i % 3 == 0 else "SELL",
            6_000_000_000_000 + (i % 977) * 137_000_000,
            100_000 * (i % 50 + 1),
        )
        out.append(force_order_frame(liq))
    return out


FRAMES = _frames(N)


def _e8(s: str) -> int:
    whole, _, frac = s.partition(".")
    return int(whole) * 100_000_000 + int((frac + "00000000")[:8])


class PyLiqStore:
    """The engine's rules in pure Python: exact e8/e16 ints, retention, log-price bins, anchored O(1) decay."""

    def __init__(self, *, retention_ms: int = 240 * 3_600_000, bin_pct: float = 0.25, tau_ms: float = 3_600_000.0):
        self.retention_ms, self.tau_ms = retention_ms, tau_ms
        self.step = math.log1p(bin_pct / 100.0)
        self.events: dict[str, deque[tuple[int, int, int, int]]] = {}
        self.bins: dict[str, dict[int, list[float]]] = {}
        self.anchor: dict[str, int] = {}
        self.clock = -(2**63)

    def apply(self, frame: bytes) -> None:
        o = orjson.loads(frame)["o"]
        symbol, side = o["s"], 0 if o["S"] == "SELL" else 1
        ap, z, t = _e8(o["ap"]), _e8(o["z"]), o["T"]
        price = ap if ap else _e8(o["p"])
        notional = price * z
        if t < self.clock - self.retention_ms:
            return
        self.events.setdefault(symbol, deque()).append((t, side, price, notional))
        anchor = self.anchor.setdefault(symbol, t)
        k = math.floor(math.log(price / 1e8) / self.step)
        b = self.bins.setdefault(symbol, {}).setdefault(k, [0.0, 0.0, 0.0, 0.0])
        q = notional / 1e16
        b[side] += q * math.exp((t - anchor) / self.tau_ms)
        b[2] += q * price / 1e8
        b[3] += q
        self.clock = max(self.clock, t)


def test_ingest_engine(benchmark: Any) -> None:
    benchmark.group = "liq/ingest/10000 forceOrder frames"

    def run(eng: Engine) -> None:
        assert eng.apply_frames(FRAMES, 0).errors == []

    benchmark.pedantic(run, setup=lambda: ((Engine("usdm"),), {}), rounds=20)
    benchmark.extra_info["frames"] = len(FRAMES)


def test_ingest_python_baseline(benchmark: Any) -> None:
    benchmark.group = "liq/ingest/10000 forceOrder frames"

    def run(store: PyLiqStore) -> None:
        for f in FRAMES:
            store.apply(f)

    benchmark.pedantic(run, setup=lambda: ((PyLiqStore(),), {}), rounds=5)
    benchmark.extra_info["frames"] = len(FRAMES)


def _thousand_bins() -> list[bytes]:
    return [
        force_order_frame(
            Liq(
                "BTCUSDT",
                1_763_000_000_000 + k * 1000,
                "BUY" if k % 2 else "SELL",
                round(1e10 * 1.001 ** (k % 1000 + 0.5)),
                10**8,
            )
        )
        for k in range(2000)
    ]


@pytest.fixture(scope="module")
def engine_1000_bins() -> Engine:
    eng = Engine("usdm")
    eng.liq_configure(bin_pct=0.1, min_events=1)
    assert eng.apply_frames(_thousand_bins(), 0).errors == []
    assert len(eng.liq_clusters("BTCUSDT")) == 1000
    return eng


def test_best_cluster_engine(benchmark: Any, engine_1000_bins: Engine) -> None:
    benchmark.group = "liq/best_cluster/1000 bins"
    best = benchmark(engine_1000_bins.best_cluster, "BTCUSDT", 0.0005)
    assert best is not None


def test_clusters_engine(benchmark: Any, engine_1000_bins: Engine) -> None:
    benchmark.group = "liq/clusters/1000 bins"
    assert len(benchmark(engine_1000_bins.liq_clusters, "BTCUSDT")) == 1000


def test_cluster_arrays_engine(benchmark: Any, engine_1000_bins: Engine) -> None:
    benchmark.group = "liq/clusters/1000 bins"
    assert len(benchmark(engine_1000_bins.liq_cluster_arrays, "BTCUSDT")["bin"]) == 1000


def _numpy_state() -> tuple[Any, ...]:
    store = PyLiqStore(bin_pct=0.1)
    for f in _thousand_bins():
        store.apply(f)
    bins = store.bins["BTCUSDT"]
    keys = np.array(sorted(bins), dtype=np.int64)
    rows = np.array([bins[k] for k in keys.tolist()])
    return store, keys, rows


def _numpy_query(keys: Any, rows: Any, anchor: int, now: int, tau: float, min_strength: float) -> tuple[int, float]:
    decayed = rows[:, :2] * math.exp(-(now - anchor) / tau)
    total = decayed.sum(axis=1)
    strength = total / total.sum()
    ok = strength >= min_strength
    i = int(np.argmax(np.where(ok, total, -np.inf)))
    return int(keys[i]), float(rows[i, 2] / rows[i, 3])


def test_best_cluster_numpy_baseline(benchmark: Any) -> None:
    """The same query in NumPy over per-bin arrays already maintained (the fairest vectorised equivalent)."""
    benchmark.group = "liq/best_cluster/1000 bins"
    store, keys, rows = _numpy_state()
    benchmark(_numpy_query, keys, rows, store.anchor["BTCUSDT"], store.clock, store.tau_ms, 0.0005)


def _numpy_clusters(keys: Any, rows: Any, anchor: int, now: int, tau: float, step: float) -> dict[str, Any]:
    decayed = rows[:, :2] * math.exp(-(now - anchor) / tau)
    total = decayed.sum(axis=1)
    return {
        "bin": keys,
        "price": rows[:, 2] / rows[:, 3],
        "price_low": np.exp(keys * step),
        "price_high": np.exp((keys + 1) * step),
        "side": (decayed[:, 1] > decayed[:, 0]).astype(np.int64),
        "decayed": total,
        "strength": total / total.sum(),
    }


def test_clusters_numpy_baseline(benchmark: Any) -> None:
    """All clusters as arrays in NumPy over per-bin arrays already maintained."""
    benchmark.group = "liq/clusters/1000 bins"
    store, keys, rows = _numpy_state()
    out = benchmark(_numpy_clusters, keys, rows, store.anchor["BTCUSDT"], store.clock, store.tau_ms, store.step)
    assert len(out["bin"]) == 1000
