"""Memory of a full market's flow state, and the cost of checkpointing it.

An ``Engine("usdm")`` with its default windows (horizons 1m, 5m, 15m, 1h, 4h; aligned 1m, 5m, 15m, 1h with 60 kept)
is fed ``--symbols`` symbols that each trade every second for ``--seconds`` seconds (default 2,000 symbols for
4 h 5 min: every horizon and the kept intervals are full). Prints the process's resident memory growth, what
``Engine.memory()`` counts, and the size of a checkpoint with the time to write it and to restore it into a fresh
engine.

    .venv/bin/python benches/flow_memory.py                     # the full figure (about 29 million trades)
    .venv/bin/python benches/flow_memory.py --symbols 200       # a quicker run
"""

from __future__ import annotations

import argparse
import gc
import time

from tapeflow import Engine

T0 = 1_767_225_600_000


def rss_bytes() -> int:
    """Resident set size of this process (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def feed(engine: Engine, symbols: list[str], seconds: int) -> None:
    """One trade per symbol per second, 250 ms into the second, alternating taker sides; one batch per second."""
    template = [
        (b'{"e":"aggTrade","E":%d,"a":%d,"s":"' + s.encode() + b'","p":"70000.1","q":"0.012","f":%d,"l":%d,"T":%d,"m":')
        for s in symbols
    ]
    for sec in range(seconds):
        t = T0 + sec * 1000 + 250
        side = b"true}" if sec % 2 else b"false}"
        frames = [p % (t + 1, sec + 1, sec + 1, sec + 1, t) + side for p in template]
        engine.apply_frames(frames, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=4 * 3600 + 5 * 60)
    args = parser.parse_args()
    symbols = [f"S{i:04d}USDT" for i in range(args.symbols)]
    engine = Engine("usdm")
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    feed(engine, symbols, args.seconds)
    fed_s = time.perf_counter() - started
    gc.collect()
    grown = rss_bytes() - before
    m = engine.memory()
    trades = args.symbols * args.seconds
    print(f"{args.symbols} symbols x {args.seconds} s = {trades:,} trades fed in {fed_s:.1f} s")
    print(f"RSS growth:        {grown / 1e6:9.1f} MB  ({grown / args.symbols / 1e3:.1f} KB a symbol)")
    print(
        f"Engine.memory():   {m['total'] / 1e6:9.1f} MB  "
        f"(flow {m['flow'] / 1e6:.1f}, liq {m['liq']}, books {m['books']})"
    )
    print(f"flow_memory(one):  {engine.flow_memory(symbols[0]) / 1e3:9.1f} KB")
    t = time.perf_counter()
    data = engine.checkpoint()
    write_s = time.perf_counter() - t
    restore_s = restore_timed(engine, data, symbols)
    print(f"checkpoint:        {len(data) / 1e6:9.1f} MB  written in {write_s:.2f} s, restored in {restore_s:.2f} s")


def restore_timed(engine: Engine, data: bytes, symbols: list[str]) -> float:
    """Seconds to restore ``data`` (``engine``'s checkpoint) into a fresh engine, checked against ``engine``."""
    fresh = Engine("usdm")
    t = time.perf_counter()
    restored = fresh.restore(data)
    restore_s = time.perf_counter() - t
    assert len(restored) == len(symbols)
    assert fresh.volume(symbols[-1], "4h").buy_count == engine.volume(symbols[-1], "4h").buy_count
    return restore_s


if __name__ == "__main__":
    main()
