"""A Monitor with a store in a process of its own, driven by the kill test (tests/store/test_kill.py).

Run as ``python -m tests.store.child WS_URL REST_URL STORE SYMBOL,SYMBOL...`` from the repository root. It prints
JSON lines: ``{"started": ...}`` once the Monitor runs; then for each ``check`` line read on stdin, the 15m sliding
and aligned windows of every symbol now (exact) with the last aggTrade id counted, once the Monitor is settled,
with the store flushed; ``stop`` closes it cleanly (``{"stopped": ...}``).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import orjson

from tapeflow import Monitor
from tests.store.support import query

WINDOWS = ("15m",)


def say(obj: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(obj).decode() + "\n")
    sys.stdout.flush()


def idle(m: Monitor) -> bool:
    st = m.status()
    b = st.backfill
    return b is not None and not (b.queued or b.in_flight or st.gaps_open or st.incomplete)


async def settled(m: Monitor) -> None:
    while True:
        await m.settle()
        if idle(m):
            await asyncio.sleep(0.2)
            await m.settle()
            if idle(m):
                return
        await asyncio.sleep(0.05)


async def liquidations_until(m: Monitor, store: Path) -> tuple[int, int]:
    """``(counted, stored)``: the liquidations the engine counted and the store holds, with trade times up to a
    moment a little in the past, read once no event of that span came in while the store was flushed (so every
    event counted is in the store by then, and the two figures are of the same events)."""
    for _ in range(50):
        cut = m.clock.now_ms() - 10_000
        before = m.engine.liq_total(None, lookback_ms=30 * 86_400_000, now_ms=cut).count
        assert await m.flush_store()
        stored = query(store, "SELECT count(*) FROM liquidations WHERE trade_time <= ?", cut)[0][0]
        after = m.engine.liq_total(None, lookback_ms=30 * 86_400_000, now_ms=cut).count
        if before == after:
            return after, stored
    raise AssertionError("liquidations of the past kept arriving")


async def check(m: Monitor, store: Path) -> dict[str, Any]:
    """The windows at this moment, with the last aggTrade id counted per symbol (read in the same step, so the
    windows hold exactly the trades up to those ids), once they are all complete."""
    await m.ready(timeout=60)
    for _ in range(50):
        await settled(m)
        at = m.clock.now_ms()
        last = {s: m.engine.last_trade_id(s) for s in m.symbols}
        windows = {}
        for s in m.symbols:
            for w in WINDOWS:
                for aligned in (False, True):
                    v = m.volume(s, w, aligned=aligned, now_ms=at)
                    e = v.exact()
                    windows[f"{s}/{w}/{'aligned' if aligned else 'sliding'}"] = {
                        "buy_base": str(e["buy_base"]),
                        "sell_base": str(e["sell_base"]),
                        "buy_quote": str(e["buy_quote"]),
                        "sell_quote": str(e["sell_quote"]),
                        "buy_count": v.buy_count,
                        "sell_count": v.sell_count,
                        "complete": v.complete,
                    }
        if all(w["complete"] for w in windows.values()):
            break
        await asyncio.sleep(0.1)  # a gap opened meanwhile (a dropped frame): once it is filled
    counted, stored = await liquidations_until(m, store)
    st = m.status().store
    assert st is not None
    return {
        "at": at,
        "last_ids": last,
        "windows": windows,
        "liq_count": counted,
        "liq_stored": stored,
        "restore": st.restore,
        "lost": dict(st.lost),
    }


async def main(ws_url: str, rest_url: str, store: str, symbols: list[str]) -> None:
    m = Monitor(
        "usdm",
        symbols,
        books=False,
        flow=("1m", "15m", "1h"),
        big_trade=20_000.0,
        ws_url=ws_url,
        rest_url=rest_url,
        store=store,
        checkpoint_s=5.0,
    )
    await m.start()
    say({"started": m.clock.now_ms()})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if line == "check":
            say(await check(m, Path(store)))
        elif line in ("stop", ""):
            await m.close()
            say({"stopped": m.clock.now_ms()})
            return


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")))
