"""A full market from a cold start: time to ready against the weight-limit floor, the process's memory, and its CPU
per frame — tapeflow's Monitors in this process, the local exchanges (spot and USD-M, with Binance's weight limits)
in two others, on loopback.

* **Start-up.** Each exchange trades ``--history`` virtual seconds before the Monitors start (so the start-up fills
  have trades to fetch), then runs at ``--speed`` virtual seconds per real second. The Monitors watch every symbol
  with flow windows 1m/5m/15m/1h/4h, books for the first ``--books`` symbols of each market and liquidations
  (USD-M). Time to ready is measured on each Monitor's clock (the exchange's time), and compared with the floor the
  weight limit sets: the weight of the requests the Monitor made, beyond what the first minute's budget covers,
  spent at the budget's rate — ``max(0, W - B) / B`` minutes, where ``B`` is the weight the Monitor allows itself per
  minute (``weight_safety`` x the exchange's limit: 0.8 x 2,400 on USD-M, 0.8 x 6,000 on spot). (Binance counts
  weight per calendar minute, so the first minute's budget is there at once.)
* **Steady state.** Then, for ``--steady`` real seconds: frames per second received, the process's CPU time per
  frame (reported as cores at 20,000 frames/s), its resident memory and the engines' own accounts of it.

    .venv/bin/python benches/full_market.py --symbols 1000 --books 100 --speed 10 --history 600 --steady 30

The start-up is best measured with a quiet market and a fast clock (as above); the CPU per frame with a busy one in
real time, e.g. ``--symbols 300 --books 100 --rate 40 --speed 1 --history 10 --steady 20`` (about 20,000 frames/s
from the two exchanges), where per-batch costs are spread as they are on Binance's all-market feed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from _children import spawn_exchange, stop
from tapeflow import Monitor
from tapeflow.markets import market_spec

FLOW = ("1m", "5m", "15m", "1h", "4h")

_EXCHANGE = """
import asyncio, sys
from tapeflow.sim import SimConfig, SimExchange

