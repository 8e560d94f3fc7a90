"""What a :class:`~tapeflow.Monitor` is asked to watch and how, checked once when it is made.

Every argument is validated here with an error that names it, so a mistake fails at construction instead of
watching nothing (a lower-case quote asset), a symbol name spelt out letter by letter (a string where a list was
meant), or an option the exchange refuses later (a snapshot size it does not serve).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tapeflow._core import parse_duration
from tapeflow.feeds.options import ConnectionOptions
from tapeflow.feeds.transports import TRANSPORTS, Transport
from tapeflow.markets import MarketSpec, market_spec

__all__ = ["DEPTH_SPEEDS", "SNAPSHOT_LIMITS", "MonitorConfig"]

#: Diff-depth cadences by market, as stream-name suffixes (``""``: the market's default, 1000 ms on spot, 250 ms on
#: futures; Binance names no other).
DEPTH_SPEEDS: Mapping[str, frozenset[str]] = {
    "spot": frozenset({"", "100ms"}),
    "usdm": frozenset({"", "100ms", "500ms"}),
    "coinm": frozenset({"", "100ms", "500ms"}),
}
#: ``limit`` values the depth endpoint serves: futures name seven; spot takes any from 1 to 5000.
SNAPSHOT_LIMITS: Mapping[str, frozenset[int]] = {
    "spot": frozenset(range(1, 5001)),
    "usdm": frozenset({5, 10, 20, 50, 100, 500, 1000}),
    "coinm": frozenset({5, 10, 20, 50, 100, 500, 1000}),
}


def _symbol_list(name: str, value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a list of symbols (e.g. [{value!r}]), not a string")
    out: list[str] = []
    for s in value:
        # Names are ASCII on futures and may be any UTF-8 on spot; none has a space or a stream-name separator.
        if not isinstance(s, str) or not s.strip() or any(c.isspace() or c in "@/!" for c in s.strip()):
            raise ValueError(f"{name}: {s!r} is not a symbol name")
        out.append(s.strip().upper())
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class MonitorConfig:
    """The validated arguments of a :class:`~tapeflow.Monitor` (see its documentation for each)."""

    market: str = "usdm"
    symbols: Literal["ALL"] | tuple[str, ...] = "ALL"
    quote: str | None = "USDT"
    books: bool | tuple[str, ...] = True
    flow: tuple[str, ...] = ("1m", "15m")
    big_trade: float | None = None
    liquidations: bool = True
    ws_url: str = ""
    rest_url: str = ""
    transport: str | Transport | None = None
    depth_speed: str = "100ms"
    snapshot_limit: int = 1000
    streams_per_connection: int | None = None
    routes: Mapping[str, str] = field(default_factory=dict)
    options: ConnectionOptions = field(default_factory=ConnectionOptions)
    weight_safety: float = 0.8
    engine_thread: bool = False
    backfill_startup: bool = True
    extra_streams: tuple[str, ...] = ()
    tail_wait_s: float = 3.0

    @classmethod
    def make(
        cls,
        market: str = "usdm",
        symbols: Literal["ALL"] | Sequence[str] = "ALL",
        *,
        quote: str | None = "USDT",
        books: bool | Sequence[str] = True,
        flow: Sequence[str] = ("1m", "15m"),
        big_trade: float | None = None,
        liquidations: bool = True,
        ws_url: str | None = None,
        rest_url: str | None = None,
        transport: str | Transport | None = None,
        depth_speed: str = "100ms",
        snapshot_limit: int = 1000,
        streams_per_connection: int | None = None,
        routes: Mapping[str, str] | None = None,
        options: ConnectionOptions | None = None,
        weight_safety: float = 0.8,
        engine_thread: bool = False,
        backfill_startup: bool = True,
        extra_streams: Sequence[str] = (),
        tail_wait_s: float = 3.0,
    ) -> MonitorConfig:
        """Checks every argument and fills in the market's defaults.

        Raises:
            ValueError / TypeError: naming the argument that is wrong and what it accepts.
        """
        spec = market_spec(market)
        chosen: Literal["ALL"] | tuple[str, ...] = "ALL" if symbols == "ALL" else _symbol_list("symbols", symbols)
        if chosen != "ALL" and not chosen:
            raise ValueError("symbols: give at least one symbol, or 'ALL'")
        if quote is not None and (not isinstance(quote, str) or not quote.isalnum() or quote != quote.upper()):
            raise ValueError(f"quote must be an upper-case asset name such as 'USDT' (or None), got {quote!r}")
        book_arg: bool | tuple[str, ...] = books if isinstance(books, bool) else _symbol_list("books", books)
        if isinstance(book_arg, tuple) and chosen != "ALL":
            outside = [s for s in book_arg if s not in chosen]
            if outside:
                raise ValueError(f"books: {', '.join(outside)} not among the watched symbols")
        windows = _symbol_free_list("flow", flow)
        for w in windows:
            try:
                parse_duration(w)
            except ValueError as e:
                raise ValueError(f"flow: {e}") from None
        if big_trade is not None and not (isinstance(big_trade, int | float) and big_trade > 0):
            raise ValueError(f"big_trade must be a notional > 0 (quote units) or None, got {big_trade!r}")
        if isinstance(transport, str) and transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)} or a Transport, got {transport!r}")
        if depth_speed not in DEPTH_SPEEDS[market]:
            allowed = ", ".join(repr(s) for s in sorted(DEPTH_SPEEDS[market]))
            raise ValueError(f"depth_speed {depth_speed!r} is not served on {market}: one of {allowed}")
        if snapshot_limit not in SNAPSHOT_LIMITS[market]:
            limits = sorted(SNAPSHOT_LIMITS[market])
            allowed = f"1 to {limits[-1]}" if len(limits) > 100 else "one of " + ", ".join(str(n) for n in limits)
            raise ValueError(f"snapshot_limit {snapshot_limit!r} is not served on {market}: {allowed}")
        if streams_per_connection is not None and not 1 <= streams_per_connection <= spec.max_streams:
            raise ValueError(f"streams_per_connection must be in 1..{spec.max_streams}, got {streams_per_connection!r}")
        for kind, route in (routes or {}).items():
            if not spec.routed or route not in ("public", "market"):
                raise ValueError(f"routes: {kind!r} -> {route!r}: only USD-M has routes, 'public' or 'market'")
        if not (isinstance(weight_safety, int | float) and 0 < weight_safety <= 1):
            raise ValueError(f"weight_safety must be a share of the weight limit in (0, 1], got {weight_safety!r}")
        if not tail_wait_s >= 0:
            raise ValueError(f"tail_wait_s must be >= 0, got {tail_wait_s!r}")
        return cls(
            market=market,
            symbols=chosen,
            quote=quote,
            books=book_arg,
            flow=windows,
            big_trade=big_trade,
            liquidations=liquidations and spec.futures,
            ws_url=(ws_url or spec.ws_url).rstrip("/"),
            rest_url=(rest_url or spec.rest_url).rstrip("/"),
            transport=transport,
            depth_speed=depth_speed,
            snapshot_limit=snapshot_limit,
            streams_per_connection=streams_per_connection,
            routes=dict(routes or {}),
            options=options or ConnectionOptions(),
            weight_safety=float(weight_safety),
            engine_thread=engine_thread,
            backfill_startup=backfill_startup,
            extra_streams=_symbol_free_list("extra_streams", extra_streams),
            tail_wait_s=tail_wait_s,
        )

    @property
    def spec(self) -> MarketSpec:
        return market_spec(self.market)

    @property
    def longest_window_ms(self) -> int:
        """The longest flow window (0 without flow)."""
        return max((parse_duration(w) for w in self.flow), default=0)


def _symbol_free_list(name: str, value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a list (e.g. [{value!r}]), not a string")
    return tuple(value)
