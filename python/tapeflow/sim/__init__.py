"""A local Binance-compatible exchange: a deterministic market served over real WebSocket and HTTP on loopback.

Use it as ``tapeflow sim`` or from tests::

    async with SimExchange(SimConfig(market="usdm", symbols=120, seed=7, speed=60.0)) as ex:
        ex.ws_url, ex.rest_url   # ws://127.0.0.1:port, http://127.0.0.1:port
        ex.truth.book("S0001USDT"), ex.truth.agg_trades("S0001USDT")
        ex.faults.disconnect_all(abrupt=True)
"""

from __future__ import annotations

from tapeflow.sim.book import AggTrade, Kline, Liquidation, Trade, digest
from tapeflow.sim.config import SimConfig
from tapeflow.sim.faults import Faults
from tapeflow.sim.model import BookState, Market, Truth
from tapeflow.sim.server import SimExchange, VirtualClock
from tapeflow.sim.symbols import SymbolSpec, load_specs

__all__ = [
    "AggTrade",
    "BookState",
    "Faults",
    "Kline",
    "Liquidation",
    "Market",
    "SimConfig",
    "SimExchange",
    "SymbolSpec",
    "Trade",
    "Truth",
    "VirtualClock",
    "digest",
    "load_specs",
]
