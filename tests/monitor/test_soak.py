"""A day of virtual time on the simulator with faults: the engine's memory is flat once the longest window is full,
and the windows still equal the tape at the end."""

from __future__ import annotations

import time

import pytest

from tapeflow.feeds import ConnectionOptions
from tapeflow.monitor.memory import MemoryReport
from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import check_windows, drive, monitor_on, settle

HOUR = 3_600_000
FLOW = ("1m", "5m", "15m", "1h", "4h")
BUCKET = 128  # bytes of a bucket and of an aligned interval (docs/flow.md, "Cost and memory")
#: The most a symbol's flow state holds with these windows (docs/flow.md): each resolution's deque at its span plus
#: the current step (1 s over 15 min, 10 s over 1 h, 1 min over 4 h), five aligned series of 60 intervals plus the
#: one closing, and under 4 KB of the rest (struct, running totals, id ledger).
FLOW_MAX = BUCKET * ((900 + 1) + (360 + 1) + (240 + 1) + len(FLOW) * 61) + 4096
#: A kept liquidation: the event (128 bytes) and its entry in two running-sum logs (64 each); the buffers grow by
#: doubling, so up to twice that is allocated.
LIQ_EVENT = 256


#: 24 virtual hours take 60-100 s of wall time (the simulator's model most of it): `make test-quick` leaves it out.
pytestmark = pytest.mark.slow


@pytest.mark.asyncio
@pytest.mark.timeout(400)
async def test_a_day_with_faults_keeps_memory_flat_and_windows_exact() -> None:
    started = time.monotonic()
    cfg = SimConfig(market="usdm", symbols=3, seed=17, speed=0.0, rate=1.0, liq_rate=0.02)
    # The manual clock moves a minute a step: liveness limits well above a step, so a step is not mistaken for silence.
    options = ConnectionOptions(silence_s=120.0, verify_s=300.0, ping_interval_s=60.0, pong_timeout_s=120.0)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=FLOW, books=True, liquidations=True, options=options) as m:
        end = ex.now_ms() + 24 * HOUR
        # About one fault every 20 virtual minutes of every kind, up to half an hour before the end.
        ex.faults.random_faults(
            seed=3,
            every_ms=20 * 60_000,
            until_ms=end - HOUR // 2,
            kinds=("disconnect", "abrupt", "stall", "drop", "duplicate", "reorder", "malformed", "gap", "rest429"),
        )
        samples: list[MemoryReport] = []
        for _ in range(24):
            await drive(ex, m, HOUR, chunk=60_000)
            samples.append(m.memory())
        await settle(ex, m, chunk=60_000)
        now = ex.now_ms()
        trades = check_windows(ex, m, FLOW, now)
        st = m.status()
        elapsed = time.monotonic() - started

    n = len(m.symbols)
    assert n == 3 and trades > 0
    assert st.frames > 0 and sum(c.reconnects for c in st.connections) >= 10, st.connections
    assert st.malformed >= 1
    # Flow: from the hour after the 4 h horizon is full, flat: it never shrinks (buffers are kept), it grows only
    # when a deque doubles because a symbol's busiest quarter hour beat its earlier ones (a quiet symbol's 1 s deque
    # from 256 to 512 buckets: 32 KB, at most once a symbol here), and it stays under the layout's bound.
    flow = [s.flow for s in samples]
    after = flow[5:]
    assert after == sorted(after), flow
    assert after[-1] - after[0] <= n * 256 * BUCKET, flow
    assert after[-1] <= n * FLOW_MAX, (after[-1], n * FLOW_MAX)
    # Liquidations are kept for 240 h, so within a day they grow with the events kept, and only with them.
    kept = m.engine.liq_stats().kept
    liq = samples[-1].liquidations
    assert kept > 100
    assert LIQ_EVENT * kept <= liq <= 2 * LIQ_EVENT * kept + n * 16_384, (liq, kept)
    # Books hold their levels, not their history: the same order of size at every hour after the first.
    books = [s.books for s in samples[1:]]
    assert max(books) <= 2 * min(books), books
    print(f"soak: {elapsed:.1f} s wall, flow {flow} B, liquidations {liq} B ({kept} kept), books {books[-1]} B")
