"""The exception hierarchy of tapeflow.

Every exception tapeflow raises derives from :class:`TapeflowError`. The engine (Rust) raises these same classes,
with structured fields set, so callers can act on ``err.symbol`` or ``err.field`` instead of parsing messages.

Expected outcomes — a sequence gap that needs a resync, a snapshot that is too old, a missing aggTrade id range — are
*not* exceptions: the engine returns them as actions. Exceptions mean a broken contract: a malformed frame, a read of
a book that is not synced, an unknown symbol.
"""

from __future__ import annotations

__all__ = [
    "BackfillError",
    "BookError",
    "BookNotSyncedError",
    "CheckpointError",
    "DecodeError",
    "FeedError",
    "RestError",
    "StoreError",
    "TapeflowError",
    "UnknownSymbolError",
    "WebSocketProtocolError",
]


class TapeflowError(Exception):
    """Base class of every tapeflow error."""


class DecodeError(TapeflowError, ValueError):
    """A frame or REST body is not what Binance sends: invalid JSON, a missing or mistyped field, a bad number.

    The frame changed no state.

    Attributes:
        kind: ``"invalid_json"``, ``"not_an_object"``, ``"missing_field"``, ``"wrong_type"`` or ``"bad_number"``.
        field: the JSON field the error is about, if any (``"u"``, ``"b"``, ``"lastUpdateId"``...).
        index: the position of the frame in the batch it came in, if it came in a batch.
    """

    def __init__(self, message: str, *, kind: str = "", field: str | None = None, index: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.field = field
        self.index = index


class BookError(TapeflowError):
    """A book cannot answer a query.

    Attributes:
        symbol: the symbol of the book.
    """

    def __init__(self, message: str, *, symbol: str = "") -> None:
        super().__init__(message)
        self.symbol = symbol


class BookNotSyncedError(BookError):
    """The book is not synced (still syncing, or discarded after a gap): its levels must not be served.

    Attributes:
        state: the book's sync state (``"SYNCING"`` or ``"GAP"``).
    """

    def __init__(self, message: str, *, symbol: str = "", state: str = "") -> None:
        super().__init__(message, symbol=symbol)
        self.state = state


class UnknownSymbolError(TapeflowError, KeyError):
    """The engine has never seen this symbol.

    Attributes:
        symbol: the symbol asked for.
    """

    def __init__(self, message: str, *, symbol: str = "") -> None:
        super().__init__(message)
        self.symbol = symbol

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CheckpointError(TapeflowError, ValueError):
    """A checkpoint cannot be restored into this engine (the engine is unchanged), or cannot be drafted.

    Attributes:
        reason: ``"not_a_checkpoint"`` (the data does not start with a checkpoint's magic bytes),
            ``"newer_version"`` (written by a newer tapeflow), ``"corrupt"`` (checksum mismatch, truncated),
            ``"market"`` (another market) or ``"config"`` (other flow windows or big-trade thresholds); when drafting
            in steps, ``"changed"`` (the engine changed between two steps, so the draft is void).
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message, reason)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FeedError(TapeflowError):
    """A stream connection failed or was closed. The feed reconnects by itself; this is what it reports."""


class RestError(TapeflowError):
    """A REST call was refused or failed.

    Attributes:
        status: the HTTP status (0 when no reply arrived).
        code: Binance's error code from the body (``-1003``, ``-1121``...), if any.
        url: the URL called.
        retry_after: seconds to wait before the next call (``Retry-After`` of a 429 or 418), if given.
    """

    def __init__(
        self, message: str, *, status: int = 0, code: int | None = None, url: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.url = url
        self.retry_after = retry_after

    @property
    def permanent(self) -> bool:
        """A 4xx other than 429/418: the request itself is wrong (an unknown symbol...), asking again fails alike."""
        return 0 < self.status < 500 and self.status not in (418, 429)


class BackfillError(TapeflowError):
    """Trades of a gap could not be fetched back (the exchange no longer has them, or the budget ran out).

    Attributes:
        symbol: the symbol.
        from_id: first missing aggTrade id.
        to_id: last missing aggTrade id.
    """

    def __init__(self, message: str, *, symbol: str = "", from_id: int = 0, to_id: int = 0) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.from_id = from_id
        self.to_id = to_id


class StoreError(TapeflowError):
    """A store file was refused: nothing in it was read into the engine or overwritten.

    Attributes:
        path: the file.
        reason: ``"not_a_store"`` (not an SQLite file, or another program's database), ``"newer_schema"`` (written by
            a newer tapeflow), ``"corrupt"`` (SQLite finds it damaged), ``"other_market"`` (it holds another market's
            data), ``"in_use"`` (another process has it open as its store) or ``"unreadable"`` (it cannot be opened).
    """

    def __init__(self, message: str, *, path: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class WebSocketProtocolError(FeedError):
    """A WebSocket server broke the framing protocol (RFC 6455): a masked frame, an unknown opcode, a control frame
    over 125 bytes, a message over the size limit... The connection must be dropped; the feed reconnects.

    Attributes:
        kind: a short name of the violation (``"masked_frame"``, ``"reserved_bits"``, ``"unknown_opcode"``,
            ``"fragmented_control"``, ``"control_too_long"``, ``"unexpected_continuation"``,
            ``"message_in_progress"``, ``"length_overflow"``, ``"message_too_big"``, ``"close_too_short"``,
            ``"invalid_close_code"``).
        close_code: the close code that answers it (1002, or 1009 for a message over the limit).
        messages: the complete messages decoded from the same read before the violation (still valid data).
    """

    def __init__(
        self, message: str, *, kind: str = "", close_code: int = 1002, messages: list[bytes] | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.close_code = close_code
        self.messages: list[bytes] = messages if messages is not None else []
