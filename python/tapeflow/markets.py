"""Facts about Binance's three markets: endpoints, stream names and routes, per-connection caps, REST weights.

From Binance's documentation (see docs/engine.md and the exchange reference):

* spot ``wss://stream.binance.com:9443``, REST ``https://api.binance.com/api/v3``: 1024 streams and 5 incoming
  messages per second per connection;
* USD-M ``wss://fstream.binance.com``, REST ``https://fapi.binance.com/fapi/v1``: 1024 streams, 10 messages per
  second, and since 2026-04-23 two routes: ``/public`` for book data (``@depth*``, ``@bookTicker``, ``@trade``) and
  ``/market`` for everything else (``@aggTrade``, ``@kline_*``, ``@markPrice*``, ``@forceOrder``, tickers…). A
  stream subscribed on the wrong route is acknowledged and never delivers;
* COIN-M ``wss://dstream.binance.com``, REST ``https://dapi.binance.com/dapi/v1``: 1024 streams, 10 messages per
  second, no routes; every contract is quoted in USD and has a ``contractSize``.

Nothing else in tapeflow spells out a market's numbers: the shell asks its :class:`MarketSpec`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

__all__ = [
    "MARKETS",
    "PUBLIC_KINDS",
    "MarketSpec",
    "kind_of",
    "market_spec",
    "route_of",
    "stream_url",
]


@dataclass(frozen=True)
class MarketSpec:
    """Endpoints and limits of one market.

    Attributes:
        name: ``"spot"``, ``"usdm"`` or ``"coinm"``.
        ws_url: WebSocket base URL (no path).
        rest_url: REST base URL (no path).
        rest_prefix: path prefix of the REST API (``/api/v3``, ``/fapi/v1``, ``/dapi/v1``).
        max_streams: streams per connection.
        msg_rate: incoming messages per second per connection (pings, pongs and control messages all count).
        routed: whether streams are split between ``/public`` and ``/market`` routes.
        depth_weights: REST weight of a depth snapshot by ``limit``.
        agg_trades_weight: REST weight of one ``aggTrades`` page.
        exchange_info_weight: REST weight of ``exchangeInfo``.
        weight_limit: request weight per minute when ``exchangeInfo`` does not say.
        futures: a futures market (liquidation and mark price streams exist).
        quoted_in_usd: every contract is quoted in USD (COIN-M): a quote-asset filter does not apply, and flow and
            liquidation values need each contract's ``contractSize``.
    """

    name: str
    ws_url: str
    rest_url: str
    rest_prefix: str
    max_streams: int
    msg_rate: int
    routed: bool
    depth_weights: Mapping[int, int]
    agg_trades_weight: int
    exchange_info_weight: int
    weight_limit: int
    futures: bool
    quoted_in_usd: bool

    def depth_weight(self, limit: int) -> int:
        """Weight of a snapshot of ``limit`` levels (the smallest documented tier that holds it)."""
        for tier in sorted(self.depth_weights):
            if limit <= tier:
                return self.depth_weights[tier]
        return max(self.depth_weights.values())

    def route_of(self, stream: str, routes: Mapping[str, str] | None = None) -> str:
        """The route of a stream: ``"public"`` or ``"market"`` on USD-M, ``""`` elsewhere.

        Args:
            routes: overrides by stream kind (``{"aggTrade": "market"}``); the monitor updates its own table when a
                kind turns out to be silent on the route it was given.
        """
        if not self.routed:
            return ""
        kind = kind_of(stream)
        if routes is not None and kind in routes:
            return routes[kind]
        return "public" if kind in PUBLIC_KINDS else "market"

    def canary(self, route: str, symbol: str) -> str:
        """A stream of ``symbol`` with a fixed cadence on ``route``: a connection that carries it and hears nothing
        for seconds is dead, whatever its own streams are (partial depth on spot and on USD-M ``/public``, the mark
        price elsewhere)."""
        low = symbol.lower()
        if not self.futures:
            return f"{low}@depth5"
        if route == "public":
            return f"{low}@depth5@500ms"
        return f"{low}@markPrice@1s"


_USDM = MarketSpec(
    name="usdm",
    ws_url="wss://fstream.binance.com",
    rest_url="https://fapi.binance.com",
    rest_prefix="/fapi/v1",
    max_streams=1024,
    msg_rate=10,
    routed=True,
    depth_weights={5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20},
    agg_trades_weight=20,
    exchange_info_weight=1,
    weight_limit=2400,
    futures=True,
    quoted_in_usd=False,
)
MARKETS: dict[str, MarketSpec] = {
    "spot": replace(
        _USDM,
        name="spot",
        ws_url="wss://stream.binance.com:9443",
        rest_url="https://api.binance.com",
        rest_prefix="/api/v3",
        msg_rate=5,
        routed=False,
        depth_weights={100: 5, 500: 25, 1000: 50, 5000: 250},
        agg_trades_weight=4,
        exchange_info_weight=20,
        weight_limit=6000,
        futures=False,
    ),
    "usdm": _USDM,
    # COIN-M shares USD-M's limits and weights (and, since 2026-06-30, its IP weight budget).
    "coinm": replace(
        _USDM,
        name="coinm",
        ws_url="wss://dstream.binance.com",
        rest_url="https://dapi.binance.com",
        rest_prefix="/dapi/v1",
        routed=False,
        quoted_in_usd=True,
    ),
}

#: USD-M stream kinds served on ``/public`` (everything else is on ``/market``).
PUBLIC_KINDS = frozenset({"depth", "bookTicker", "trade", "rpiDepth"})


def market_spec(market: str) -> MarketSpec:
    """The spec of ``"spot"``, ``"usdm"`` or ``"coinm"``.

    Raises:
        ValueError: for any other name.
    """
    try:
        return MARKETS[market]
    except (KeyError, TypeError):
        raise ValueError(f"unknown market {market!r}: expected 'spot', 'usdm' or 'coinm'") from None


def kind_of(stream: str) -> str:
    """The kind of a stream name: ``btcusdt@depth@100ms`` → ``depth``, ``!forceOrder@arr`` → ``forceOrder``,
    ``btcusdt@kline_1m`` → ``kline``, ``btcusdt@depth5@500ms`` → ``depth``."""
    head, _, tail = stream.partition("@")
    name = head[1:] if head.startswith("!") else tail.split("@", 1)[0]
    name = name.split("_", 1)[0]
    return name.rstrip("0123456789") or name


def route_of(market: str, stream: str, routes: Mapping[str, str] | None = None) -> str:
    """:meth:`MarketSpec.route_of` of the market called ``market``."""
    return market_spec(market).route_of(stream, routes)


def stream_url(ws_url: str, route: str, streams: Iterable[str] = ()) -> str:
    """A combined-stream URL: ``<ws_url>[/<route>]/stream?streams=a/b``."""
    base = ws_url.rstrip("/") + (f"/{route}" if route else "")
    return f"{base}/stream?streams={'/'.join(streams)}"
