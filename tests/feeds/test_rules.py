"""The pure rules of a connection: reconnect delays, liveness verdicts, subscribe packing and request ids."""

from __future__ import annotations

import json

import pytest

from tapeflow.feeds.backoff import backoff_delay
from tapeflow.feeds.liveness import SessionTimes, expected_kinds, hear, judge
from tapeflow.feeds.options import ConnectionOptions
from tapeflow.feeds.subscribe import RequestIds, control_message, pack_requests, split_for_url

RULES = ConnectionOptions(silence_s=10, verify_s=30, ping_interval_s=30, pong_timeout_s=10)


def test_backoff_doubles_to_the_cap_with_jitter_between_half_and_all() -> None:
    low, high = (lambda a, b: a), (lambda a, b: b)
    assert [backoff_delay(n, 0.25, 30.0, high) for n in range(0, 10)] == [
        0.25, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0,
    ]  # fmt: skip
    assert backoff_delay(3, 0.25, 30.0, low) == 0.5
    assert backoff_delay(10_000, 0.25, 30.0, high) == 30.0  # no overflow for a connection down for days
    for n in range(12):
        d = backoff_delay(n, 0.25, 30.0)
        assert 0.125 <= d <= 30.0


def test_options_refuse_nonsense_timings() -> None:
    with pytest.raises(ValueError, match="silence_s"):
        ConnectionOptions(silence_s=0)
    with pytest.raises(ValueError, match="backoff_max_s"):
        ConnectionOptions(backoff_base_s=5, backoff_max_s=1)


def test_a_silent_session_is_dead_only_after_the_silence_span() -> None:
    t = SessionTimes(opened_ms=0, last_frame_ms=0)
    assert judge(t, RULES, 9_000, set()).dead is None
    t.last_frame_ms = 9_500
    assert judge(t, RULES, 19_000, set()).dead is None
    verdict = judge(t, RULES, 19_600, set())
    assert verdict.dead == "silent for 10.1s"


def test_a_clock_jump_restarts_the_deadlines() -> None:
    t = SessionTimes(opened_ms=0, last_frame_ms=0, pong_pending=True, ping_sent_ms=0)
    assert judge(t, RULES, 1_000, set()).dead is None
    # 60 s pass between two checks (a suspended machine): nothing could be heard, so nothing is condemned.
    assert judge(t, RULES, 61_000, set()).dead is None
    assert (t.last_frame_ms, t.ping_sent_ms) == (61_000, 61_000)
    assert judge(t, RULES, 66_000, set()).dead is None
    assert judge(t, RULES, 71_500, set()).dead == "silent for 10.5s"  # checks kept coming: a real silence


def test_pings_go_out_on_the_interval_and_must_be_answered() -> None:
    t = SessionTimes(opened_ms=0, last_frame_ms=0)
    t.last_frame_ms = 29_000
    assert not judge(t, RULES, 29_000, set()).ping
    assert judge(t, RULES, 30_000, set()).ping and t.ping_sent_ms == 30_000
    t.pong_pending = True
    t.last_frame_ms = 40_000
    assert not judge(t, RULES, 40_000, set()).ping  # one ping at a time
    assert judge(t, RULES, 40_001, set()).dead == "ping not answered"


def test_kinds_that_never_deliver_are_reported_once_the_canary_speaks() -> None:
    streams = ["a@aggTrade", "b@aggTrade", "a@depth@100ms", "!forceOrder@arr"]
    t = SessionTimes(opened_ms=0, last_frame_ms=0, unverified=expected_kinds(streams))
    assert set(t.unverified) == {"aggTrade", "depth"}  # forceOrder is sparse: judged by the canary only
    hear(t, [b'{"stream":"a@depth@100ms","data":{}}'])
    assert set(t.unverified) == {"aggTrade"}
    t.last_frame_ms = 31_000
    assert judge(t, RULES, 31_000, set()).silent == ()  # no frame counted yet: the session never spoke
    t.frames = 5
    assert judge(t, RULES, 31_000, set()).silent == ("aggTrade",)
    assert judge(t, RULES, 31_000, {"aggTrade"}).silent == ()  # reported already
    hear(t, [b'{"stream":"!aggTrade@arr"}'])  # an all-market array shows the kind too
    assert t.unverified == {}


def test_streams_beyond_the_url_budget_are_subscribed_in_packs() -> None:
    names = [f"s{i:04d}usdt@aggTrade" for i in range(500)]
    in_url, rest = split_for_url(names, budget=3000)
    assert sum(len(n) + 1 for n in in_url) <= 3000 < sum(len(n) + 1 for n in names[: len(in_url) + 1])
    assert in_url + rest == names
    packs = pack_requests("SUBSCRIBE", rest, per_request=200)
    assert [len(p[1]) for p in packs] == [200] * (len(rest) // 200) + ([len(rest) % 200] if len(rest) % 200 else [])
    assert [n for _, p in packs for n in p] == rest and all(m == "SUBSCRIBE" for m, _ in packs)
    assert pack_requests("UNSUBSCRIBE", []) == []


def test_request_ids_lead_back_to_their_connection() -> None:
    ids = RequestIds(7)
    first, second = ids.next(), ids.next()
    assert (first, second) == (7_000_001, 7_000_002)
    assert RequestIds.connection_of(first) == RequestIds.connection_of(second) == 7
    message = json.loads(control_message("SUBSCRIBE", ["a@aggTrade"], first))
    assert message == {"method": "SUBSCRIBE", "params": ["a@aggTrade"], "id": 7_000_001}
    ids._n = 999_998  # a connection that lives long enough wraps within its own id space
    assert RequestIds.connection_of(ids.next()) == 7 and RequestIds.connection_of(ids.next()) == 7
