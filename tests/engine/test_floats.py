"""The floats the engine hands out are the floats nearest to the exact values: a window's sums against
``float(Decimal(...))`` of sums made here from the same trades' decimal strings.

A quote sum is a count of 1e-16 and a base sum one of 1e-8, mostly past 2^53 units, where dividing a rounded integer
would be up to two units in the last place off.
"""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tapeflow import Engine

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def decimals(most: int) -> st.SearchStrategy[str]:
    """Binance's decimal strings, eight places, below ``most``."""
    return st.builds(lambda whole, frac: f"{whole}.{frac:08d}", st.integers(0, most - 1), st.integers(0, 10**8 - 1))


# Trades of up to 1e13 quote (the engine refuses a trade over 1e14 as malformed).
trades = st.lists(st.tuples(decimals(10**6), decimals(10**7), st.booleans()), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(trades)
def test_window_floats_are_the_nearest_to_the_exact_sums(rows: list[tuple[str, str, bool]]) -> None:
    engine = Engine("usdm", flow_horizons=["1m"], flow_intervals=["1m"])
    body = [
        {"a": i + 1, "p": p, "q": q, "f": i + 1, "l": i + 1, "T": T0 + i, "m": m} for i, (p, q, m) in enumerate(rows)
    ]
    engine.apply_agg_trades("BTCUSDT", json.dumps(body).encode(), from_time_ms=T0)
    v = engine.volume("BTCUSDT", "1m", now_ms=T0 + len(rows))
    # A buyer-maker trade is a taker sell.
    buy = [(Decimal(p), Decimal(q)) for p, q, m in rows if not m]
    sell = [(Decimal(p), Decimal(q)) for p, q, m in rows if m]
    want = {
        "buy_base": sum((q for _, q in buy), Decimal(0)),
        "sell_base": sum((q for _, q in sell), Decimal(0)),
        "buy_quote": sum((p * q for p, q in buy), Decimal(0)),
        "sell_quote": sum((p * q for p, q in sell), Decimal(0)),
    }
    got = {name: getattr(v, name) for name in want}
    assert got == {name: float(exact) for name, exact in want.items()}
    assert v.net_quote == float(want["buy_quote"] - want["sell_quote"])
