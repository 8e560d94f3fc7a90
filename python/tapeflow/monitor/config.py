"""What a :class:`~tapeflow.Monitor` is asked to watch and how, checked once when it is made.

Every argument is validated here with an error that names it, so a mistake fails at construction instead of
watching nothing (a lower-case quote asset), a symbol name spelt out letter by letter (a string where a list was
meant), or an option the exchange refuses later (a snapshot size it does not serve).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

from tapeflow._core import Engine, parse_duration
from tapeflow.feeds.options import ConnectionOptions
from tapeflow.feeds.transports import TRANSPORTS, Transport
from tapeflow.markets import MarketSpec, market_spec

__all__ = ["DEFAULTS", "DEPTH_SPEEDS", "SNAPSHOT_LIMITS", "MonitorConfig", "MonitorOptions"]

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


class MonitorOptions(TypedDict, total=False):
    """The keyword arguments of a :class:`~tapeflow.Monitor` after ``market`` and ``symbols`` (documented there)."""

    quote: str | None
    books: bool | Sequence[str]
    flow: Sequence[str]
    big_trade: float | None
    liquidations: bool
    ws_url: str | None
    rest_url: str | None
    transport: str | Transport | None
    depth_speed: str
    snapshot_limit: int
    unread_snapshot_limit: int | None
    streams_per_connection: int | None
    routes: Mapping[str, str] | None
    options: ConnectionOptions | None
    weight_safety: float
    engine_thread: bool
    backfill_startup: bool
    extra_streams: Sequence[str]
    tail_wait_s: float
    store: str | os.PathLike[str] | None
    checkpoint_s: float
    store_retention: str | None


#: The default of every option.
DEFAULTS: MonitorOptions = {
    "quote": "USDT",
    "books": True,
    "flow": ("1m", "15m"),
    "big_trade": None,
    "liquidations": True,
    "ws_url": None,
    "rest_url": None,
    "transport": None,
    "depth_speed": "100ms",
    "snapshot_limit": 1000,
    "unread_snapshot_limit": 100,
    "streams_per_connection": None,
    "routes": None,
    "options": None,
    "weight_safety": 0.8,
    "engine_thread": False,
    "backfill_startup": True,
    "extra_streams": (),
    "tail_wait_s": 3.0,
    "store": None,
    "checkpoint_s": 60.0,
    "store_retention": "240h",
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
    """The validated arguments of a :class:`~tapeflow.Monitor` (see its documentation for each); made by
    :meth:`make`."""

    market: str
    symbols: Literal["ALL"] | tuple[str, ...]
    quote: str | None
    books: bool | tuple[str, ...]
    flow: tuple[str, ...]
    big_trade: float | None
    liquidations: bool
    ws_url: str
    rest_url: str
    transport: str | Transport | None
    depth_speed: str
    snapshot_limit: int
    unread_snapshot_limit: int | None
    streams_per_connection: int | None
    routes: Mapping[str, str]
    options: ConnectionOptions
    weight_safety: float
    engine_thread: bool
    backfill_startup: bool
    extra_streams: tuple[str, ...]
    tail_wait_s: float
    store: Path | None
    checkpoint_s: float
    store_retention_ms: int | None

    @classmethod
    def make(
        cls, market: str = "usdm", symbols: Literal["ALL"] | Sequence[str] = "ALL", **given: Unpack[MonitorOptions]
    ) -> MonitorConfig:
        """Checks every argument and fills in the market's defaults.

        Raises:
            ValueError / TypeError: naming the argument that is wrong and what it accepts.
        """
        unknown = sorted(set(given) - set(DEFAULTS))
        if unknown:
            raise TypeError(f"Monitor() got unexpected arguments: {', '.join(unknown)}")
        o: dict[str, Any] = {**DEFAULTS, **given}
        quote, books, flow, big_trade = o["quote"], o["books"], o["flow"], o["big_trade"]
        transport, depth_speed, snapshot_limit = o["transport"], o["depth_speed"], o["snapshot_limit"]
        streams_per_connection, routes, weight_safety = o["streams_per_connection"], o["routes"], o["weight_safety"]
        tail_wait_s = o["tail_wait_s"]
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
        unread_limit = o["unread_snapshot_limit"]
        if "unread_snapshot_limit" not in given and isinstance(snapshot_limit, int):
            unread_limit = min(unread_limit, snapshot_limit)  # the default never asks for more than the limit
        if unread_limit is not None and (unread_limit not in SNAPSHOT_LIMITS[market] or unread_limit > snapshot_limit):
            raise ValueError(
                f"unread_snapshot_limit {unread_limit!r} must be a limit {market} serves, at most snapshot_limit "
                f"({snapshot_limit}), or None (every snapshot at snapshot_limit)"
            )
        if streams_per_connection is not None and not 1 <= streams_per_connection <= spec.max_streams:
            raise ValueError(f"streams_per_connection must be in 1..{spec.max_streams}, got {streams_per_connection!r}")
        for kind, route in (routes or {}).items():
            if not spec.routed or route not in ("public", "market"):
                raise ValueError(f"routes: {kind!r} -> {route!r}: only USD-M has routes, 'public' or 'market'")
        if not (isinstance(weight_safety, int | float) and 0 < weight_safety <= 1):
            raise ValueError(f"weight_safety must be a share of the weight limit in (0, 1], got {weight_safety!r}")
        if not tail_wait_s >= 0:
            raise ValueError(f"tail_wait_s must be >= 0, got {tail_wait_s!r}")
        store, checkpoint_s, retention = o["store"], o["checkpoint_s"], o["store_retention"]
        if store is not None and not isinstance(store, str | os.PathLike):
            raise TypeError(f"store must be a file path or None, got {store!r}")
        if isinstance(store, str) and not store.strip():
            raise ValueError("store must be a file path (or None for no store), got an empty string")
        if not (isinstance(checkpoint_s, int | float) and checkpoint_s > 0):
            raise ValueError(f"checkpoint_s must be a number of seconds > 0, got {checkpoint_s!r}")
        try:
            retention_ms = None if retention is None else parse_duration(retention)
        except (ValueError, TypeError):
            raise ValueError(f"store_retention must be a duration such as '240h', or None, got {retention!r}") from None
        return cls(
            market=market,
            symbols=chosen,
            quote=quote,
            books=book_arg,
            flow=windows,
            big_trade=big_trade,
            liquidations=bool(o["liquidations"]) and spec.futures,
            ws_url=(o["ws_url"] or spec.ws_url).rstrip("/"),
            rest_url=(o["rest_url"] or spec.rest_url).rstrip("/"),
            transport=transport,
            depth_speed=depth_speed,
            snapshot_limit=snapshot_limit,
            unread_snapshot_limit=unread_limit if book_arg is True else None,
            streams_per_connection=streams_per_connection,
            routes=dict(routes or {}),
            options=o["options"] or ConnectionOptions(),
            weight_safety=float(weight_safety),
            engine_thread=bool(o["engine_thread"]),
            backfill_startup=bool(o["backfill_startup"]),
            extra_streams=_symbol_free_list("extra_streams", o["extra_streams"]),
            tail_wait_s=tail_wait_s,
            store=None if store is None else Path(store).expanduser(),
            checkpoint_s=float(checkpoint_s),
            store_retention_ms=retention_ms,
        )

    @property
    def spec(self) -> MarketSpec:
        return market_spec(self.market)

    def make_engine(self) -> Engine:
        """An engine for these settings: the flow windows (and the stored intervals), the big-trade threshold."""
        kwargs: dict[str, Any] = {}
        if self.flow:
            kwargs["flow_horizons"] = self.flow
            kwargs["flow_intervals"] = self.stored_intervals
            if self.big_trade is not None:
                kwargs["big_trade"] = (float(self.big_trade),)
        return Engine(self.market, **kwargs)

    @property
    def stored_intervals(self) -> tuple[str, ...]:
        """The aligned intervals kept by the engine: the flow windows, and ``"1m"`` too with a store (its history
        keeps 1-minute candles)."""
        if self.store is None or not self.flow:
            return self.flow
        return tuple(dict.fromkeys(("1m", *self.flow)))

    @property
    def longest_window_ms(self) -> int:
        """The longest flow window (0 without flow)."""
        return max((parse_duration(w) for w in self.flow), default=0)


def _symbol_free_list(name: str, value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a list (e.g. [{value!r}]), not a string")
    return tuple(value)
