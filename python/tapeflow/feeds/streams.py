"""Stream names, routes and limits of Binance's three markets, and the sharding of streams into connections.

Facts from Binance's documentation (see the README's reference notes):

* spot ``wss://stream.binance.com:9443``, REST ``https://api.binance.com/api/v3``: 1024 streams and 5 incoming
  messages per second per connection;
* USD-M ``wss://fstream.binance.com``, REST ``https://fapi.binance.com/fapi/v1``: 1024 streams, 10 messages per
  second, and since 2026-04-23 two routes: ``/public`` for book data (``@depth*``, ``@bookTicker``, ``@trade``) and
  ``/market`` for everything else (``@aggTrade``, ``@kline_*``, ``@markPrice*``, ``@forceOrder``, tickers…). A
  stream subscribed on the wrong route is acknowledged and never delivers;
* COIN-M ``wss://dstream.binance.com``, REST ``https://dapi.binance.com/dapi/v1``: 1024 streams, 10 messages per
  second, no routes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "MARKETS",
    "MarketSpec",
    "Shard",
    "kind_of",
    "plan_shards",
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
        weight_limit: request weight per minute when ``exchangeInfo`` does not say.
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
    weight_limit: int

    def depth_weight(self, limit: int) -> int:
        """Weight of a snapshot of ``limit`` levels (the smallest documented tier that holds it)."""
        for tier in sorted(self.depth_weights):
            if limit <= tier:
                return self.depth_weights[tier]
        return max(self.depth_weights.values())


_FUTURES_DEPTH = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}
MARKETS: dict[str, MarketSpec] = {
    "spot": MarketSpec(
        "spot",
        "wss://stream.binance.com:9443",
        "https://api.binance.com",
        "/api/v3",
        1024,
        5,
        False,
        {100: 5, 500: 25, 1000: 50, 5000: 250},
        4,
        6000,
    ),
    "usdm": MarketSpec(
        "usdm",
        "wss://fstream.binance.com",
        "https://fapi.binance.com",
        "/fapi/v1",
        1024,
        10,
        True,
        _FUTURES_DEPTH,
        20,
        2400,
    ),
    "coinm": MarketSpec(
        "coinm",
        "wss://dstream.binance.com",
        "https://dapi.binance.com",
        "/dapi/v1",
        1024,
        10,
        False,
        _FUTURES_DEPTH,
        20,
        2400,
    ),
}

#: USD-M stream kinds served on ``/public`` (everything else is on ``/market``).
PUBLIC_KINDS = frozenset({"depth", "bookTicker", "trade", "rpiDepth"})


def kind_of(stream: str) -> str:
    """The kind of a stream name: ``btcusdt@depth@100ms`` → ``depth``, ``!forceOrder@arr`` → ``forceOrder``,
    ``btcusdt@kline_1m`` → ``kline``, ``btcusdt@depth5@500ms`` → ``depth``."""
    head, _, tail = stream.partition("@")
    name = head[1:] if head.startswith("!") else tail.split("@", 1)[0]
    name = name.split("_", 1)[0]
    return name.rstrip("0123456789") or name


def route_of(market: str, stream: str, routes: Mapping[str, str] | None = None) -> str:
    """The route of a stream: ``"public"`` or ``"market"`` on USD-M, ``""`` elsewhere.

    Args:
        routes: overrides by stream kind (``{"aggTrade": "market"}``); the monitor updates its own table when a kind
            turns out to be silent on the route it was given.
    """
    if not MARKETS[market].routed:
        return ""
    kind = kind_of(stream)
    if routes is not None and kind in routes:
        return routes[kind]
    return "public" if kind in PUBLIC_KINDS else "market"


def stream_url(ws_url: str, route: str, streams: Iterable[str] = ()) -> str:
    """A combined-stream URL: ``<ws_url>[/<route>]/stream?streams=a/b``."""
    base = ws_url.rstrip("/") + (f"/{route}" if route else "")
    return f"{base}/stream?streams={'/'.join(streams)}"


@dataclass
class Shard:
    """The streams of one connection: all on one route, at most the market's cap."""

    route: str
    streams: list[str]


def plan_shards(
    market: str, streams: Iterable[str], *, cap: int | None = None, routes: Mapping[str, str] | None = None
) -> list[Shard]:
    """Splits streams into connections: by route first, then into groups of at most ``cap`` streams.

    Streams of one kind stay together where they can, so a connection carries one kind of traffic (its liveness is
    judged by that kind's expected activity) and all-market arrays share a connection with their canary.
    """
    limit = min(cap or MARKETS[market].max_streams, MARKETS[market].max_streams)
    by_key: dict[tuple[str, str], list[str]] = {}
    for s in streams:
        kind = kind_of(s)
        group = "all" if s.startswith("!") else kind
        by_key.setdefault((route_of(market, s, routes), group), []).append(s)
    shards: list[Shard] = []
    for (route, _), names in by_key.items():
        for i in range(0, len(names), limit):
            shards.append(Shard(route, names[i : i + limit]))
    return shards
