"""The weight budget: minutes, the safety share, the exchange's header, and the pauses of 429 and 418."""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tapeflow.sync.budget import WeightBudget, in_flight_for, retry_after_s

MIN = 60_000


def test_requests_are_admitted_within_the_safe_share_of_the_last_minute() -> None:
    b = WeightBudget(2400, safety=0.5)  # 1,200 a minute for this client
    now = 10 * MIN + 5_000
    spent = 0
    while b.admit(20, now) == 0:
        spent += 20
    assert spent == 1200 and b.used(now) == 1200
    wait = b.admit(20, now)
    assert wait == MIN  # until the first of them is a minute old
    assert b.admit(20, now + wait) == 0 and b.used(now + wait) == 20  # they aged out together


@given(st.lists(st.tuples(st.integers(0, 4_000), st.sampled_from([1, 2, 5, 20, 50])), min_size=1, max_size=300))
def test_no_60_s_ever_holds_more_than_the_allowance(steps: list[tuple[int, int]]) -> None:
    """Whatever the times and weights, any 60 s holds at most the allowance: so does any minute of the exchange,
    whatever its clock's offset. And a refused request is admitted once it has waited as told."""
    b = WeightBudget(400, safety=0.5)
    now, sent = 0, []
    for dt, w in steps:
        now += dt
        wait = b.admit(w, now)
        if wait:
            now += wait
            assert b.admit(w, now) == 0
        sent.append((now, w))
    for t, _ in sent:
        assert sum(w for u, w in sent if t - MIN < u <= t) <= 200


def test_the_exchange_header_counts_what_others_on_the_ip_spent() -> None:
    b = WeightBudget(2400, safety=0.8)
    now = 3 * MIN
    assert b.admit(20, now) == 0
    b.note_reply(200, {"X-MBX-USED-WEIGHT-1M": "1910", "x-mbx-used-weight-1s": "3"}, now)
    assert b.used(now) == 1910 and b.used_weight == {"1m": 1910, "1s": 3}
    assert b.admit(20, now) > 0  # 1,930 would pass 80 % of 2,400
    b.note_reply(200, {"X-MBX-USED-WEIGHT-1M": "5"}, now)
    assert b.used(now) == 1910  # the larger of what the headers showed
    assert b.used(now + MIN) == 0  # it aged out with the exchange's minute, and so did this client's own 20


def test_a_header_holding_this_clients_own_requests_does_not_stall_it() -> None:
    """The exchange's minute is a few seconds behind: it still holds requests this client sent more than 60 s ago
    by its own clock. The header then says "nearly full", but all of it is this client's own weight."""
    b = WeightBudget(2400, safety=0.8)  # 1,920 a minute
    t0 = 5 * MIN + 20_000
    for k in range(96):  # the whole allowance, over 28.5 s
        assert b.admit(20, t0 + k * 300) == 0
    assert b.admit(20, t0 + 30_000) == 60_000 - 30_000  # until the first is a minute old
    now = t0 + 61_000  # 4 of them have aged out here
    for _ in range(4):
        assert b.admit(20, now) == 0
    b.note_reply(200, {"X-MBX-USED-WEIGHT-1M": str(100 * 20)}, now + 100)  # the exchange counts all 100
    assert b.used(now + 100) == 1920  # own weight only: nothing of others
    assert b.admit(20, now + 300) == 0  # the one sent at t0 + 1.2 s has aged out
    assert b.admit(20, now + 300) == 200  # the next one at t0 + 1.5 s


def test_weight_of_others_counts_beyond_what_this_client_sent_lately() -> None:
    b = WeightBudget(2400, safety=0.8)
    start = 9 * MIN
    assert b.admit(1000, start + 1_000) == 0  # 66 s before the reply: no exchange minute open now holds it
    now = start + 67_000
    assert b.admit(20, now) == 0
    b.note_reply(200, {"X-MBX-USED-WEIGHT-1M": "1500"}, now + 100)  # 1,480 of it someone else's
    assert b.used(now + 100) == 1500
    assert b.admit(420, now + 100) == 0 and b.admit(20, now + 100) > 0  # 1,920 of 1,920, then full
    assert b.used(now + 100 + MIN) == 0  # a minute later the others' weight is the exchange's to report again


def test_a_request_heavier_than_the_allowance_goes_alone_at_a_minute_start() -> None:
    b = WeightBudget(100, safety=0.5)
    assert b.admit(250, 0) == 0  # nothing spent in the last minute: it goes, or it never would
    assert b.admit(1, 1) > 0


@pytest.mark.parametrize("status", [429, 418])
def test_rate_limits_pause_everything_for_retry_after_or_the_minute(status: int) -> None:
    b = WeightBudget(2400)
    now = 7 * MIN + 15_000
    assert b.note_reply(status, {"Retry-After": "12"}, now) == 12.0
    assert b.paused_for_s(now) == pytest.approx(12.05)
    assert b.admit(1, now + 11_000) == 1_050
    assert b.admit(1, now + 12_050) == 0
    b2 = WeightBudget(2400)
    b2.note_reply(status, {}, now)  # futures do not document Retry-After: wait for the next minute
    assert b2.admit(1, now) == MIN - 15_000 + 50


