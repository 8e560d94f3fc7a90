"""Scenario 3: liquidation totals and series, tapeflow against the service it replaces.

The old service (/work/shared/reference/liquidation-service-api.md) keeps the BTCUSDT events of the all-market
``!forceOrder@arr`` stream in a deque for 240 h, prunes it on every write and read, and scans it for every request;
notional = price (``ap``, else ``p``) x filled quantity ``z`` as floats, answers rounded to cents. Here it is written
as that service does it, fed the same raw frames as tapeflow. Exactness is checked against integer sums.
"""

from __future__ import annotations

import random
import sys
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from reference import E8
from sessions import ROOT
from timing import interleaved, summary, timed

sys.path.insert(0, str(ROOT / "tests" / "engine"))  # the exact liquidation reference of the tests
from liq_reference import Liq, force_order_frame

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "ADAUSDT", "LTCUSDT"]
TOTALS = [(m, side) for m in (60, 1_440, 14_400) for side in (None, "BUY", "SELL")]
SERIES = [(1_440, 1), (14_400, 60)]
CENT = Decimal("0.01")


class OldService:
    retention = timedelta(hours=240)

    def __init__(self) -> None:
        self.events: deque[tuple[datetime, str, float]] = deque()

    def on_message(self, raw: bytes) -> None:
        o = orjson.loads(raw)["o"]
        if o["s"] != "BTCUSDT":
            return
        ap = float(o["ap"])
        price = ap if ap else float(o["p"])
        ts = datetime.fromtimestamp(o["T"] / 1000, tz=UTC)
        self.events.append((ts, o["S"], price * float(o["z"])))
        self._prune(ts)  # "now" is the wall clock there; the event time here, so that the replay is deterministic

    def _prune(self, now: datetime) -> None:
        cutoff = now - self.retention
        while self.events and self.events[0][0] < cutoff:
            self.events.popleft()

    def _window(self, now: datetime, minutes: int, side: str | None) -> list[tuple[datetime, str, float]]:
        self._prune(now)
        start = now - timedelta(minutes=minutes)
        return [e for e in self.events if start <= e[0] <= now and (side is None or e[1] == side)]

    def total(self, now: datetime, minutes: int, side: str | None) -> tuple[float, int]:
        events = self._window(now, minutes, side)
        return round(sum(e[2] for e in events), 2), len(events)

    def series(self, now: datetime, minutes: int, interval: int, side: str | None) -> list[tuple[int, float, int]]:
        buckets: dict[int, list[float]] = {}
        step = interval * 60
        for ts, _, notional in self._window(now, minutes, side):
            b = buckets.setdefault(int(ts.timestamp()) // step * step * 1000, [0.0, 0])
            b[0] += notional
            b[1] += 1
        return [(k, round(v[0], 2), int(v[1])) for k, v in sorted(buckets.items())]


def events(n: int, seed: int = 5) -> list[Liq]:
    """``n`` liquidations over ~240 h, one every 1-10 s (whole seconds), a quarter of them BTCUSDT."""
    rng = random.Random(seed)
    t, out = 1_763_000_000_000, []
    for _ in range(n):
        t += rng.randint(1, 10) * 1000
        symbol = "BTCUSDT" if rng.random() < 0.25 else rng.choice(SYMBOLS[1:])
        price = rng.randint(50_000, 110_000) * E8 + rng.randint(0, 99) * 1_000_000
        out.append(Liq(symbol, t, rng.choice(("BUY", "SELL")), price, rng.randint(1, 20_000) * 100_000))
    return out


def reference_total(evs: list[Liq], now: int, minutes: int, side: str | None) -> tuple[Decimal, int]:
    sel = [e for e in evs if e.symbol == "BTCUSDT" and now - minutes * 60_000 <= e.time <= now]
    sel = [e for e in sel if side is None or e.order_side == side]
    return Decimal(sum(e.notional_e16 for e in sel)) / E8**2, len(sel)


def reference_series(evs: list[Liq], now: int, minutes: int, interval: int) -> dict[int, tuple[Decimal, int]]:
    step = interval * 60_000
    out: dict[int, list[int]] = {}
    for e in evs:
        if e.symbol == "BTCUSDT" and now - minutes * 60_000 <= e.time <= now:
            b = out.setdefault(e.time // step * step, [0, 0])
            b[0] += e.notional_e16
            b[1] += 1
    return {k: (Decimal(v[0]) / E8**2, v[1]) for k, v in out.items()}


def run(n: int, rounds: int, log: Callable[[str], None]) -> dict[str, Any]:
    from tapeflow import Engine

    evs = events(n)
    frames = [force_order_frame(e) for e in evs]
    now_ms = evs[-1].time + 500  # no event on a window edge: the two inclusive/exclusive conventions agree
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    sides = {None: None, "BUY": "short", "SELL": "long"}  # an order SELL liquidates a long

    def engine_filled() -> Any:
        eng = Engine("usdm")
        for k in range(0, n, 1_000):
            eng.apply_frames(frames[k : k + 1_000], 0)
        return eng

    def service_filled() -> OldService:
        svc = OldService()
        for f in frames:
            svc.on_message(f)
        return svc

    eng, svc = engine_filled(), service_filled()
    out: dict[str, Any] = {"events": n, "btcusdt_events": len(svc.events), "checks": {}, "timing": {}}

    # Exactness of every total and every series bucket against integer sums: tapeflow's exact totals must equal
    # them, its series floats must be the nearest float to them, and the old service's answers must be them rounded
    # to cents. Errors are against those targets.
    checks: dict[str, list[Any]] = {
        f"{who} {what}": [0, 0, 0.0] for who in ("tapeflow", "old service") for what in ("totals", "series")
    }

    def score(name: str, got: Decimal, want: Decimal, cents: bool) -> None:
        target = want.quantize(CENT) if cents else want
        c = checks[name]
        c[0] += got == target
        c[1] += 1
        c[2] = max(c[2], float(abs(got - target)))

    for minutes, side in TOTALS:
        want, count = reference_total(evs, now_ms, minutes, side)
        mine = eng.liq_total("BTCUSDT", lookback_ms=minutes * 60_000, side=sides[side], now_ms=now_ms)
        assert mine.count == count
        score("tapeflow totals", Decimal(mine.notional_exact), want, cents=False)
        old, old_count = svc.total(now, minutes, side)
        assert old_count == count
        score("old service totals", Decimal(repr(old)), want, cents=True)
    for minutes, interval in SERIES:
        want_series = reference_series(evs, now_ms, minutes, interval)
        starts, notional, counts = eng.liq_series(
            "BTCUSDT", lookback_ms=minutes * 60_000, interval_ms=interval * 60_000, now_ms=now_ms
        )
        for start, value, count in zip(starts.tolist(), notional.tolist(), counts.tolist(), strict=True):
            if count:
                assert want_series[start][1] == count
                score("tapeflow series", Decimal(repr(value)), Decimal(repr(float(want_series[start][0]))), cents=False)
        for start, value, count in svc.series(now, minutes, interval, None):
            assert want_series[start][1] == count
            score("old service series", Decimal(repr(value)), want_series[start][0], cents=True)
    out["checks"] = {k: {"exact": v[0], "checked": v[1], "max_abs_error_usd": v[2]} for k, v in checks.items()}

    # Timing: ingest, then the 9 totals and the 2 series as a user would ask them.
    def totals_engine() -> None:
        for minutes, side in TOTALS:
            eng.liq_total("BTCUSDT", lookback_ms=minutes * 60_000, side=sides[side], now_ms=now_ms).notional  # noqa: B018

    def totals_service() -> None:
        for minutes, side in TOTALS:
            svc.total(now, minutes, side)

    def series_engine() -> None:
        for minutes, interval in SERIES:
            eng.liq_series("BTCUSDT", lookback_ms=minutes * 60_000, interval_ms=interval * 60_000, now_ms=now_ms)

    def series_service() -> None:
        for minutes, interval in SERIES:
            svc.series(now, minutes, interval, None)

    cases: dict[str, tuple[dict[str, Callable[[], float]], int]] = {
        "ingest": ({"tapeflow (batch)": lambda: timed(engine_filled), "old service": lambda: timed(service_filled)}, n),
        "totals": (
            {"tapeflow": lambda: timed(totals_engine), "old service": lambda: timed(totals_service)},
            len(TOTALS),
        ),
        "series": (
            {"tapeflow": lambda: timed(series_engine), "old service": lambda: timed(series_service)},
            len(SERIES),
        ),
    }
    for case, (contenders, items) in cases.items():
        times = interleaved(contenders, rounds)
        out["timing"][case] = {name: summary(seconds, items) for name, seconds in times.items()}
        for name, seconds in times.items():
            log(f"  liq {case:7} {name:18} {items / min(seconds):>14,.1f} /s")
    return out
