"""Load on ``tapeflow serve`` from a separate process: requests/s, p50/p99 latency, and the feed's lag and the event
loop's stall while it runs, against the same server without load.

Three processes on loopback, as in use: the local exchange (the simulator, its clock set to the real time, so that
the feed's lag is real), ``tapeflow serve`` connected to it like to Binance, with many symbols so that ``/flow``
ranks them all, and this load generator. The load is open-loop: ``--clients`` keep-alive connections each send
a request every ``clients / rate`` seconds, and a latency is measured from the moment the request was due, so a slow
server cannot hide its queueing (no coordinated omission). Everything runs on loopback, bounded in time.

    .venv/bin/python benches/serve_load.py --symbols 2000 --rate 1000 --clients 200 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from _children import serve_exchange, spawn, spawn_exchange, stop


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lags: list[float] = field(default_factory=list)
    stalls: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    exchange_cpu_s: float = 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    import os

    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


async def sample_feed(session: aiohttp.ClientSession, url: str, run: Run, stop: asyncio.Event) -> None:
    """Every 0.5 s: the largest lag over the connections, and the loop's recent stall, from /metrics."""
    while not stop.is_set():
        async with session.get(f"{url}/metrics") as r:
            text = await r.text()
        lags = []
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                if s.name == "tapeflow_lag_seconds":
                    lags.append(s.value)
                elif s.name == "tapeflow_event_loop_stall_seconds":
                    run.stalls.append(s.value)
        if lags:
            run.lags.append(max(lags))
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass


async def load(url: str, path: str, rate: float, clients: int, duration: float, run: Run) -> None:
    connector = aiohttp.TCPConnector(limit=clients + 2)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_feed(session, url, run, stop))
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.2
        period = clients / rate if rate > 0 else 1.0

        async def client(i: int) -> None:
            due = t0 + period * i / clients
            while due < t0 + duration:
                await asyncio.sleep(max(0.0, due - loop.time()))
                try:
                    async with session.get(url + path) as r:
                        await r.read()
                        if r.status != 200:
                            run.errors += 1
                except aiohttp.ClientError:
                    run.errors += 1
                run.latencies.append(loop.time() - due)
                due += period

        if rate > 0:
            await asyncio.gather(*(client(i) for i in range(clients)))
        else:
            await asyncio.sleep(duration)
        run.seconds = loop.time() - t0
        stop.set()
        await sampler


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print(f"\n{args.symbols} symbols, {args.clients} clients, target {args.rate:g} req/s, {args.duration:g} s each\n")
    print(
        "| run | requests/s | p50 ms | p99 ms | max ms | errors | feed lag p50 / max ms | loop stall max ms "
        "| server CPU % | server CPU ms/request | load generator CPU % | exchange CPU % |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        rps = len(r.latencies) / r.seconds if r.latencies else 0.0
        lat = [x * 1000 for x in r.latencies]
        lag_p50 = statistics.median(r.lags) * 1000 if r.lags else float("nan")
        lag_max = max(r.lags) * 1000 if r.lags else float("nan")
        stall = max(r.stalls) * 1000 if r.stalls else float("nan")
        cells = (
            f"{rps:,.0f}" if lat else "-",
            f"{pct(lat, 50):.1f}" if lat else "-",
            f"{pct(lat, 99):.1f}" if lat else "-",
            f"{max(lat):.1f}" if lat else "-",
            str(r.errors) if lat else "-",
        )
        cpu = f"{100 * r.cpu_s / r.seconds:.0f}"
        per = f"{1000 * r.cpu_s / len(lat):.2f}" if lat else "-"
        gen = f"{100 * r.client_cpu_s / r.seconds:.0f} | {100 * r.exchange_cpu_s / r.seconds:.0f}"
        row = (
            f"| {r.name} | {' | '.join(cells)} | {lag_p50:.0f} / {lag_max:.0f} | {stall:.0f} | {cpu} | {per} | {gen} |"
        )
        print(row)


async def exchange(args: argparse.Namespace) -> None:
    """The local exchange on real time, until terminated; prints its URLs."""
    from tapeflow.sim import SimConfig

    cfg = SimConfig(
        market="usdm",
        symbols=args.symbols,
        seed=7,
        speed=1.0,
        rate=args.sim_rate,
        liq_rate=0.02,
        start_ms=int(time.time() * 1000),
        weight_limit=1_000_000,
    )
    await serve_exchange(cfg)


def start_exchange(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str, str]:
    return spawn_exchange(
        [sys.executable, __file__, "--exchange", "--symbols", str(args.symbols), "--sim-rate", str(args.sim_rate)]
    )


def start_server(args: argparse.Namespace, ws: str, rest: str) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "tapeflow.cli", "serve", "--port", "0", "--big-trade", "1e9", "--no-backfill"]
    # No store: this measures the HTTP side (the store's own cost is benches/store_write.py), and a default store
    # for a local exchange would be a new file in the user's data directory at each run (its port changes).
    cmd += ["--ws-url", ws, "--rest-url", rest, "--flow", "1m,15m,1h", "--no-store"]
    proc = spawn(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    url = ""
    deadline = time.monotonic() + args.startup
    while line := proc.stderr.readline():
        sys.stderr.write(line)
        found = re.search(r"serving (http://\S+)/ ", line)
        if found:
            url = found.group(1)
        if "ready:" in line or (url and time.monotonic() > deadline):
            break
    if not url:
        raise SystemExit(f"the server did not start: exit {proc.poll()}")
    return proc, url


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--symbols", type=int, default=2000, help="simulated symbols ranked by /flow")
    p.add_argument("--sim-rate", type=float, default=1.0, help="book events per second per symbol")
    p.add_argument("--rate", type=float, default=1000.0, help="requests per second (total)")
    p.add_argument("--clients", type=int, default=200, help="concurrent keep-alive connections")
    p.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    p.add_argument("--startup", type=float, default=20.0, help="seconds to let the feed run before measuring")
    p.add_argument("--paths", default="/flow?limit=20,/liquidations/total?symbol=ALL")
    p.add_argument("--exchange", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.exchange:
        asyncio.run(exchange(args))
        return
    ex, ws, rest = start_exchange(args)
    proc, url = start_server(args, ws, rest)
    runs = []
    try:
        for path in [None, *args.paths.split(",")]:
            run = Run(path or "no load")
            cpu0, own0, ex0 = cpu_seconds(proc.pid), time.process_time(), cpu_seconds(ex.pid)
            asyncio.run(load(url, path or "", args.rate if path else 0.0, args.clients, args.duration, run))
            run.cpu_s, run.client_cpu_s = cpu_seconds(proc.pid) - cpu0, time.process_time() - own0
            run.exchange_cpu_s = cpu_seconds(ex.pid) - ex0
            runs.append(run)
    finally:
        stop(proc, grace_s=60)
        stop(ex, grace_s=60)
    report(runs, args)


if __name__ == "__main__":
    main()