def test_retry_after_and_safety_are_read_carefully() -> None:
    assert retry_after_s({"Retry-After": "3.5"}) == 3.5
    assert retry_after_s({"Retry-After": "soon"}) is None and retry_after_s({}) is None
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="weight_safety"):
            WeightBudget(2400, safety=bad)


@pytest.mark.asyncio
async def test_waiting_requests_go_in_priority_order_when_the_minute_turns() -> None:
    from tapeflow import FunctionClock
    from tapeflow.sync.admission import BOOK, FILL, GAP, READ, RETRY, Admission

    now = [10 * MIN + 1_000]
    clock = FunctionClock(lambda: now[0], poll=0.001)
    budget = WeightBudget(100, safety=1.0)
    gate = Admission(budget, clock)
    await gate.enter(100, BOOK)  # the minute's whole budget, at once: nobody was waiting
    order: list[str] = []

    async def request(name: str, priority: int) -> None:
        await gate.enter(60, priority)
        order.append(name)

    tasks = [
        asyncio.create_task(request(name, p))
        for name, p in [("retry", RETRY), ("book", BOOK), ("fill", FILL), ("gap", GAP), ("read", READ)]
    ]
    await asyncio.sleep(0.05)
    assert order == [] and gate.waiting == 5
    for _ in range(3):  # each minute has room for one request of 60
        now[0] += MIN
        await asyncio.sleep(0.05)
    assert order == ["read", "gap", "fill"] and gate.waiting == 2
    tasks[0].cancel()  # a waiter that gives up is skipped
    now[0] += MIN
    await asyncio.sleep(0.05)
    assert order == ["read", "gap", "fill", "book"] and gate.waiting == 0
    await gate.close()
    assert budget.used(now[0]) == 60


@pytest.mark.parametrize(
    ("per_min", "weight", "round_trip_s", "expected"),
    [
        # USD-M start-up fills: 1,920 a minute, 20 a page: 1.6 pages a second, each out for 5 s: 8 at once.
        pytest.param(1920, 20, 5.0, 8, id="usdm-aggtrades"),
        # Spot aggTrades (weight 4): 20 pages a second would need 100 at once: capped.
        pytest.param(4800, 4, 5.0, 32, id="spot-aggtrades-capped"),
        # Spot snapshots of 1,000 levels (weight 50): 1.6 a second.
        pytest.param(4800, 50, 5.0, 8, id="spot-depth-1000"),
        # A fast exchange needs few: never under the floor of 4.
        pytest.param(1920, 20, 0.2, 4, id="fast-round-trip-floor"),
    ],
)
def test_requests_in_flight_spend_the_budget_while_each_is_out(
    per_min: float, weight: int, round_trip_s: float, expected: int
) -> None:
    n = in_flight_for(per_min, weight, round_trip_s)
    assert n == expected
    # Little's law, checked by counting: n requests, each out for round_trip_s, started back to back over a minute,
    # send at least the minute's budget (unless capped at the most).
    sent = n * math.floor(60 / round_trip_s) * weight
    assert sent >= per_min or n == 32


def test_a_clock_that_moves_back_does_not_hold_the_budget_forever() -> None:
    """The first request goes out on the system clock; then the clock follows the exchange's, here a year behind.
    What was counted on the old clock is forgotten rather than held until the new clock catches up."""
    b = WeightBudget(100, safety=1.0)
    system, exchange = 1_796_675_091_851, 1_767_225_600_000
    assert b.admit(1, system) == 0
    assert b.admit(90, exchange) == 0 and b.used(exchange) == 90
    assert b.admit(20, exchange + 1) == MIN - 1
    assert b.admit(20, exchange + MIN) == 0 and b.used(exchange + MIN) == 20


def test_a_pause_keeps_its_length_when_the_clock_moves_back() -> None:
    """A 418 on the first request (the system clock), then the exchange's clock, a year behind: the ban's two minutes
    still run from when it came, instead of until the exchange's clock reaches the system clock's deadline."""
    b = WeightBudget(100, safety=1.0)
    system, exchange = 1_796_675_091_851, 1_767_225_600_000
    assert b.admit(1, system) == 0
    assert b.note_reply(418, {"Retry-After": "120"}, system + 10) == 120
    assert b.paused_for_s(system + 1_010) == pytest.approx(119.05)
    assert b.admit(1, exchange) == 119_050  # 120 s + 50 ms from the 418, less the second already waited
    assert b.paused_for_s(exchange + 118_000) == pytest.approx(1.05)
    assert b.admit(1, exchange + 119_050) == 0
