"""Symbol specifications for the simulator: tick and step grids, formatting, exchangeInfo entries.

All prices and quantities inside the simulator are ``int`` in 1e-8 units ("e8"), exactly as Binance keeps them; they
become decimal strings only when a frame or a REST body is written.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

E8 = 100_000_000
MARKETS = ("spot", "usdm", "coinm")


def parse_e8(text: str) -> int:
    """Parses a plain decimal string (``"0.00100000"``, ``"1000"``) into e8 units, exactly.

    Raises:
        ValueError: if the string has more than 8 decimals or is not a plain decimal.
    """
    whole, _, frac = text.strip().partition(".")
    frac = frac.rstrip("0")
    if len(frac) > 8 or not (whole or frac) or not (whole or "0").isdigit() or not (frac or "0").isdigit():
        raise ValueError(f"not an 8-decimal number: {text!r}")
    return int(whole or "0") * E8 + int(frac.ljust(8, "0") or "0")


def decimals_of(step_e8: int) -> int:
    """Number of decimals needed to print multiples of ``step_e8`` (``1_000_000`` → 2)."""
    dp = 8
    while dp > 0 and step_e8 % 10 ** (9 - dp) == 0:
        dp -= 1
    return dp


def fmt(value_e8: int, dp: int) -> str:
    """Formats an e8 value with ``dp`` decimals (truncating, so callers pass values on the grid)."""
    sign = "-" if value_e8 < 0 else ""
    v = abs(value_e8)
    whole, frac = divmod(v, E8)
    if dp == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:08d}"[: len(sign) + len(str(whole)) + 1 + dp]


def fmt_e16(value_e16: int, dp: int = 8) -> str:
    """Formats an e16 value (a price x quantity product) rounded half up to ``dp`` decimals, as Binance prints it."""
    scale = 10 ** (16 - dp)
    return fmt((value_e16 + scale // 2) // scale * 10 ** (8 - dp), dp)


@dataclass(frozen=True)
class SymbolSpec:
    """One tradable symbol of the simulated market.

    Attributes:
        symbol: upper-case symbol (``BTCUSDT``, ``BTCUSD_PERP``).
        pair: the pair (futures ``ps``/``pair``; equals ``symbol`` on spot).
        tick: price grid in e8 units.
        step: quantity grid in e8 units.
        price_dp: decimals printed for prices (8 on spot, the tick's decimals on futures).
        qty_dp: decimals printed for quantities.
        start_price: initial mid price in e8 units (on the tick grid).
        contract_size: COIN-M contract size in quote units (0 elsewhere).
        info: the symbol's exchangeInfo entry, served by ``exchangeInfo``.
    """

    symbol: str
    pair: str
    tick: int
    step: int
    price_dp: int
    qty_dp: int
    start_price: int
    contract_size: int = 0
    info: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _filters(info: dict[str, Any]) -> tuple[int, int]:
    tick = step = 0
    for f in info.get("filters", []):
        if f.get("filterType") == "PRICE_FILTER":
            tick = parse_e8(f["tickSize"])
        elif f.get("filterType") == "LOT_SIZE":
            step = parse_e8(f["stepSize"])
    if tick <= 0 or step <= 0:
        raise ValueError(f"{info.get('symbol')}: no usable PRICE_FILTER/LOT_SIZE")
    return tick, step


def _spec(market: str, info: dict[str, Any], rng: random.Random) -> SymbolSpec:
    tick, step = _filters(info)
    # Start far enough from zero that a random walk of a few thousand ticks never reaches it.
    start = tick * rng.randint(20_000, 200_000)
    spot = market == "spot"
    return SymbolSpec(
        symbol=info["symbol"],
        pair=info.get("pair", info["symbol"]),
        tick=tick,
        step=step,
        price_dp=8 if spot else decimals_of(tick),
        qty_dp=8 if spot else decimals_of(step),
        start_price=start,
        contract_size=int(info.get("contractSize", 0)) if market == "coinm" else 0,
        info=info,
    )


def _generated_info(market: str, i: int, rng: random.Random) -> dict[str, Any]:
    tick = rng.choice(["0.01", "0.001", "0.0001", "0.1"])
    step = rng.choice(["0.001", "0.01", "0.1", "1"]) if market != "coinm" else "1"
    base = f"S{i:04d}"
    if market == "coinm":
        symbol, pair = f"{base}USD_PERP", f"{base}USD"
    else:
        symbol = pair = f"{base}USDT"
    info: dict[str, Any] = {
        "symbol": symbol,
        "pair": pair,
        "status": "TRADING",
        "baseAsset": base,
        "quoteAsset": "USD" if market == "coinm" else "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000", "tickSize": tick},
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "9000000", "stepSize": step},
        ],
    }
    if market != "spot":
        info["contractType"] = "PERPETUAL"
    if market == "coinm":
        info["contractSize"] = 10
        info["contractStatus"] = info.pop("status")
    return info


def load_specs(
    market: str, symbols: int | list[str], seed: int, exchange_info: str | Path | None = None
) -> list[SymbolSpec]:
    """Builds the symbol list of a simulated market.

    Args:
        market: ``"spot"``, ``"usdm"`` or ``"coinm"``.
        symbols: a count (the first N trading symbols of ``exchange_info``, or N generated ones when no file is
            given) or an explicit list of symbol names (which must exist in ``exchange_info``).
        seed: seed of the start prices.
        exchange_info: path of an ``exchangeInfo`` reply; ``None`` generates symbols ``S0000USDT``...

    Returns:
        the specs, in a deterministic order.
    """
    if market not in MARKETS:
        raise ValueError(f"market must be one of {MARKETS}, not {market!r}")
    rng = random.Random(f"specs/{market}/{seed}")
    if exchange_info is None:
        if not isinstance(symbols, int):
            raise ValueError("explicit symbol names need an exchange_info file")
        return [_spec(market, _generated_info(market, i, rng), rng) for i in range(symbols)]
    data = json.loads(Path(exchange_info).read_text())
    by_name = {s["symbol"]: s for s in data["symbols"]}
    if isinstance(symbols, int):
        trading = [s for s in data["symbols"] if s.get("status", s.get("contractStatus")) == "TRADING"]
        chosen = trading[:symbols]
    else:
        chosen = [by_name[name.upper()] for name in symbols]
    return [_spec(market, s, rng) for s in chosen]
