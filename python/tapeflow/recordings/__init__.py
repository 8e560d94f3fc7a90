"""Recorded sessions: the file format, recording a live Monitor, and replaying a file through the engine."""

from tapeflow.recordings.format import (
    Record,
    RecordingError,
    RecordingWriter,
    agg_trades_query,
    bundled,
    market_of_url,
    read_recording,
    snapshot_symbol,
)
from tapeflow.recordings.replay import ReplaySummary, book_line, replay

__all__ = [
    "Record",
    "RecordingError",
    "RecordingWriter",
    "ReplaySummary",
    "agg_trades_query",
    "book_line",
    "bundled",
    "market_of_url",
    "read_recording",
    "replay",
    "snapshot_symbol",
]
