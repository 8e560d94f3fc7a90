"""Which streams a Monitor follows, on which route, in which connection (pure: no sockets here).

Per symbol: ``<s>@depth[@speed]`` for a book, ``<s>@aggTrade`` for flow; for the market: ``!forceOrder@arr`` and
``!markPrice@arr@1s`` for liquidations (futures), plus any extra stream names. On USD-M each stream goes to its route
(``/public`` for book data, ``/market`` for the rest); a kind found silent on its route is moved to the other one,
at most twice (after that the streams are quiet, not misrouted). Connections carry one kind of traffic where they
can, at most ``cap`` streams, and a canary stream with a fixed cadence unless an all-market array gives them one.

Liquidations have no other source (Binance serves no history of them), so ``!forceOrder@arr`` is followed on two
independent connections: the all-market one, and a copy of its own opened :data:`LIQUIDATION_COPY_DELAY_S` later
(so their 24 h cuts and rotations fall at different times). The engine counts an event delivered by both once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tapeflow.markets import MarketSpec, kind_of

__all__ = ["LIQUIDATION_COPY_DELAY_S", "LIQUIDATION_STREAM", "Shard", "StreamPlan", "plan_shards", "symbol_of"]

#: The all-market streams of liquidation tracking; the mark-price array is every connection's canary on its route.
LIQUIDATION_STREAMS = ("!forceOrder@arr", "!markPrice@arr@1s")
#: The liquidation stream, followed twice.
LIQUIDATION_STREAM = LIQUIDATION_STREAMS[0]
#: The second copy of the liquidation stream opens this long after the first (seconds on the feed's clock).
LIQUIDATION_COPY_DELAY_S = 2.0


def symbol_of(stream: str) -> str:
    """The symbol of a per-symbol stream name, upper case (``btcusdt@aggTrade`` → ``BTCUSDT``)."""
    return stream.split("@", 1)[0].upper()


@dataclass
class Shard:
    """The streams of one connection: all on one route, at most the market's cap; opened ``delay_s`` after start."""

    route: str
    streams: list[str]
    delay_s: float = 0.0


def plan_shards(
    spec: MarketSpec, streams: Iterable[str], *, cap: int | None = None, routes: Mapping[str, str] | None = None
) -> list[Shard]:
    """Splits streams into connections: by route first, then into groups of at most ``cap`` streams.

    Streams of one kind stay together where they can, so a connection carries one kind of traffic (its liveness is
    judged by that kind's expected activity) and all-market arrays share a connection with their canary. One place of
    the market's cap is left for the canary a connection may add.
    """
    limit = min(cap or spec.max_streams, spec.max_streams) - 1
    by_key: dict[tuple[str, str], list[str]] = {}
    for s in streams:
        group = "all" if s.startswith("!") else kind_of(s)
        by_key.setdefault((spec.route_of(s, routes), group), []).append(s)
    return [
        Shard(route, names[i : i + limit]) for (route, _), names in by_key.items() for i in range(0, len(names), limit)
    ]


class StreamPlan:
    """The stream names of a Monitor and the routes they take (learned as kinds turn out silent).

    Args:
        spec: the market.
        depth_speed: diff-depth cadence suffix (``"100ms"``, or ``""`` for the market's default).
        flow: whether aggTrade streams are followed.
        liquidations: whether the all-market liquidation and mark price streams are followed.
        extra: more stream names.
        cap: streams per connection (the market's cap at most).
        routes: USD-M route overrides by stream kind.
    """

    def __init__(
        self,
        spec: MarketSpec,
        *,
        depth_speed: str,
        flow: bool,
        liquidations: bool,
        extra: Sequence[str] = (),
        cap: int | None = None,
        routes: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.depth_suffix = f"@{depth_speed}" if depth_speed else ""
        self.flow = flow
        self.liquidations = liquidations
        self.extra = list(extra)
        self.cap = min(cap or spec.max_streams, spec.max_streams)  # canary included (live subscribes count it)
        self.routes: dict[str, str] = dict(routes or {})
        self._flips: dict[str, int] = {}

    def symbol_streams(self, symbols: Iterable[str], books: set[str]) -> list[str]:
        """The per-symbol streams of ``symbols`` (a book for those in ``books``, trades for all with flow)."""
        out: list[str] = []
        for s in symbols:
            low = s.lower()
            if s in books:
                out.append(f"{low}@depth{self.depth_suffix}")
            if self.flow:
                out.append(f"{low}@aggTrade")
        return out

    def streams(self, symbols: Iterable[str], books: set[str]) -> list[str]:
        """Every stream of the Monitor."""
        out = self.symbol_streams(symbols, books)
        if self.liquidations:
            out += LIQUIDATION_STREAMS
        return out + [s for s in self.extra if s not in out]

    def shards(self, symbols: Iterable[str], books: set[str]) -> list[Shard]:
        """The connections to open at start-up (with the liquidation stream's second copy last)."""
        shards = plan_shards(self.spec, self.streams(symbols, books), cap=self.cap, routes=self.routes)
        if self.liquidations:
            shards.append(Shard(self.route_of(LIQUIDATION_STREAM), [LIQUIDATION_STREAM], LIQUIDATION_COPY_DELAY_S))
        return shards

    def route_of(self, stream: str) -> str:
        return self.spec.route_of(stream, self.routes)

    def by_route_and_kind(self, streams: Iterable[str]) -> list[tuple[str, list[str]]]:
        """``streams`` grouped by route, then by kind (the unit of a live subscribe)."""
        groups: dict[tuple[str, str], list[str]] = {}
        for st in streams:
            groups.setdefault((self.route_of(st), kind_of(st)), []).append(st)
        return [(route, names) for (route, _), names in groups.items()]

    def canary(self, route: str, streams: Sequence[str], symbols: Sequence[str]) -> str | None:
        """The canary of a connection on ``route`` carrying ``streams``: none when the mark-price array is there."""
        if LIQUIDATION_STREAMS[1] in streams or not symbols:
            return None
        return self.spec.canary(route, symbols[0])

    def flip(self, kind: str, from_route: str) -> str | None:
        """A kind was silent on ``from_route``: the route to move it to, or ``None`` once both were tried."""
        if not self.spec.routed:
            return None
        flips = self._flips.get(kind, 0)
        if flips >= 2:
            return None
        self._flips[kind] = flips + 1
        new_route = "market" if from_route == "public" else "public"
        self.routes[kind] = new_route
        return new_route

    def route_table(self) -> dict[str, str]:
        """The route of each stream kind the Monitor uses (USD-M only; empty elsewhere)."""
        if not self.spec.routed:
            return {}
        return {k: self.route_of(f"x@{k}") for k in ("depth", "aggTrade", "forceOrder", "markPrice")}
