"""Throughput of the simulator's send path: pre-encoded frames to a WebSocket client in another process.

Run: ``.venv/bin/python benches/python/test_sim_bench.py [frames]`` (or through pytest-benchmark with
``make bench-python``). The receiver is a separate process that reads raw bytes from the socket and counts them, so
the figure is the sender's. The baseline, measured in the same run, is a plain ``websockets`` handler sending the same
frames one ``await ws.send(frame)`` at a time.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tapeflow.sim import SimConfig, SimExchange

DATA = (
    b'{"e":"aggTrade","E":1767225600123,"s":"BTCUSDT","a":123456789,"p":"94123.45","q":"0.012","nq":"0.012",'
    b'"f":234567890,"l":234567892,"T":1767225600120,"m":false}'
)
FRAME = b'{"stream":"btcusdt@aggTrade","data":' + DATA + b"}"
WIRE = len(FRAME) + 4  # unmasked server frame, 16-bit length header (RFC 6455 §5.2)

RECEIVER = r"""
import socket, sys, time
host, port, path, total = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.create_connection((host, port))
s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(65536)
got = len(buf.split(b"\r\n\r\n", 1)[1])
print("ready", flush=True)
while got < total:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    got += len(chunk)
print("done", got, flush=True)
"""


async def _receiver(host: str, port: int, path: str, frames: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RECEIVER, host, str(port), path, str(frames * WIRE), stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert (await proc.stdout.readline()).startswith(b"ready")
    return proc


async def _finish(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    assert line.startswith(b"done"), line
    await proc.wait()


async def sim_rate(frames: int) -> tuple[float, float]:
    """Frames per second (wall, and per second of this process's CPU) through ``SimExchange``."""
    async with SimExchange(SimConfig(symbols=1, speed=0.0, rate=0.0, send_queue=frames + 1)) as ex:
        host, port = ex.ws_url.removeprefix("ws://").split(":")
        proc = await _receiver(host, int(port), "/stream?streams=btcusdt@aggTrade", frames)
        while not ex.clients:  # noqa: ASYNC110 (the receiver's upgrade is being handled)
            await asyncio.sleep(0.001)
        t0, c0 = time.perf_counter(), time.process_time()
        batch = [("btcusdt@aggTrade", DATA)] * 1000
        for _ in range(frames // 1000):
            ex._publish(batch)  # the model's fan-out entry point: payloads in, combined frames queued
            await asyncio.sleep(0)
        await _finish(proc)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return frames / wall, frames / cpu


async def baseline_rate(frames: int) -> float:
    """Frames per second of a plain websockets handler calling ``await ws.send(frame)`` per frame."""

    async def handler(ws: ServerConnection) -> None:
        for _ in range(frames):
            await ws.send(FRAME, text=True)
        await asyncio.sleep(10)

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        t0 = time.perf_counter()
        proc = await _receiver("127.0.0.1", port, "/", frames)
        await _finish(proc)
        return frames / (time.perf_counter() - t0)


async def measure(frames: int = 300_000) -> dict[str, Any]:
    base = await baseline_rate(frames)
    wall, cpu = await sim_rate(frames)
    return {"frames": frames, "sim_fps": wall, "sim_fps_per_cpu_s": cpu, "baseline_fps": base, "ratio": wall / base}


@pytest.mark.benchmark(group="sim")
def test_sim_send_throughput(benchmark: Any) -> None:
    result = benchmark.pedantic(lambda: asyncio.run(measure(200_000)), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    assert result["sim_fps"] >= 50_000, result


if __name__ == "__main__":
    r = asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000))
    print(
        f"{r['frames']} frames: simulator {r['sim_fps']:,.0f} frames/s wall ({r['sim_fps_per_cpu_s']:,.0f} per CPU s); "
        f"plain websockets send() {r['baseline_fps']:,.0f} frames/s; ratio {r['ratio']:.2f}x"
    )
