"""Type stubs and documentation of the compiled engine, ``tapeflow._core``.

Users import these types from :mod:`tapeflow`. Prices and quantities are exact integers inside the engine (8
decimals, Binance's own precision); they leave it as floats (NumPy) or exact decimal strings.
"""

from collections.abc import Iterable
from typing import Literal, final

import numpy as np
import numpy.typing as npt

__version__: str
__all__ = ["Action", "Band", "BatchResult", "BookView", "Engine", "SyncState", "__version__"]

@final
class SyncState:
    """Sync state of a book."""

    SYNCING: SyncState
    """Buffering diffs until a snapshot connects to them."""
    SYNCED: SyncState
    """Snapshot applied and every diff since connected: the book is exact."""
    GAP: SyncState
    """A diff did not connect (or the book crossed): the book was discarded and needs a new snapshot."""
    def __int__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Action:
    """Something the I/O shell must act on or may want to know, returned by the apply calls."""

    @property
    def kind(self) -> Literal["snapshot_needed", "synced", "gap", "book", "control", "server_shutdown"]: ...
    @property
    def symbol(self) -> str | None: ...
    @property
    def last_update_id(self) -> int | None:
        """``synced``: the book's update id."""
    @property
    def expected(self) -> int | None:
        """``gap``: the id the book expected (spot: next ``U``; futures: ``pu``)."""
    @property
    def got(self) -> int | None:
        """``gap``: the id the diff carried."""
    @property
    def request_id(self) -> int | None:
        """``control``: the request id of the reply."""
    @property
    def result(self) -> str | None:
        """``control``: the ``result`` value as JSON text."""
    @property
    def error_code(self) -> int | None: ...
    @property
    def error_msg(self) -> str | None: ...
    @property
    def event_time(self) -> int | None:
        """``server_shutdown``: the event time."""
    @property
    def bids(self) -> list[tuple[str, str]] | None:
        """``book`` (tracing on): top bid levels as exact decimal strings, best first."""
    @property
    def asks(self) -> list[tuple[str, str]] | None:
        """``book`` (tracing on): top ask levels as exact decimal strings, best first."""
    @property
    def levels(self) -> tuple[int, int] | None:
        """``book`` (tracing on): number of bid and ask levels in the whole book."""
    @property
    def digest(self) -> str | None:
        """``book`` (tracing on): hex SHA-256 of the whole book in canonical text form."""

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
    def bids(self) -> npt.NDArray[np.float64]:
        """Top bid levels, best first, as an ``(n, 2)`` array of ``[price, qty]``."""
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
    def imbalance(self) -> float:
        """``(bid_qty - ask_qty) / (bid_qty + ask_qty)`` in [-1, 1]; 0 for an empty band."""
    def exact(self) -> list[tuple[str, str]]:
        """Exact values as decimal strings, keyed ``bid_qty``, ``ask_qty``, ``bid_notional``, ``ask_notional``."""

@final
class Engine:
    """The multi-symbol engine: raw frame bytes in, per-symbol state and actions out.

    Args:
        market: ``"spot"``, ``"usdm"`` or ``"coinm"``: picks the book sync procedure.
        buffer_limit: diffs kept per symbol while waiting for a snapshot (the oldest go first).
        trace_depth: when set, every applied diff adds an action of kind ``"book"`` with the top ``trace_depth``
            levels and the digest of the whole book (for replays and audits; costs a full-book hash per diff).
    """

    def __new__(cls, market: str, *, buffer_limit: int = 10000, trace_depth: int | None = None) -> Engine: ...
    @property
    def market(self) -> str: ...
    def apply_frames(self, frames: Iterable[bytes], recv_ts_ns: int) -> BatchResult:
        """Decodes and applies a batch of raw frames received at ``recv_ts_ns`` (the GIL is released).

        Malformed frames are skipped and reported in :attr:`BatchResult.errors`; they change nothing.
        """
    def apply_frame(self, frame: bytes, recv_ts_ns: int) -> list[Action]:
        """Decodes and applies one frame. Raises :class:`tapeflow.DecodeError` (changing nothing) if malformed."""
    def apply_snapshot(self, symbol: str, body: bytes) -> list[Action]:
        """Feeds a REST depth snapshot body (raw bytes). Raises :class:`tapeflow.DecodeError` if malformed."""
    def track(self, symbol: str) -> None:
        """Starts tracking a symbol before its first frame."""
    def symbols(self) -> list[str]:
        """Symbols seen so far, in order of first appearance."""
    def sync_state(self, symbol: str) -> SyncState:
        """Raises :class:`tapeflow.UnknownSymbolError` for a symbol never seen."""
    def book(self, symbol: str, depth: int = 10, *, allow_unsynced: bool = False) -> BookView:
        """The top ``depth`` levels. Raises :class:`tapeflow.BookNotSyncedError` unless the book is synced or
        ``allow_unsynced`` is true (the view's ``state`` then says what it is)."""
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
    def stats(self) -> dict[str, int | dict[str, int]]:
        """Counters: frames, events, malformed, depth_updates, level_updates, book_tickers, partial_depth, unknown."""
