"""What the store costs at an all-market rate: the writer thread's CPU and the feed's event-loop stall, with and
without a store, in the same run.

    .venv/bin/python benches/store_write.py [--symbols 2000] [--rate 10] [--duration 60] [--checkpoint-s 20]

The local exchange runs in a process of its own at real-time speed (USD-M, every symbol's diff depth at 100 ms and
aggTrades, liquidations, mark prices: about 10 frames/s per symbol at ``--rate 10``, so 2,000 symbols make about
20,000 frames/s; its REST weight limit is lifted so start-up is quick); it ends with this one, however this one ends
(``benches/_children.py``). This process runs a Monitor (books for every symbol, flow windows 1m/15m/1h, big trades,
liquidations) twice, one after the other: without a store, then with one. Each run waits until the Monitor is ready,
then measures for ``--duration`` seconds: frames/s received, the process's CPU, the writer thread's CPU, the event
loop's stall (a 5 ms timer: how late it fires), rows written, and the checkpoints (how long the engine took to write
one, on the event loop, and its size).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _children import serve_exchange, spawn_exchange, stop
from tapeflow import Monitor


async def exchange(args: argparse.Namespace) -> None:
    """The local exchange at real-time speed, until terminated; prints its URLs."""
    from tapeflow.sim import SimConfig

    cfg = SimConfig(
        market="usdm", symbols=args.symbols, seed=3, speed=1.0, rate=args.rate, liq_rate=0.003, weight_limit=10**9
    )
    await serve_exchange(cfg)


def start_exchange(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str, str]:
    return spawn_exchange(
        [sys.executable, __file__, "--exchange", "--symbols", str(args.symbols), "--rate", str(args.rate)]
    )


async def stalls(out: list[float], stop: asyncio.Event) -> None:
    """How late a 5 ms timer fires, each time (ms)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(0.005)
        out.append((loop.time() - t - 0.005) * 1000)


async def measure(ws: str, rest: str, store: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    m = Monitor(
        "usdm",
        "ALL",
        flow=("1m", "15m", "1h"),
        big_trade=50_000.0,
        ws_url=ws,
        rest_url=rest,
        store=store,
        checkpoint_s=args.checkpoint_s,
    )
    async with m:
        await m.ready(timeout=600)
        frames0 = sum(c.frames for c in m.status().connections)
        st0 = m.status().store
        cpu0, wall0 = time.process_time(), time.perf_counter()
        late: list[float] = []
        stop = asyncio.Event()
        timer = asyncio.create_task(stalls(late, stop))
        checkpoints: list[tuple[float, int]] = []
        keeper = m.runtime.persistence.keeper
        seen = 0.0
        while time.perf_counter() - wall0 < args.duration:
            await asyncio.sleep(0.25)
            if keeper is not None and keeper.checkpoint_seconds != seen:
                seen = keeper.checkpoint_seconds
                checkpoints.append((seen, keeper.checkpoint_bytes))
        stop.set()
        await timer
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        st = m.status()
        frames = sum(c.frames for c in st.connections) - frames0
        row: dict[str, Any] = {
            "store": "yes" if store is not None else "no",
            "symbols": len(m.symbols),
            "frames_per_s": round(frames / wall),
            "process_cpu": f"{cpu / wall:.0%}",
            "stall_p99_ms": round(sorted(late)[int(len(late) * 0.99)], 1),
            "stall_max_ms": round(max(late), 1),
            "stall_median_ms": round(statistics.median(late), 2),
        }
        if st.store is not None and st0 is not None:
            row["writer_cpu"] = f"{(st.store.writer_cpu_s - st0.writer_cpu_s) / wall:.1%}"
            row["rows_per_s"] = round((sum(st.store.written.values()) - sum(st0.written.values())) / wall, 1)
            row["commits_per_s"] = round((st.store.commits - st0.commits) / wall, 1)
            row["lost"] = dict(st.store.lost)
            row["checkpoints"] = [f"{s * 1000:.0f} ms / {b / 1e6:.1f} MB" for s, b in checkpoints]
    if store is not None:
        row["file_mb"] = round(os.path.getsize(store) / 1e6, 1)  # noqa: ASYNC240 (after the run)
    print(row, flush=True)
    return row


async def main(args: argparse.Namespace) -> None:
    proc, ws, rest = start_exchange(args)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            await measure(ws, rest, None, args)
            await measure(ws, rest, Path(tmp) / "usdm.db", args)
    finally:
        stop(proc)
    print(f"machine: {os.cpu_count()} cores")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--symbols", type=int, default=2000)
    p.add_argument("--rate", type=float, default=10.0, help="book events per second per symbol")
    p.add_argument("--duration", type=float, default=60.0, help="seconds measured per run")
    p.add_argument("--checkpoint-s", type=float, default=20.0)
    p.add_argument("--exchange", action="store_true", help=argparse.SUPPRESS)
    ns = p.parse_args()
    asyncio.run(exchange(ns) if ns.exchange else main(ns))
