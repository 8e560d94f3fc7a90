"""A restart of a full USD-M market after 10 minutes down: REST weight and time until every flow window is complete,
warm (from the store) against cold (nothing kept), in the same run, on the simulator with Binance's weight limits.

    .venv/bin/python benches/store_restart.py [--symbols 500] [--rate 4] [--down-min 10] [--flow 1m,15m,1h]

The local exchange runs on a manual clock driven by this script (one virtual second at a time, the Monitor
catching up in between), with Binance's USD-M REST weights (an aggTrades page 20, 2,400 a minute; the Monitor uses
80 % of it). The market trades for the longest window before anything starts, then:

1. **cold**: a Monitor with a new store starts, and runs until every window of every symbol is complete, then a
   minute more, and stops cleanly;
2. the process is down for ``--down-min`` minutes while the market goes on;
3. **warm**: a Monitor opens the same store: it restores the checkpoint and fills each symbol from its last counted
   aggTrade id; measured until every window is complete again, then it stops;
4. **cold again**: a Monitor without a store starts at that moment (the same market, the cold cost now).

Books are off (they are rebuilt from fresh snapshots either way); liquidations are on. For each start it prints the
REST weight spent, the virtual time until ready, and the aggTrades requests by kind (``startTime`` / ``fromId``).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from tapeflow import FunctionClock, Monitor
from tapeflow.sim import SimConfig, SimExchange


async def until_ready(ex: SimExchange, m: Monitor, limit_ms: int) -> int:
    """Drives the clock a second at a time until ``m`` is ready; returns the virtual ms it took."""
    await m.wait_connected()
    t0 = ex.now_ms()
    while not m.progress().ready:
        if ex.now_ms() - t0 > limit_ms:
            raise TimeoutError(f"not ready after {limit_ms / 60_000:.0f} virtual minutes: {m.progress().line()}")
        await ex.advance(1000)
        await asyncio.sleep(0.002)
        await m.settle()
    return ex.now_ms() - t0


async def run_for(ex: SimExchange, m: Monitor, ms: int) -> None:
    for _ in range(ms // 1000):
        await ex.advance(1000)
        await asyncio.sleep(0.002)
        await m.settle()


def requests(ex: SimExchange, since: int) -> dict[str, int]:
    agg = [t for _, t in ex.rest.requests[since:] if "/aggTrades" in t]
    return {
        "startTime": sum("startTime=" in t for t in agg),
        "fromId": sum("fromId=" in t for t in agg),
        "all": len(ex.rest.requests) - since,
    }


async def start(
    ex: SimExchange, name: str, flow: tuple[str, ...], store: Path | None
) -> tuple[Monitor, dict[str, Any]]:
    mark = len(ex.rest.requests)
    wall = time.perf_counter()
    m = Monitor(
        "usdm",
        "ALL",
        books=False,
        flow=flow,
        ws_url=ex.ws_url,
        rest_url=ex.rest_url,
        clock=FunctionClock(ex.now_ms, poll=0.003),
        store=store,
    )
    await m.start()
    took = await until_ready(ex, m, 120 * 60_000)
    p = m.progress()
    st = m.status().store
    row = {
        "start": name,
        "symbols": p.symbols,
        "weight": p.weight_spent,
        "virtual_s": took / 1000,
        "real_s": round(time.perf_counter() - wall, 1),
        "restore": st.restore if st is not None else "no store",
        **requests(ex, mark),
    }
    print(row, flush=True)
    return m, row


async def main(args: argparse.Namespace) -> None:
    flow = tuple(args.flow.split(","))
    longest = max(int(w[:-1]) * {"m": 60_000, "h": 3_600_000}[w[-1]] for w in flow)
    cfg = SimConfig(market="usdm", symbols=args.symbols, seed=args.seed, speed=0.0, rate=args.rate, liq_rate=0.002)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "usdm.db"
        async with SimExchange(cfg) as ex:
            t = time.perf_counter()
            for _ in range((longest + 60_000) // 60_000):
                await ex.advance(60_000)
            print(f"market history: {(longest + 60_000) / 60_000:.0f} virtual min in {time.perf_counter() - t:.0f} s")
            m, cold = await start(ex, "cold", flow, store)
            await run_for(ex, m, 60_000)
            await m.close()
            await ex.advance(args.down_min * 60_000)
            m, warm = await start(ex, "warm", flow, store)
            await m.close()
            m, again = await start(ex, "cold again", flow, None)
            await m.close()
            print(f"store: {store.stat().st_size / 1e6:.1f} MB")
    w, t = warm["weight"], warm["virtual_s"]
    print(
        f"warm/cold weight: {w / cold['weight']:.1%} (cold again: {w / again['weight']:.1%}); "
        f"time: {t / cold['virtual_s']:.1%} ({t / again['virtual_s']:.1%})"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--symbols", type=int, default=500)
    p.add_argument("--rate", type=float, default=4.0, help="book events per second per symbol")
    p.add_argument("--down-min", type=int, default=10)
    p.add_argument("--flow", default="1m,15m,1h")
    p.add_argument("--seed", type=int, default=9)
    asyncio.run(main(p.parse_args()))