async def main(market, symbols, rate, liq_rate, history_s, speed, weight_limit):
    cfg = SimConfig(market=market, symbols=symbols, seed=5, speed=0.0, rate=rate, liq_rate=liq_rate,
                    weight_limit=weight_limit or None)
    async with SimExchange(cfg) as ex:
        for _ in range(int(history_s)):
            await ex.advance(1000)
        ex.run_at(speed)
        print(ex.ws_url, ex.rest_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

market, symbols, rate, liq_rate, history_s, speed, weight_limit = sys.argv[1:]
asyncio.run(main(market, int(symbols), float(rate), float(liq_rate), float(history_s), float(speed),
                 int(weight_limit)))
"""


@dataclass
class StartUp:
    market: str
    symbols: int
    books: int
    ready_s: float
    floor_s: float
    weight_spent: int
    budget_per_min: float
    throttled: int


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_exchange(market: str, args: argparse.Namespace) -> tuple[subprocess.Popen[str], str, str]:
    rate = args.rate
    return spawn_exchange(
        [
            sys.executable,
            "-c",
            _EXCHANGE,
            market,
            str(args.symbols),
            str(rate),
            "0.05",
            str(args.history),
            str(args.speed),
            str(round(market_spec(market).weight_limit * args.weight_scale)),
        ],
        stdin=subprocess.PIPE,
    )


async def start_up(m: Monitor, limit_s: float) -> StartUp:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    said = loop.time()
    while not (p := m.progress()).ready:
        if loop.time() > deadline:
            raise SystemExit(f"{m.market}: not ready after {limit_s:g} real seconds: {p.line()}")
        if loop.time() - said >= 10:
            said = loop.time()
            lag = max((c.lag_ms or 0 for c in m.status().connections), default=0)
            print(f"{m.market}: {p.line()}; feed lag {lag / 1000:.1f} s", file=sys.stderr, flush=True)
        await asyncio.sleep(0.25)
    rest = m.status().rest
    budget = rest.weight_limit * m.config.weight_safety
    return StartUp(
        market=m.market,
        symbols=p.symbols,
        books=p.books,
        ready_s=round(p.elapsed_s, 1),
        floor_s=round(max(0.0, rest.weight_spent - budget) / budget * 60, 1),
        weight_spent=rest.weight_spent,
        budget_per_min=budget,
        throttled=rest.throttled,
    )


async def main(args: argparse.Namespace) -> dict[str, object]:
    procs = []
    monitors = []
    try:
        for market in args.markets.split(","):
            proc, ws, rest = start_exchange(market, args)
            procs.append(proc)
            names = [f"S{i:04d}{'USDT'}" for i in range(args.books)]
            monitors.append(
                Monitor(
                    market,
                    "ALL",
                    quote=None,
                    books=names,
                    flow=FLOW,
                    ws_url=ws,
                    rest_url=rest,
                    big_trade=1e6,
                    transport=args.transport,
                )
            )
        rss0 = rss_mb()
        for m in monitors:
            await m.start()
        ups = await asyncio.gather(*(start_up(m, args.limit) for m in monitors))
        frames0 = sum(c.frames for m in monitors for c in m.status().connections)
        cpu0, t0 = time.process_time(), time.monotonic()
        await asyncio.sleep(args.steady)
        cpu1, t1 = time.process_time(), time.monotonic()
        frames1 = sum(c.frames for m in monitors for c in m.status().connections)
        frames = frames1 - frames0
        per_frame = (cpu1 - cpu0) / max(frames, 1)
        memory = {m.market: asdict(m.memory()) for m in monitors}
        result: dict[str, object] = {
            "start_up": [asdict(u) for u in ups],
            "ready_over_floor": [round(u.ready_s / u.floor_s, 2) if u.floor_s else None for u in ups],
            "ready_minus_floor_s": [round(u.ready_s - u.floor_s, 1) for u in ups],
            "frames_per_s": round(frames / (t1 - t0)),
            "cpu_cores_measured": round((cpu1 - cpu0) / (t1 - t0), 3),
            "cpu_cores_at_20k_frames_per_s": round(per_frame * 20_000, 3),
            "rss_mb": round(rss_mb(), 1),
            "rss_mb_before_start": round(rss0, 1),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "engine_memory": memory,
        }
        return result
    finally:
        for m in monitors:
            await m.close()
        for proc in procs:
            if proc.stdin is not None:
                proc.stdin.close()  # the exchange's way out: it reads its stdin to the end
            try:
                proc.wait(timeout=30)
            finally:
                stop(proc)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=1000, help="symbols per market (1000: 2,000 in all)")
    parser.add_argument("--books", type=int, default=100, help="books kept per market (100: 200 in all)")
    parser.add_argument("--rate", type=float, default=0.5, help="book events per second per symbol (virtual)")
    parser.add_argument("--history", type=float, default=600, help="virtual seconds traded before the start")
    parser.add_argument("--speed", type=float, default=10.0, help="virtual seconds per real second")
    parser.add_argument("--steady", type=float, default=30.0, help="real seconds of steady state measured")
    parser.add_argument("--limit", type=float, default=900.0, help="real seconds to wait for ready at most")
    parser.add_argument("--markets", default="spot,usdm", help="markets, comma-separated (spot, usdm, coinm)")
    parser.add_argument("--transport", default="websockets", help="websockets (the default), picows or native")
    parser.add_argument(
        "--weight-scale",
        type=float,
        default=1.0,
        help="the exchanges' weight limits x this (1: Binance's; below 1 a smaller market has the same floor)",
    )
    parser.add_argument("--json", help="also write the result here")
    ns = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    out = asyncio.run(main(ns))
    text = json.dumps(out, indent=2)
    print(text)
    if ns.json:
        with open(ns.json, "w") as f:
            f.write(text + "\n")
