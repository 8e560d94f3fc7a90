"""The symbols a Monitor watches, read from the exchange's ``exchangeInfo`` (once, at start-up).

``"ALL"`` means every symbol whose status is ``TRADING`` (``contractStatus`` on COIN-M), filtered by quote asset where
the market has one (COIN-M contracts are all quoted in USD); a list is checked against the exchange, and an unknown
symbol fails the start. On COIN-M each contract's ``contractSize`` (USD) is kept: flow and liquidation values need it.
The weight limit per minute comes from the ``REQUEST_WEIGHT`` rate limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import orjson

from tapeflow.errors import TapeflowError, UnknownSymbolError
from tapeflow.markets import MarketSpec

__all__ = ["Universe", "Watchlist", "parse_exchange_info"]


@dataclass(frozen=True)
class Universe:
    """What ``exchangeInfo`` says about the watched symbols.

    Attributes:
        symbols: the chosen symbols, in the exchange's order (or the order asked for).
        contract_sizes: COIN-M contract sizes (USD, exact decimal text) by symbol.
        weight_limit: request weight per minute, if the reply states one.
    """

    symbols: tuple[str, ...]
    contract_sizes: dict[str, str] = field(default_factory=dict)
    weight_limit: int | None = None


def _weight_limit(info: dict[str, Any]) -> int | None:
    for limit in info.get("rateLimits", []):
        if limit.get("rateLimitType") == "REQUEST_WEIGHT" and limit.get("interval") == "MINUTE":
            return int(limit["limit"]) // max(1, int(limit.get("intervalNum", 1)))
    return None


def parse_exchange_info(
    body: bytes, spec: MarketSpec, symbols: Literal["ALL"] | tuple[str, ...], quote: str | None
) -> Universe:
    """The universe of ``symbols`` (``"ALL"`` filtered by ``quote``) in an ``exchangeInfo`` reply.

    Raises:
        UnknownSymbolError: a listed symbol is not on the exchange.
        TapeflowError: the reply is not an ``exchangeInfo`` document.
    """
    try:
        info = orjson.loads(body)
        known: dict[str, dict[str, Any]] = {s["symbol"]: s for s in info["symbols"]}
    except (orjson.JSONDecodeError, KeyError, TypeError) as e:
        raise TapeflowError(f"exchangeInfo of {spec.name} is not readable: {e}") from e
    if symbols == "ALL":
        chosen = tuple(
            name
            for name, s in known.items()
            if s.get("status", s.get("contractStatus")) == "TRADING"
            and (quote is None or spec.quoted_in_usd or s.get("quoteAsset") == quote)
        )
    else:
        missing = [s for s in symbols if s not in known]
        if missing:
            raise UnknownSymbolError(f"unknown symbols on {spec.name}: {', '.join(missing)}", symbol=missing[0])
        chosen = symbols
    sizes = (
        {s: str(known[s]["contractSize"]) for s in chosen if "contractSize" in known[s]} if spec.quoted_in_usd else {}
    )
    return Universe(chosen, sizes, _weight_limit(info))


@dataclass
class Watchlist:
    """The symbols a Monitor watches now (set at start-up from the universe, grown and shrunk live).

    Attributes:
        symbols: every watched symbol, in order.
        books: the symbols whose books are kept.
        all_books: books are kept for every symbol (new ones too).
    """

    symbols: list[str] = field(default_factory=list)
    books: set[str] = field(default_factory=set)
    all_books: bool = False

    def reset(self, symbols: Sequence[str], books: bool | Sequence[str]) -> None:
        self.symbols = list(symbols)
        self.all_books = books is True
        self.books = set(self.symbols) if books is True else set(books) if books else set()

    def add(self, symbols: Sequence[str]) -> list[str]:
        """Adds symbols; returns those that were new."""
        new = [s for s in dict.fromkeys(symbols) if s not in self.symbols]
        self.symbols += new
        if self.all_books:
            self.books.update(new)
        return new

    def remove(self, symbols: set[str]) -> None:
        self.symbols = [s for s in self.symbols if s not in symbols]
        self.books -= symbols

    def watched(self, names: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Which of ``names`` (an engine's symbol column) are watched, as a boolean mask: one set lookup a name
        (``np.isin`` on an object column of 2,000 names took 0.1 s, a stall of the event loop at each reading)."""
        watched = set(self.symbols)
        return np.fromiter((n in watched for n in names), dtype=bool, count=len(names))
