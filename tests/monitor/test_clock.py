"""The Monitor follows the exchange's clock: windows that end "now" end at the exchange's now, even when the
exchange's time is far from this machine's or runs faster (the local simulator), and a clock that stands still is
refused rather than silently answered with empty windows."""

from __future__ import annotations

import asyncio
import time

import pytest

from tapeflow import Monitor, SystemClock, TapeflowError
from tapeflow.clock import ExchangeClock
from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import window_bounds
from tests.sim.support import tape


def test_the_exchange_clock_is_the_system_clock_shifted_and_scaled() -> None:
    clock = ExchangeClock()
    assert abs(clock.now_ms() - time.time_ns() // 1_000_000) < 50  # nothing measured yet: the system clock
    now_ns = time.time_ns()
    clock.follow(1_000_000, now_ns - 2_000_000, now_ns, rate=60.0)  # a 2 ms round trip, 60x time
    assert clock.offset_ms == 1_000_000 - (now_ns - 1_000_000) // 1_000_000
    t0 = clock.now_ms()
    time.sleep(0.05)
    assert 2_900 <= clock.now_ms() - t0 <= 4_500  # 50 real ms = 3 exchange seconds at 60x
    with pytest.raises(ValueError, match="must run forward"):
        clock.follow(1, 0, 0, rate=0.0)


@pytest.mark.asyncio
async def test_a_monitor_with_no_clock_argument_follows_a_fast_simulator() -> None:
    cfg = SimConfig(market="usdm", symbols=3, seed=61, speed=60.0, rate=20.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        await asyncio.sleep(0.3)  # the market trades for a while before the Monitor starts
        async with Monitor("usdm", flow=("1m", "5m"), books=False, liquidations=False, ws_url=ex.ws_url,
                           rest_url=ex.rest_url, quote=None) as m:  # fmt: skip
            assert isinstance(m.clock, ExchangeClock) and m.clock.rate == 60.0
            assert abs(m.clock.offset_ms) > 86_400_000  # the simulator's year is not this machine's
            assert abs(m.clock.now_ms() - ex.now_ms()) < 2_000  # but the Monitor reads the exchange's now
            await m.wait_connected()
            await asyncio.sleep(2.5)  # 150 virtual seconds
            at = ex.now_ms() - 10_000  # a window already delivered whole (the feed's lag is far below 10 s)
            await asyncio.sleep(0.3)
            await m.settle()
            checked = 0
            for s in m.symbols:
                v = m.volume(s, "1m", now_ms=at)
                t = tape(ex, s, *window_bounds(at, 60_000, False))
                exact = v.exact()
                assert (exact["buy_quote"], exact["sell_quote"]) == (t.buy_quote, t.sell_quote), s
                checked += v.buy_count + v.sell_count
            assert checked > 50  # real trades, not the empty windows of a clock 340 days away


@pytest.mark.asyncio
async def test_a_start_up_longer_than_a_weight_minute_goes_on_after_the_clock_moves_to_the_exchanges() -> None:
    """The first request goes out on the system clock, the rest on the exchange's (a year behind here): the weight
    budget still frees minute after minute, and the start-up ends within the exchange's limit."""
    cfg = SimConfig(market="usdm", symbols=8, seed=63, speed=60.0, rate=10.0, liq_rate=0.0, weight_limit=100)
    async with SimExchange(cfg) as ex:
        await asyncio.sleep(0.3)
        async with Monitor("usdm", flow=("1m", "5m"), books=False, liquidations=False, ws_url=ex.ws_url,
                           rest_url=ex.rest_url, quote=None) as m:  # fmt: skip
            p = await m.ready(timeout=30)  # 8 pages of weight 20 at 80 a minute: 2 minutes, 2 s at this speed
            assert p.weight_spent > 80 and m.status().rest.throttled == 0 and ex.limiter.log == []


@pytest.mark.asyncio
async def test_a_simulator_on_a_manual_clock_needs_its_clock_passed() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=2, speed=0.0)) as ex:
        m = Monitor("usdm", quote=None, ws_url=ex.ws_url, rest_url=ex.rest_url)
        with pytest.raises(TapeflowError, match=r"clock=FunctionClock\(exchange.now_ms\)"):
            await m.start()


@pytest.mark.asyncio
async def test_a_clock_far_from_the_events_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    cfg = SimConfig(market="usdm", symbols=2, seed=62, speed=5.0, rate=20.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        wrong = SystemClock()  # this machine's clock: the simulator's events are months behind it
        async with Monitor("usdm", flow=("1m",), books=False, quote=None, ws_url=ex.ws_url, rest_url=ex.rest_url,
                           clock=wrong) as m:  # fmt: skip
            await m.wait_connected()
            for _ in range(60):
                if any("behind this monitor's clock" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.1)
        warnings = [r for r in caplog.records if r.levelname == "WARNING" and "monitor's clock" in r.getMessage()]
        assert len(warnings) == 1 and "events are" in warnings[0].getMessage()  # once, not per check


@pytest.mark.asyncio
async def test_the_clock_follows_the_reading_with_the_shortest_round_trip() -> None:
    """The exchange holds its first ``/time`` answer a second (as a slow TLS handshake or a congested path would):
    taken alone, the middle of that round trip would put the exchange's clock half a second ahead. The Monitor reads
    the time again and follows its quickest reading."""
    cfg = SimConfig(
        market="usdm", symbols=2, seed=64, speed=1.0, rate=5.0, liq_rate=0.0, start_ms=int(time.time() * 1000)
    )
    async with SimExchange(cfg) as ex:
        ex.faults.rest_delay(1.0)  # the next REST call: the Monitor's first /time
        async with Monitor("usdm", flow=("1m",), books=False, liquidations=False, ws_url=ex.ws_url,
                           rest_url=ex.rest_url, quote=None) as m:  # fmt: skip
            assert isinstance(m.clock, ExchangeClock)
            truth = ex.clock.now_ms() - time.time_ns() // 1_000_000  # the simulator's clock against this machine's
            # The quickest of the readings, on loopback: off by at most half its round trip.
            assert abs(m.clock.offset_ms - truth) < 20, (m.clock.offset_ms, truth)
