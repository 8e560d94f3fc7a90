"""Type stubs and documentation of the compiled engine, ``tapeflow._core``.

Users import these types from :mod:`tapeflow`. Prices and quantities are exact integers inside the engine (8
decimals, Binance's own precision); they leave it as floats (NumPy) or exact decimal strings.
"""

import decimal
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeAlias, final

import numpy as np
import numpy.typing as npt

__version__: str

def parse_duration(text: str) -> int:
    """Milliseconds in a duration name such as ``"15m"`` (units ``s``, ``m``, ``h``, ``d``; more than zero).

    Raises:
        ValueError: if ``text`` is not such a name.
    """

__all__ = [
    "Action",
    "Band",
    "BatchResult",
    "BigTrade",
    "BookGap",
    "BookSynced",
    "BookTrace",
    "BookView",
    "CheckpointDraft",
    "CheckpointDrafter",
    "ControlReply",
    "Engine",
    "EngineStats",
    "FlowStats",
    "LiqCluster",
    "LiqStats",
    "LiqTotal",
    "Liquidation",
    "ServerShutdown",
    "SnapshotNeeded",
    "SyncState",
    "TradeGap",
    "TradesPage",
    "Volume",
    "WsReader",
    "__version__",
    "encode_client_frame",
    "parse_duration",
]

@final
class SyncState:
    """Sync state of a book."""

    SYNCING: SyncState
    """Buffering diffs until a snapshot connects to them."""
    SYNCED: SyncState
    """Snapshot applied and every diff since connected: the book is exact."""
    GAP: SyncState
    """A diff did not connect (or the book crossed): the book was discarded and needs a new snapshot."""
    @property
    def name(self) -> Literal["SYNCED", "SYNCING", "GAP"]: ...
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

# --- Actions ----------------------------------------------------------------------------------------------------
# What the apply calls return: one class per kind, each with only its own fields, compared by value, and matched by
# position in the order of ``__match_args__``:
#
#     for action in result.actions:
#         match action:
#             case SnapshotNeeded(symbol):
#                 ...
#             case TradeGap(symbol, from_id, to_id):
#                 ...

