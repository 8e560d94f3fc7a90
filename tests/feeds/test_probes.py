"""Reading ids and times out of raw bytes without parsing them."""

from __future__ import annotations

from tapeflow.feeds.connection import event_time
from tapeflow.sync.backfill import first_agg_id, last_agg_id


def test_probes_read_ids_and_times_without_parsing() -> None:
    frame = b'{"stream":"x@aggTrade","data":{"e":"aggTrade","E":1700000000123,"a":5}}'
    assert event_time(frame) == 1_700_000_000_123
    assert event_time(b'{"result":null,"id":1}') is None
    body = b'[{"a":101,"p":"1","q":"2"},{"a":102,"p":"1"},{"a":107,"p":"1"}]'
    assert (first_agg_id(body), last_agg_id(body)) == (101, 107)
    assert first_agg_id(b"[]") is None
