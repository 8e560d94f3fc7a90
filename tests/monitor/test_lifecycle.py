"""Starting, reporting and stopping a Monitor."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tapeflow.errors import TapeflowError
from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import drive, monitor_on


@pytest.mark.asyncio
async def test_status_reports_lag_rates_and_weight() -> None:
    async with SimExchange(SimConfig(market="usdm", symbols=3, speed=0.0, rate=8.0)) as ex:
        async with monitor_on(ex, flow=()) as m:
            await drive(ex, m, 10_000)
            # A rate needs two liveness checks a second apart; on a busy machine the check task can trail the
            # driven clock, so give it a few more seconds (bounded) before reading.
            for _ in range(10):
                if all(c.frames_per_s > 0 for c in m.status().connections):
                    break
                await drive(ex, m, 1000)
            st = m.status()
            # exchangeInfo (1) and a first snapshot of 100 levels (weight 5) per book: nobody read them deeper.
            assert st.symbols == 3 and st.rest.weight_spent == 3 * 5 + 1
            assert m.rest.used_weight == {"1m": ex.limiter.used}  # the exchange's count, as its header said
            assert st.rest.weight_used == ex.limiter.used  # all in the last 60 s, and nobody else spent
            for c in st.connections:
                assert c.state == "open" and c.frames > 0 and c.lag_ms == 0  # virtual clock: no transit time
                assert c.frames_per_s > 0 and c.silent_kinds == ()


@pytest.mark.asyncio
async def test_monitor_that_fails_to_start_leaves_nothing_running(monkeypatch: pytest.MonkeyPatch) -> None:
    from tapeflow import FunctionClock, Monitor
    from tapeflow.errors import UnknownSymbolError
    from tapeflow.sync.rest import RestClient

    clients: list[RestClient] = []
    real_init = RestClient.__init__

    def init(self: RestClient, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        clients.append(self)

    monkeypatch.setattr(RestClient, "__init__", init)
    cfg = SimConfig(market="usdm", symbols=2, seed=3, speed=0.0)
    async with SimExchange(cfg) as ex:
        clock = FunctionClock(ex.now_ms)
        m = Monitor("usdm", ["NOPEUSDT"], ws_url=ex.ws_url, rest_url=ex.rest_url, engine_thread=True, clock=clock)
        with pytest.raises(UnknownSymbolError, match="unknown symbols on usdm: NOPEUSDT"):
            await m.start()
        assert len(clients) == 1 and clients[0]._session is None  # the REST session was closed
        assert not any(t.name == "tapeflow-engine" for t in threading.enumerate())  # the engine thread was joined
        with pytest.raises(TapeflowError, match="not started"):
            m.status()
        await m.close()  # and closing it is harmless