@final
class SnapshotNeeded:
    """Fetch a REST depth snapshot for ``symbol`` and feed it with :meth:`Engine.apply_snapshot`."""

    __match_args__ = ("symbol",)
    @property
    def symbol(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class BookSynced:
    """The book of ``symbol`` is synced at ``last_update_id``."""

    __match_args__ = ("symbol", "last_update_id")
    @property
    def symbol(self) -> str: ...
    @property
    def last_update_id(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class BookGap:
    """The diff stream of ``symbol`` broke (or a diff crossed the book): the book was discarded, and a
    :class:`SnapshotNeeded` follows."""

    __match_args__ = ("symbol", "expected", "got")
    @property
    def symbol(self) -> str: ...
    @property
    def expected(self) -> int:
        """The id the book expected (spot: next ``U``; futures: ``pu``); for a crossed book, the diff's ``u``."""
    @property
    def got(self) -> int:
        """The id the diff carried."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class BookTrace:
    """With ``trace_depth`` set: the book right after one applied diff (or snapshot)."""

    __match_args__ = ("symbol", "last_update_id", "bids", "asks", "levels", "digest")
    @property
    def symbol(self) -> str: ...
    @property
    def last_update_id(self) -> int: ...
    @property
    def bids(self) -> list[tuple[str, str]]:
        """Top bid levels as exact decimal strings ``(price, qty)``, best first."""
    @property
    def asks(self) -> list[tuple[str, str]]:
        """Top ask levels as exact decimal strings ``(price, qty)``, best first."""
    @property
    def levels(self) -> tuple[int, int]:
        """Number of bid and ask levels in the whole book."""
    @property
    def digest(self) -> str:
        """Hex SHA-256 of the whole book in canonical text form."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class ControlReply:
    """A reply to a control request (``SUBSCRIBE``, ``UNSUBSCRIBE``, ``LIST_SUBSCRIPTIONS``), or a control error."""

    __match_args__ = ("request_id", "result", "error_code", "error_msg")
    @property
    def request_id(self) -> int | None:
        """The request id, if the reply carries an integer one."""
    @property
    def result(self) -> str | None:
        """The ``result`` value as JSON text."""
    @property
    def error_code(self) -> int | None: ...
    @property
    def error_msg(self) -> str | None: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class ServerShutdown:
    """The server announced it is going away (spot ``serverShutdown``): reconnect."""

    __match_args__ = ("event_time",)
    @property
    def event_time(self) -> int:
        """The event time ``E`` (ms)."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class TradeGap:
    """Aggregate trade ids ``from_id..=to_id`` of ``symbol`` are missing: fetch them back with
    ``aggTrades?fromId=from_id`` and feed the pages to :meth:`Engine.apply_agg_trades`. Reported once per hole;
    a REST page reports only what it left missing once all its rows are counted."""

    __match_args__ = ("symbol", "from_id", "to_id")
    @property
    def symbol(self) -> str: ...
    @property
    def from_id(self) -> int:
        """The first missing aggregate trade id."""
    @property
    def to_id(self) -> int:
        """The last missing aggregate trade id (inclusive)."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class BigTrade:
    """A trade counted for the first time whose quote value reached the smallest ``big_trade`` threshold."""

    __match_args__ = (
        "symbol",
        "trade_id",
        "price",
        "qty",
        "notional",
        "side",
        "time_ms",
        "price_exact",
        "qty_exact",
        "notional_exact",
    )
    @property
    def symbol(self) -> str: ...
    @property
    def trade_id(self) -> int:
        """The aggregate trade id."""
    @property
    def price(self) -> float: ...
    @property
    def qty(self) -> float:
        """The quantity (contracts on COIN-M)."""
    @property
    def notional(self) -> float:
        """The quote value: price x quantity; contracts x contract size (USD) on COIN-M."""
    @property
    def side(self) -> Literal["buy", "sell"]:
        """The taker side."""
    @property
    def time_ms(self) -> int:
        """The trade time ``T``."""
    @property
    def price_exact(self) -> str:
        """Exact decimal string."""
    @property
    def qty_exact(self) -> str: ...
    @property
    def notional_exact(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Liquidation:
    """A liquidation the engine kept (an action of the batch that carried its ``forceOrder``)."""

    __match_args__ = (
        "symbol",
        "time_ms",
        "event_time_ms",
        "side",
        "order_side",
        "price",
        "qty",
        "notional",
        "price_exact",
        "qty_exact",
        "notional_exact",
    )
    @property
    def symbol(self) -> str: ...
    @property
    def time_ms(self) -> int:
        """Trade time ``o.T``."""
    @property
    def event_time_ms(self) -> int: ...
    @property
    def side(self) -> Literal["long", "short"]:
        """Liquidated position side."""
    @property
    def order_side(self) -> Literal["BUY", "SELL"]:
        """Raw order side ``o.S``."""
    @property
    def price(self) -> float:
        """``ap``, or ``p`` when ``ap`` is 0."""
    @property
    def qty(self) -> float: ...
    @property
    def notional(self) -> float: ...
    @property
    def price_exact(self) -> str: ...
    @property
    def qty_exact(self) -> str: ...
    @property
    def notional_exact(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...

Action: TypeAlias = (
    SnapshotNeeded
    | BookSynced
    | BookGap
    | BookTrace
    | ControlReply
    | ServerShutdown
    | TradeGap
    | BigTrade
    | Liquidation
)
"""Anything the apply calls report (narrow it with ``isinstance`` or ``match``)."""

@final
class BatchResult:
    """What one :meth:`Engine.apply_frames` call did."""

    @property
    def frames(self) -> int: ...
    @property
    def events(self) -> int: ...
    @property
    def actions(self) -> list[Action]:
        """Actions to take, in the order the frames produced them."""
    @property
    def errors(self) -> list[Exception]:
        """One :class:`tapeflow.DecodeError` per malformed frame (``.index`` set); those frames changed nothing."""
    @property
    def last_event_time_ms(self) -> int | None:
        """The event time ``E`` of the last event in the batch that carries one (for the feed lag)."""
    @property
    def recv_ts_ns(self) -> int:
        """The receive time the batch was applied with."""

@final
class TradesPage:
    """What one :meth:`Engine.apply_agg_trades` call did."""

    @property
    def rows(self) -> int:
        """Rows in the page."""
    @property
    def counted(self) -> int:
        """Rows counted for the first time (the others were counted before)."""
    @property
    def first_id(self) -> int | None:
        """The aggregate trade id of the first row; ``None`` for an empty page."""
    @property
    def last_id(self) -> int | None:
        """The aggregate trade id of the last row; ``None`` for an empty page."""
    @property
    def abandoned(self) -> tuple[int, int] | None:
        """With ``from_id`` below the first row's id: ``(from_id, first_id - 1)``, ids the exchange no longer serves,
        now marked abandoned (no :class:`TradeGap` is reported for them)."""
    @property
    def actions(self) -> list[Action]:
        """:class:`BigTrade` for the big trades among the counted rows, then a :class:`TradeGap` for each hole the
        page showed, as far as the whole page left it missing."""

@final
class CheckpointDraft:
    """A checkpoint taken by :meth:`Engine.checkpoint_draft` and not sealed yet."""

    def seal(self) -> bytes:
        """The checkpoint's bytes (as :meth:`Engine.checkpoint` gives them): the checksum computed without the GIL.

        Raises:
            ValueError: sealed already (a draft is sealed once).
        """
    def seal_buffer(self) -> npt.NDArray[np.uint8]:
        """The same bytes as a NumPy ``uint8`` array that owns them, without a copy (filling a ``bytes`` object holds
        the GIL, tens of ms for a full market): e.g. written out through ``memoryview``. The checksum is computed
        without the GIL; the buffer is not kept for the next draft.

        Raises:
            ValueError: sealed already (a draft is sealed once).
        """
    def __len__(self) -> int:
        """Bytes of the sealed checkpoint."""

@final
class CheckpointDrafter:
    """A checkpoint drafted a few symbols at a time (:meth:`Engine.checkpoint_drafter`): the engine is held only
    during each step, so that queries can be answered between steps. Nothing may change the engine until the last
    step; the steps together write exactly the bytes of :meth:`Engine.checkpoint_draft`."""

    def step(self, symbols: int = 100) -> bool:
        """Writes the state of up to ``symbols`` more symbols (at least one) without the GIL; ``True`` once the draft
        is complete.

        Raises:
            tapeflow.CheckpointError: ``reason == "changed"``: a call that changes the engine was made since the draft
                was begun; the draft is void.
            ValueError: finished or void already.
            RuntimeError: another thread is stepping the same drafter.
        """
    def finish(self) -> CheckpointDraft:
        """The complete draft, to be sealed (:meth:`CheckpointDraft.seal`). Once only.

        Raises:
            ValueError: not complete yet, or finished or void already.
            RuntimeError: another thread is stepping it.
        """

@final
class EngineStats:
    """Engine counters (see :meth:`Engine.stats`)."""

    __match_args__ = (
        "frames",
        "events",
        "malformed",
        "depth_updates",
        "level_updates",
        "book_tickers",
        "partial_depth",
        "unknown",
    )

    @property
    def frames(self) -> int: ...
    @property
    def events(self) -> int: ...
    @property
    def malformed(self) -> int:
        """Frames rejected (and skipped) as malformed."""
    @property
    def depth_updates(self) -> int: ...
    @property
    def level_updates(self) -> int:
        """Price levels in the depth updates."""
    @property
    def book_tickers(self) -> int: ...
    @property
    def partial_depth(self) -> int: ...
    @property
    def unknown(self) -> dict[str, int]:
        """Events of a type the engine does not handle, counted by type and skipped."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class FlowStats:
    """Flow counters (see :meth:`Engine.flow_stats`)."""

    __match_args__ = (
        "aggtrades",
        "duplicates",
        "late",
        "expired",
        "overflow",
        "gaps",
        "gaps_filled",
        "big_trades",
        "time_regressions",
        "trades_market",
        "trades_other",
        "klines",
        "rest_bodies",
        "rest_trades",
        "symbols",
        "memory_bytes",
    )

    @property
    def aggtrades(self) -> int:
        """Aggregate trades counted (the first arrival of each id)."""
    @property
    def duplicates(self) -> int:
        """Arrivals of an id counted before."""
    @property
    def late(self) -> int:
        """Counted trades older than their symbol's newest trade."""
    @property
    def expired(self) -> int:
        """Trades older than the retention: not counted."""
    @property
    def overflow(self) -> int:
        """Trades with an implausible notional: not counted."""
    @property
    def gaps(self) -> int:
        """Trade gaps reported."""
    @property
    def gaps_filled(self) -> int:
        """Holes closed completely by later trades."""
    @property
    def big_trades(self) -> int: ...
    @property
    def time_regressions(self) -> int:
        """Counted trades whose trade time is earlier than that of a lower id counted before (Binance's ids follow
        trade time, so this should stay 0; it is counted only, windows are unchanged)."""
    @property
    def trades_market(self) -> int:
        """``trade`` events of type MARKET (or spot trades)."""
    @property
    def trades_other(self) -> int:
        """``trade`` events of another type (insurance fund, ADL...)."""
    @property
    def klines(self) -> int: ...
    @property
    def rest_bodies(self) -> int:
        """REST ``aggTrades`` pages fed."""
    @property
    def rest_trades(self) -> int:
        """Rows in those pages."""
    @property
    def symbols(self) -> int:
        """Symbols with flow state."""
    @property
    def memory_bytes(self) -> int:
        """Bytes held by all flow state."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class LiqStats:
    """Liquidation counters (see :meth:`Engine.liq_stats`)."""

    __match_args__ = (
        "kept",
        "foreign",
        "unknown_side",
        "unknown_status",
        "unfilled",
        "expired",
        "pruned",
        "overflow",
        "duplicates",
        "mark_prices",
        "foreign_mark_prices",
    )

    @property
    def kept(self) -> int: ...
    @property
    def foreign(self) -> int:
        """Events of the other contract kind (USD-M vs COIN-M) on a merged stream."""
    @property
    def unknown_side(self) -> int: ...
    @property
    def unknown_status(self) -> int: ...
    @property
    def unfilled(self) -> int:
        """Orders with nothing filled (``z = 0``)."""
    @property
    def expired(self) -> int:
        """Late events already outside retention."""
    @property
    def pruned(self) -> int:
        """Events dropped by retention."""
    @property
    def overflow(self) -> int: ...
    @property
    def duplicates(self) -> int:
        """Repeats of a kept event (the same content; see :meth:`Engine.apply_frames`): counted once, no action."""
    @property
    def mark_prices(self) -> int: ...
    @property
    def foreign_mark_prices(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class BookView:
    """A snapshot of the top of one book, with its id, times and sync state. Owned: later frames do not change it."""

    @property
    def symbol(self) -> str: ...
    @property
    def state(self) -> SyncState: ...
    @property
    def synced(self) -> bool: ...
    @property
    def last_update_id(self) -> int: ...
    @property
    def event_time(self) -> int | None:
        """Exchange event time of the last applied diff (ms)."""
    @property
    def recv_ts_ns(self) -> int:
        """Receive time (caller's clock, ns) of the last event for this symbol."""
    @property
    def n_bids(self) -> int:
        """Number of bid levels in the whole book."""
    @property
    def n_asks(self) -> int: ...
    @property
    def complete(self) -> bool:
        """Each side holds the ``depth`` levels asked for, or all the side has. ``False`` when the book was loaded
        from a snapshot cut at fewer levels than the side has and the depth asked for reaches past its deepest price:
        the view then holds only the levels known for certain (a deeper snapshot gives the rest)."""
    @property
    def bids(self) -> npt.NDArray[np.float64]:
        """Top bid levels known for certain, best first, as an ``(n, 2)`` array of ``[price, qty]``."""
    @property
    def asks(self) -> npt.NDArray[np.float64]: ...
    def bids_exact(self) -> list[tuple[str, str]]:
        """Top bid levels as exact normalized decimal strings ``(price, qty)``."""
    def asks_exact(self) -> list[tuple[str, str]]: ...
    @property
    def best_bid(self) -> tuple[float, float] | None: ...
    @property
    def best_ask(self) -> tuple[float, float] | None: ...
    @property
    def spread(self) -> float | None: ...
    @property
    def mid(self) -> float | None: ...

@final
class Band:
    """Quantity, notional and imbalance of the levels within ±pct % of the mid price (edges inclusive, exact)."""

    @property
    def pct(self) -> float: ...
    @property
    def bid_qty(self) -> float: ...
    @property
    def ask_qty(self) -> float: ...
    @property
    def bid_notional(self) -> float: ...
    @property
    def ask_notional(self) -> float: ...
    @property
    def complete(self) -> bool:
        """The book knows every level of the band (``False``: it reaches past the deepest price of a cut snapshot,
        and the sums hold only the levels the book has)."""
    @property
    def imbalance(self) -> float:
        """``(bid_qty - ask_qty) / (bid_qty + ask_qty)`` in [-1, 1]; 0 for an empty band."""
    def exact(self) -> list[tuple[str, str]]:
        """Exact values as decimal strings, keyed ``bid_qty``, ``ask_qty``, ``bid_notional``, ``ask_notional``."""

@final
class Engine:
    """The multi-symbol engine: raw frame bytes in, per-symbol state and actions out.

    Args:
        market: ``"spot"``, ``"usdm"`` or ``"coinm"``: picks the book sync procedure.
        buffer_limit: diffs kept per symbol while waiting for a snapshot (the oldest go first; 1,000 is 100 s of a
            ``@100ms`` stream, far more than a snapshot request takes).
        trace_depth: when set, every applied diff adds a :class:`BookTrace` with the top ``trace_depth`` levels and
            the digest of the whole book (for replays and audits; costs a full-book hash per diff).
        flow_horizons: sliding windows of trade flow (``"30s"``, ``"15m"``, ``"4h"``: whole seconds, at most 7 days).
        flow_intervals: UTC-aligned intervals like Binance klines (whole seconds, dividing a day).
        flow_history: completed aligned intervals kept per interval.
        big_trade: up to 4 quote-value thresholds; trades at or above one are counted per threshold, and each new
            trade at or above the smallest is reported as a :class:`BigTrade`.
    """

    def __new__(
        cls,
        market: str,
        *,
        buffer_limit: int = 1000,
        trace_depth: int | None = None,
        flow_horizons: Sequence[str] = ("1m", "5m", "15m", "1h", "4h"),
        flow_intervals: Sequence[str] = ("1m", "5m", "15m", "1h"),
        flow_history: int = 60,
        big_trade: Sequence[float] = (),
    ) -> Engine: ...
    @property
    def market(self) -> str: ...
    def apply_frames(self, frames: Iterable[bytes], recv_ts_ns: int, *, stream: int | None = None) -> BatchResult:
        """Decodes and applies a batch of raw frames received at ``recv_ts_ns`` (the GIL is released).

        ``stream`` names the connection that delivered them, in that order (a number of the caller's choosing; one
        per connection): a candle of a symbol is complete on the word of its trades' own connection — an event timed
        1 s past the candle's end — never on that of another connection (see :meth:`candles`). Without it the
        frames belong to one unnamed stream.

        Malformed frames are skipped and reported in :attr:`BatchResult.errors`; they change nothing.
        """
    def apply_frame(self, frame: bytes, recv_ts_ns: int) -> list[Action]:
        """Decodes and applies one frame. Raises :class:`tapeflow.DecodeError` (changing nothing) if malformed."""
    def apply_snapshot(self, symbol: str, body: bytes, limit: int | None = None) -> list[Action]:
        """Feeds a REST depth snapshot body (raw bytes), asked for with ``limit`` levels a side (``None``: whole
        sides). A side that holds ``limit`` levels may have been cut: the book then knows that side only down to
        its deepest price, and views and bands say so (``complete``). Raises :class:`tapeflow.DecodeError` if
        malformed."""
    def track(self, symbol: str) -> None:
        """Starts tracking a symbol before its first frame: its book, and its flow windows (which report zero
        volume, incomplete, until trades arrive, and appear in :meth:`volumes`)."""
    def symbols(self) -> list[str]:
        """Symbols seen so far, in order of first appearance."""
    def sync_state(self, symbol: str) -> SyncState:
        """Raises :class:`tapeflow.UnknownSymbolError` for a symbol never seen."""
    def sync_counts(self, symbols: Iterable[str]) -> dict[str, int]:
        """How many of ``symbols`` have a book in each state, keyed ``"SYNCED"``, ``"SYNCING"`` and ``"GAP"`` (all
        three always present), in one call; symbols never seen are not counted."""
    def book(self, symbol: str, depth: int = 10, *, allow_unsynced: bool = False) -> BookView:
        """The top ``depth`` levels. Raises :class:`tapeflow.BookNotSyncedError` unless the book is synced or
        ``allow_unsynced`` is true (the view's ``state`` then says what it is)."""
    def best(self, symbol: str) -> tuple[float, float, float, float] | None:
        """Best bid and ask ``(bid, bid_qty, ask, ask_qty)`` as floats, ``None`` while a side is empty (or holds no
        level known for certain, after a cut snapshot: see :meth:`apply_snapshot`): one call, for
        reading the top after every frame. Raises :class:`tapeflow.BookNotSyncedError` unless the book is synced and
        :class:`tapeflow.UnknownSymbolError` for a symbol never seen."""
    def best_exact(self, symbol: str) -> tuple[str, str, str, str] | None:
        """:meth:`best` as exact normalized decimal strings."""
    def digest(self, symbol: str, *, allow_unsynced: bool = False) -> str:
        """Hex SHA-256 of the whole book in canonical text form."""
    def band(self, symbol: str, pct: float) -> Band | None:
        """Depth within ±``pct`` % of the mid price; ``None`` when one side is empty."""
    def ticker(self, symbol: str) -> tuple[int, float, float, float, float] | None:
        """Latest exchange best bid/ask ``(update_id, bid, bid_qty, ask, ask_qty)``."""
    def snapshot_failed(self, symbol: str) -> None:
        """The fetch of a requested snapshot failed: the next diff for ``symbol`` asks again."""
    def reset_books(self) -> None:
        """Discards every book (after a reconnect of the depth connection)."""
    def reset_book(self, symbol: str) -> None: ...
    def stats(self) -> EngineStats:
        """Engine counters."""

    # --- Liquidations -------------------------------------------------------------------------------------------
    # ``forceOrder`` and ``markPriceUpdate`` frames (per symbol or all-market) go through ``apply_frames``. Times
    # are Binance ms; a liquidation's time is its trade time ``o.T``. A look-back ``L`` ending at ``now_ms`` covers
    # ``now_ms - L < time <= now_ms``; ``now_ms`` defaults to the newest liquidation time seen.
    #
    # Lower bound: Binance pushes at most one liquidation per symbol per 1000 ms (the largest on USD-M, the latest
    # on COIN-M), so every figure here undercounts in bursts. Side: an order ``S: "SELL"`` liquidates a ``"long"``,
    # ``"BUY"`` a ``"short"``. Notional = average price ``ap`` x filled quantity ``z`` (order price ``p`` when
    # ``ap`` is 0); on COIN-M, ``z`` x the contract size (USD) once :meth:`set_contract_size` was called, else
    # price x contracts. Merged all-market streams carry USD-M and COIN-M: an engine keeps only its own market's
    # liquidations (by ``st``, else by symbol form) and counts the others as ``foreign``. Each kept liquidation is
    # also reported as a :class:`Liquidation` action of the batch that carried it (for persistence or a feed).

    def liq_configure(
        self,
        *,
        retention_ms: int | None = None,
        bin_pct: float | None = None,
        tau_ms: float | None = None,
        half_life_ms: float | None = None,
        min_events: int | None = None,
    ) -> None:
        """Changes the liquidation settings (``None`` keeps a value). Raises ``ValueError`` for bad values.

        Args:
            retention_ms: events older than the newest time minus this are dropped (default 240 h).
            bin_pct: cluster bin width in percent of price, on a log-price grid (default 0.25).
            tau_ms: decay time constant; an event weighs ``exp(-age / tau)`` (default 1 h).
            half_life_ms: alternative to ``tau_ms``: ``tau = half_life / ln 2``.
            min_events: a bin is a cluster once it holds this many events (default 2).
        """
    def liq_config(self) -> dict[str, float]:
        """``retention_ms``, ``bin_pct``, ``tau_ms``, ``half_life_ms``, ``min_events``."""
    def liq_total(
        self, symbol: str | None = None, *, lookback_ms: int, side: str | None = None, now_ms: int | None = None
    ) -> LiqTotal:
        """Total liquidated notional of ``symbol`` (all symbols if ``None``), exact, in O(log n).

        Args:
            side: ``"long"``, ``"short"`` or ``None`` for both.
        """
    def liq_series(
        self,
        symbol: str | None = None,
        *,
        lookback_ms: int,
        interval_ms: int,
        side: str | None = None,
        now_ms: int | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """``(bucket_starts_ms, notional, count)``: buckets of ``interval_ms`` aligned to UTC (multiples since the
        epoch); the first and last count only their part of the look-back, so the series sums to the total."""
    def liq_clusters(self, symbol: str, *, now_ms: int | None = None) -> list[LiqCluster]:
        """Bins holding at least ``min_events`` events, by ascending price, decayed to ``now_ms``."""
    def liq_cluster_arrays(self, symbol: str, *, now_ms: int | None = None) -> dict[str, npt.NDArray[np.generic]]:
        """The clusters as NumPy arrays, one entry per cluster by price (cheaper than objects for many bins): ``bin``,
        ``price``, ``price_low``, ``price_high``, ``side`` (0 long, 1 short), ``count``, ``count_long``,
        ``count_short``, ``notional``, ``notional_long``, ``notional_short``, ``decayed``, ``decayed_long``,
        ``decayed_short``, ``strength``, ``distance_pct`` (NaN without a mark price), ``last_time_ms``."""
    def best_cluster(
        self, symbol: str, min_strength: float = 0.0, side: str | None = None, *, now_ms: int | None = None
    ) -> LiqCluster | None:
        """The cluster with the largest decayed notional among those with ``strength >= min_strength`` and, if
        ``side`` is given, that dominant side."""
    def liq_heatmap(
        self,
        symbol: str,
        *,
        lookback_ms: int,
        interval_ms: int,
        bin_pct: float | None = None,
        now_ms: int | None = None,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """``(grid, price_edges, time_starts_ms)``: notional per side x price bin x time bin, shape
        ``(2, n_price, n_time)`` (side 0 = long, 1 = short); ``price_edges`` has ``n_price + 1`` ascending edges of
        the log grid (``bin_pct``, default the cluster width) spanning the bins that hold an event."""
    def set_mark_price(self, symbol: str, price: str | float, *, time_ms: int = 0) -> None:
        """Sets the mark price by hand (``str`` is exact); the next ``markPriceUpdate`` replaces it."""
    def mark_price(self, symbol: str) -> tuple[float, int] | None:
        """``(mark_price, time_ms)`` from the stream or :meth:`set_mark_price`."""
    def set_contract_size(self, symbol: str, size: str | float) -> None:
        """COIN-M contract size in USD (``contractSize`` of ``/dapi/v1/exchangeInfo``, e.g. 100 for
        BTCUSD_PERP); applies to liquidations kept afterwards and to the flow windows' quote volume."""
    def liq_stats(self) -> LiqStats:
        """Liquidation counters."""

    # --- Trade flow -----------------------------------------------------------------------------------------------
    # ``aggTrade`` frames go through ``apply_frames`` (``trade`` and ``kline`` frames are decoded and counted in
    # ``flow_stats`` only). Each aggregate trade id counts once per symbol. ``m == false`` is a taker buy.
    #
    # Sliding window ``H`` at ``now_ms``, moving by steps of its edge resolution ``r`` (1 s up to 15 min, 10 s up to
    # 2 h 30 min, 1 min up to 15 h, 10 min up to 6 d 6 h, 1 h beyond; see docs/flow.md): the trades whose step
    # ``T // r`` lies in ``(now_ms // r - H/r, now_ms // r]``, i.e. ``start_ms <= T < end_ms`` with
    # ``end_ms = (now_ms // r + 1) * r`` and ``start_ms = end_ms - H``. Aligned interval ``I``: ``T`` in
    # ``[start, start + I)`` with ``start = now_ms - now_ms % I`` (UTC-aligned like klines). ``now_ms`` defaults to
    # the newest trade time counted for any symbol.
    #
    # Quote volume is price x quantity on spot and USD-M; on COIN-M it is contracts x contract size (USD), base
    # volume is in contracts and VWAP is contract-weighted. A window is ``complete`` when trades are known from
    # before its start (the first trade's time + 1 ms, or a ``from_time_ms`` backfill), no missing id range can
    # fall inside it, no check of the symbol's trades is pending (:meth:`begin_check`), and the window reaches no
    # more than 60 s past the newest event time the engine has seen in any frame (its heard-until clock; a window
    # vouches for its trades up to ``now_ms``, or its end if that comes first). A candle (``candles``,
    # ``closed_intervals``) claims every trade before its end: it is complete only once that is proven by the
    # symbol's own trades (one counted at or after its end, no missing id before it) or by the connection that
    # delivered the symbol's newest trade (an event timed 1 s past the end; see ``apply_frames(stream=...)``).

    def apply_agg_trades(
        self, symbol: str, body: bytes, *, from_time_ms: int | None = None, from_id: int | None = None
    ) -> TradesPage:
        """Feeds a REST ``aggTrades`` reply body (a JSON array, raw bytes); ids counted before are ignored.

        The whole page is counted before any :class:`TradeGap` is reported, and a reported gap names only the ids
        still missing after it.

        Args:
            from_time_ms: the body answers ``startTime=from_time_ms``: it is the exchange's complete list of trades
                from that time on, so the symbol's coverage starts there.
            from_id: the body answers ``fromId=from_id``. A first row past ``from_id`` means the ids in between are
                no longer served: they are marked abandoned (see :attr:`TradesPage.abandoned`).

        Raises:
            tapeflow.DecodeError: the body is malformed (nothing changed).
        """
    def begin_check(self, symbol: str) -> None:
        """Starts a check of ``symbol``'s trades (e.g. its newest trades fetched after a reconnect, or a start-up
        fill): its windows are not ``complete`` (and say ``checking``) until every check begun has ended."""
    def end_check(self, symbol: str) -> None:
        """Ends a check begun with :meth:`begin_check` (a no-op with none pending)."""
    def abandon_gap(self, symbol: str, from_id: int, to_id: int) -> None:
        """Marks ids ``from_id..=to_id`` as impossible to fill; the windows they touch say ``abandoned``."""
    def gaps(self, symbol: str | None = None) -> list[tuple[str, int, int]]:
        """Open (not filled, not abandoned) missing id ranges ``(symbol, from_id, to_id)``, inclusive."""
    def last_trade_id(self, symbol: str) -> int | None:
        """The highest aggregate trade id counted for ``symbol``."""
    def volume(self, symbol: str, window: str, *, now_ms: int | None = None) -> Volume:
        """``window`` is a horizon (``"15m"``: sliding) or ``"15m@aligned"`` (the aligned interval holding
        ``now_ms``). Raises :class:`tapeflow.UnknownSymbolError` or ``ValueError`` (window not configured, or
        reaching before the kept data)."""
    def volumes(self, window: str, *, now_ms: int | None = None) -> dict[str, npt.NDArray[np.generic]]:
        """``window`` for every symbol with flow state, one row per symbol: ``symbol`` (str objects),
        ``buy_quote``, ``sell_quote``, ``net_quote``, ``buy_base``, ``sell_base``, ``vwap`` (float64),
        ``buy_count``, ``sell_count``, ``big_buy_count``, ``big_sell_count`` (int64), ``complete``,
        ``abandoned``, ``checking`` (bool)."""
    def candles(self, symbol: str, interval: str, *, count: int | None = None) -> dict[str, npt.NDArray[np.generic]]:
        """The kept completed intervals and the current one of an aligned ``interval`` (``"1m"`` or
        ``"1m@aligned"``), oldest first: ``start_ms`` and the columns of :meth:`volumes` (without ``symbol``).
        ``complete`` says that every trade before the interval's end is counted (see the notes above), so the current
        interval is not complete."""
    def flow_stats(self) -> FlowStats:
        """Flow counters."""
    def flow_memory(self, symbol: str) -> int:
        """Bytes held by ``symbol``'s flow state (second buckets, aligned intervals, id ledger)."""
    def closed_intervals(self, interval: str, since_ms: int) -> dict[str, list[Any]]:
        """Every symbol's kept aligned intervals of ``interval`` (a configured one, ``"1m"`` or ``"1m@aligned"``)
        that start at or after ``since_ms`` and have ended by the engine's heard-until clock (the newest event time
        seen in any frame), by symbol, oldest first. Columns (lists of equal length): ``symbol``, ``start_ms``,
        ``buy_base``, ``sell_base``, ``buy_quote``, ``sell_quote`` (exact decimal strings), ``buy_count``,
        ``sell_count``, ``big_buy_count``, ``big_sell_count`` (int), ``first_id``, ``last_id`` (the lowest and
        highest aggregate trade id counted in the interval; ``None`` without trades), ``complete``, ``abandoned``
        (bool): the values :meth:`candles` gives, exact."""

    # --- Whole state ----------------------------------------------------------------------------------------------

    def checkpoint(self) -> bytes:
        """The flow state (every symbol's buckets, aligned intervals, id ledger, coverage) and the liquidation state
        (kept events, cluster bins, mark prices, contract sizes) as one versioned, checksummed byte string. Counters,
        pending checks and books are not part of it. The same as ``checkpoint_draft().seal()``."""
    def checkpoint_draft(self) -> CheckpointDraft:
        """The :meth:`checkpoint` of this moment, not sealed yet: the engine is held only while its state is copied
        out; :meth:`CheckpointDraft.seal` computes the checksum later, needing no engine (e.g. on another thread)."""
    def prepare_checkpoint_buffer(self) -> None:
        """Makes ready the buffer the next checkpoint draft is written into: sized for the state now and every page
        of it touched, without the GIL and without holding the engine (e.g. on another thread before a draft), so
        that the draft does not spend the time of faulting its pages in while it holds the engine."""
    def checkpoint_drafter(self) -> CheckpointDrafter:
        """The :meth:`checkpoint_draft` of this moment, written a few symbols at a time (:meth:`CheckpointDrafter.step`)
        with the engine let go between steps: any call that changes the engine before the last step voids it."""
    def restore(self, data: bytes) -> list[str]:
        """Restores a :meth:`checkpoint`: the flow and liquidation state of the symbols it holds replace this
        engine's (other symbols are kept; the clocks move to the later of the two). Returns those symbols.

        Raises:
            tapeflow.CheckpointError: not a checkpoint, a newer format, corrupt, another market or other flow
                settings (see its ``reason``); the engine is unchanged.
        """
    def last_trade_ids(self) -> dict[str, int]:
        """The last counted aggregate trade id of every symbol that has one."""
    def memory(self) -> dict[str, int]:
        """Bytes held: ``flow``, ``liq``, ``books`` (with buffered diffs) and their ``total``."""

@final
class Volume:
    """Taker buy/sell flow of one symbol over one window, as of ``as_of`` (event time, ms).

    Floats are for convenience; :meth:`exact` gives the exact sums.
    """

    @property
    def symbol(self) -> str: ...
    @property
    def window(self) -> str:
        """Canonical window name (``"15m"`` or ``"15m@aligned"``)."""
    @property
    def buy_base(self) -> float:
        """Taker-buy base volume (contracts on COIN-M)."""
    @property
    def sell_base(self) -> float: ...
    @property
    def buy_quote(self) -> float:
        """Taker-buy quote volume (USD on COIN-M: contracts x contract size)."""
    @property
    def sell_quote(self) -> float: ...
    @property
    def net_quote(self) -> float:
        """``buy_quote - sell_quote``."""
    @property
    def buy_count(self) -> int: ...
    @property
    def sell_count(self) -> int: ...
    @property
    def vwap(self) -> float:
        """Σ price x quantity / Σ quantity over both sides; NaN without trades."""
    @property
    def big_buy_count(self) -> int:
        """Taker buys at or above the smallest ``big_trade`` threshold."""
    @property
    def big_sell_count(self) -> int: ...
    @property
    def big_buy_counts(self) -> list[int]:
        """Taker buys at or above each threshold, ascending."""
    @property
    def big_sell_counts(self) -> list[int]: ...
    @property
    def complete(self) -> bool:
        """Every trade of the window was counted: trades are known from before its start, no open or abandoned id
        gap overlaps it, and no check of the symbol's trades is pending."""
    @property
    def abandoned(self) -> bool:
        """An abandoned gap overlaps the window."""
    @property
    def checking(self) -> bool:
        """A check of the symbol's trades is pending (:meth:`Engine.begin_check`): the window is not complete
        meanwhile."""
    @property
    def as_of(self) -> int:
        """The ``now_ms`` the window was evaluated at."""
    @property
    def start_ms(self) -> int:
        """The window holds trade times ``start_ms <= T < end_ms``."""
    @property
    def end_ms(self) -> int: ...
    def exact(self) -> dict[str, decimal.Decimal]:
        """Exact ``buy_base``, ``sell_base``, ``net_base``, ``buy_quote``, ``sell_quote``, ``net_quote`` and
        ``vwap`` (a quotient at the decimal context's precision; NaN without trades)."""

@final
class LiqTotal:
    """Total liquidated notional over a look-back (quote units; USD on COIN-M with contract sizes set)."""

    @property
    def symbol(self) -> str | None: ...
    @property
    def side(self) -> str | None: ...
    @property
    def notional(self) -> float: ...
    @property
    def notional_exact(self) -> str:
        """Exact decimal string."""
    @property
    def count(self) -> int: ...
    @property
    def start_ms(self) -> int:
        """First ms of the range (inclusive)."""
    @property
    def end_ms(self) -> int:
        """End of the range (exclusive)."""

@final
class LiqCluster:
    """One price bin of a symbol's liquidations, decayed to the query time.

    ``strength`` is the bin's share of the symbol's decayed notional over all its bins (in [0, 1]; all bins, also
    those below ``min_events``). ``side`` is the side with the larger decayed notional. ``distance_pct`` is
    ``(price - mark) / mark * 100``.
    """

    @property
    def symbol(self) -> str: ...
    @property
    def bin(self) -> int:
        """Index ``k`` on the log grid: prices in ``[(1+w)^k, (1+w)^(k+1))``."""
    @property
    def price(self) -> float:
        """Notional-weighted mean price of the bin's events."""
    @property
    def price_low(self) -> float: ...
    @property
    def price_high(self) -> float: ...
    @property
    def side(self) -> Literal["long", "short"]: ...
    @property
    def count(self) -> int: ...
    @property
    def count_long(self) -> int: ...
    @property
    def count_short(self) -> int: ...
    @property
    def notional(self) -> float: ...
    @property
    def notional_long(self) -> float: ...
    @property
    def notional_short(self) -> float: ...
    @property
    def notional_exact(self) -> str: ...
    @property
    def decayed(self) -> float:
        """Sum of ``notional * exp(-(now - time) / tau)`` over the bin's events."""
    @property
    def decayed_long(self) -> float: ...
    @property
    def decayed_short(self) -> float: ...
    @property
    def strength(self) -> float: ...
    @property
    def distance_pct(self) -> float | None: ...
    @property
    def last_time_ms(self) -> int: ...

@final
class WsReader:
    """Client-side WebSocket (RFC 6455) frame decoder, Sans I/O: feed it socket reads, get whole messages back.

    Server frames must be unmasked, with RSV bits 0 (no extension) and a known opcode; control frames unfragmented
    and at most 125 bytes (they may come between fragments); fragments are joined. Text is not UTF-8 validated
    here (the engine validates JSON). Any violation raises :class:`tapeflow.WebSocketProtocolError` and every
    later ``feed`` raises it again: the connection must be dropped. Input after a close frame is ignored.
    """

    def __new__(cls, max_message_size: int = 67108864) -> WsReader: ...
    @property
    def max_message_size(self) -> int: ...
    @property
    def closed(self) -> bool:
        """True once a close frame was decoded."""
    @property
    def buffered(self) -> int:
        """Bytes held over from earlier reads (the start of an unfinished frame)."""
    def feed(self, data: bytes) -> tuple[list[bytes], list[tuple[int, bytes]] | None]:
        """Parses every complete frame of ``data`` (plus what earlier reads left).

        Returns:
            ``(messages, controls)``: the complete data messages (text or binary) in order, and the control frames
            as ``(opcode, payload)`` — ping ``9``, pong ``10``, close ``8`` (payload: 2-byte code and reason, or
            empty) — in order, or ``None`` when there were none.
        """

def encode_client_frame(opcode: int, payload: bytes, mask: bytes) -> bytes:
    """One unfragmented client frame, masked with the 4-byte ``mask`` (fresh random bytes for every frame).

    Raises ``ValueError`` for an unknown opcode, a control payload over 125 bytes or a mask not 4 bytes long.
    """
