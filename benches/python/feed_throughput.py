"""End-to-end feed throughput: frames/s from a fast loopback sender into the engine, against bare clients.

    python benches/python/feed_throughput.py [--frames 500000] [--paced 10000]

A sender process serves pre-encoded WebSocket frames (real USD-M frames from tests/data, cycled) by writing one
prepared buffer over and over, so it is never the bottleneck. Each receiver runs in a process of its own, one after
the other, in the same run:

* ``bare websockets``: the library's own client, ``await ws.recv(decode=False)`` (bytes), counting only;
* ``tapeflow websockets``: a tapeflow feed connection (batched receive) feeding the engine on its worker thread;
* ``tapeflow websockets inline``: the same with the engine called on the event loop;
* ``bare picows`` and ``tapeflow picows`` when picows is installed;
* ``bare native``: an ``asyncio.Protocol`` that only feeds each socket read to tapeflow's Rust ``WsReader`` and counts
  the messages (the native transport's framing code, nothing else);
* ``tapeflow native`` / ``tapeflow native inline``: a feed connection on the ``native`` transport.

Then the CPU cost at a realistic rate: the sender paces ``--paced`` frames/s for a few seconds and the receiver's
process CPU time (all threads) is reported per 10,000 frames/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import multiprocessing as mp
import os
import statistics
import struct
import sys
import time

SESSION = "usdm_sushiusdt_2021-07-22"


def _frames() -> list[bytes]:
    from tapeflow.recordings import bundled, read_recording

    path = next(p for p in bundled() if p.name.startswith(SESSION))
    out = []
    for rec in read_recording(path):
        if rec.kind == "ws":
            out.append(rec.raw)
    return out


def _ws_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


# ---------------------------------------------------------------------------------------------------- sender
def _serve(port_q: mp.Queue, total: int, paced: int) -> None:  # type: ignore[type-arg]
    frames = _frames()
    chunk_frames = [frames[i % len(frames)] for i in range(1000)]
    chunk = b"".join(_ws_frame(f) for f in chunk_frames)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # a client that went away before its handshake
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key")
        )
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        sent = 0
        t0 = time.perf_counter()
        try:
            while sent < total:
                writer.write(chunk)
                sent += len(chunk_frames)
                await writer.drain()
                if paced:
                    ahead = sent / paced - (time.perf_counter() - t0)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
            writer.write(b"\x88\x02\x03\xe8")  # close 1000
            await writer.drain()
            await asyncio.sleep(0.5)
        except ConnectionError:
            pass  # the receiver had what it needed and left
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_q.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ---------------------------------------------------------------------------------------------------- receivers
STALLS: list[float] = []
Timed = tuple[int, float, float]  # frames, wall seconds, CPU seconds (all threads), from connect to the last frame


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(n: int, t: tuple[float, float]) -> Timed:
    return n, time.perf_counter() - t[0], time.process_time() - t[1]


async def _bare_websockets(url: str, total: int) -> Timed:
    from websockets.asyncio.client import connect

    n = 0
    t = _clock()
    async with connect(url, max_size=None, max_queue=None, ping_interval=None, compression=None) as ws:
        while n < total:
            await ws.recv(decode=False)  # bytes, as tapeflow takes them (no UTF-8 decoding to str)
            n += 1
        return _since(n, t)


async def _bare_picows(url: str, total: int) -> Timed:
    from picows import WSListener, WSMsgType, ws_connect

    done = asyncio.get_running_loop().create_future()

    class L(WSListener):  # type: ignore[misc]
        n = 0

        def on_ws_frame(self, transport, frame):  # type: ignore[no-untyped-def]
            if frame.msg_type is WSMsgType.TEXT:
                self.n += 1
                frame.get_payload_as_bytes()
                if self.n >= total and not done.done():
                    done.set_result(self.n)

        def on_ws_disconnected(self, transport):  # type: ignore[no-untyped-def]
            if not done.done():
                done.set_result(self.n)

    t = _clock()
    transport, _ = await ws_connect(L, url)
    n: int = await done
    timed = _since(n, t)
    transport.disconnect()
    return timed


async def _bare_native(url: str, total: int) -> Timed:
    from tapeflow._core import WsReader

    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()
    host, _, rest = url.removeprefix("ws://").partition("/")
    hostname, _, port = host.partition(":")

    class P(asyncio.Protocol):
        def __init__(self) -> None:
            self.reader = WsReader()
            self.head: bytes | None = b""
            self.n = 0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            key = base64.b64encode(os.urandom(16)).decode()
            transport.write(
                f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
            )

        def data_received(self, data: bytes) -> None:
            if self.head is not None:  # before the upgrade: skip the response head
                self.head += data
                end = self.head.find(b"\r\n\r\n")
                if end < 0:
                    return
                data, self.head = self.head[end + 4 :], None
            messages, _ = self.reader.feed(data)
            self.n += len(messages)
            if self.n >= total and not done.done():
                done.set_result(self.n)

        def connection_lost(self, exc: Exception | None) -> None:
            if not done.done():
                done.set_result(self.n)

    t = _clock()
    transport, _ = await loop.create_connection(P, hostname, int(port))
    n = await done
    timed = _since(n, t)
    transport.close()
    return timed


async def _tapeflow(url: str, total: int, transport_name: str, threaded: bool) -> Timed:
    from tapeflow import Engine
    from tapeflow.clock import SystemClock
    from tapeflow.feeds import ConnectionOptions, FeedConnection, resolve_transport
    from tapeflow.markets import MARKETS
    from tapeflow.monitor.worker import EngineWorker

    engine = Engine("usdm")
    done = asyncio.get_running_loop().create_future()
    applied = 0

    def on_batch(_: object, result: object, frames: object) -> None:
        nonlocal applied
        applied += result.frames  # type: ignore[attr-defined]
        if applied >= total and not done.done():
            done.set_result(applied)

    worker = EngineWorker(engine, on_batch, threaded=threaded)
    base, _, query = url.partition("/stream?streams=")
    streams = query.split("/")
    conn = FeedConnection(
        1,
        MARKETS["usdm"],
        base,
        "",
        streams,
        canary=None,
        transport=resolve_transport(transport_name),
        clock=SystemClock(),
        sink=lambda c, frames, ms: worker.submit_frames(c, frames, ms),
        options=ConnectionOptions(silence_s=60, verify_s=3600, ping_interval_s=3600),
    )
    stalls: list[float] = []

    async def loop_lag() -> None:
        # How late a 5 ms timer fires while frames pour in: the longest time the loop could not answer a ping.
        loop = asyncio.get_running_loop()
        while True:
            t0 = loop.time()
            await asyncio.sleep(0.005)
            stalls.append(loop.time() - t0 - 0.005)

    t = _clock()
    lag = asyncio.create_task(loop_lag())
    conn.start()
    n: int = await done
    timed = _since(n, t)
    lag.cancel()
    await conn.stop()
    worker.stop()
    STALLS.append(max(stalls, default=0.0))
    return timed


def _receive(kind: str, url: str, total: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    async def main() -> Timed:
        if kind == "bare websockets":
            return await _bare_websockets(url, total)
        if kind == "bare picows":
            return await _bare_picows(url, total)
        if kind == "tapeflow websockets":
            return await _tapeflow(url, total, "websockets", True)
        if kind == "tapeflow websockets inline":
            return await _tapeflow(url, total, "websockets", False)
        if kind == "tapeflow picows":
            return await _tapeflow(url, total, "picows", True)
        if kind == "tapeflow picows inline":
            return await _tapeflow(url, total, "picows", False)
        if kind == "bare native":
            return await _bare_native(url, total)
        if kind == "tapeflow native":
            return await _tapeflow(url, total, "native", True)
        if kind == "tapeflow native inline":
            return await _tapeflow(url, total, "native", False)
        raise ValueError(kind)

    n, wall, cpu = asyncio.run(main())
    out.put((n, wall, cpu, max(STALLS, default=None)))


def run(kind: str, total: int, paced: int = 0) -> tuple[int, float, float, float | None]:
    ctx = mp.get_context("spawn")
    port_q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    server = ctx.Process(target=_serve, args=(port_q, total, paced), daemon=True)
    server.start()
    port = port_q.get(timeout=20)
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    # The recording's streams (the sender ignores the path; the connection checks that each kind delivers).
    streams = "sushiusdt@depth@100ms/sushiusdt@aggTrade/sushiusdt@bookTicker/sushiusdt@kline_1m"
    recv = ctx.Process(target=_receive, args=(kind, f"ws://127.0.0.1:{port}/stream?streams={streams}", total, out))
    recv.start()
    result: tuple[int, float, float, float | None] = out.get(timeout=600)
    recv.join(10)
    server.terminate()
    server.join(5)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per receiver (median reported)")
    parser.add_argument("--paced", type=int, default=10_000, help="frames/s for the CPU measurement")
    parser.add_argument("--paced-seconds", type=float, default=5.0)
    args = parser.parse_args()
    try:
        import picows  # noqa: F401

        have_picows = True
    except ImportError:
        have_picows = False
    kinds = ["bare websockets", "tapeflow websockets", "tapeflow websockets inline"]
    if have_picows:
        kinds += ["bare picows", "tapeflow picows", "tapeflow picows inline"]
    kinds += ["bare native", "tapeflow native", "tapeflow native inline"]
    print(
        f"{args.frames} frames of real USD-M data (depth, aggTrade, bookTicker, kline), loopback, "
        f"{os.cpu_count()} cores"
    )
    rates: dict[str, list[float]] = {k: [] for k in kinds}
    cpus: dict[str, list[float]] = {k: [] for k in kinds}
    stalls: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(args.repeat):  # interleaved, so a busy moment of the machine hits every receiver alike
        for kind in kinds:
            n, wall, cpu, stall = run(kind, args.frames)
            rates[kind].append(n / wall)
            cpus[kind].append(cpu / wall)
            if stall is not None:
                stalls[kind].append(stall)
    med = {k: statistics.median(v) for k, v in rates.items()}
    for kind in kinds:
        extra = f"   longest event-loop stall {max(stalls[kind]) * 1000:.0f} ms" if stalls[kind] else ""
        print(f"  {kind:<28} {med[kind]:>10,.0f} frames/s   cpu {statistics.median(cpus[kind]):4.2f} cores{extra}")
    print("ratios (same run):")
    print(f"  tapeflow websockets / bare websockets: {med['tapeflow websockets'] / med['bare websockets']:.0%}")
    print(
        f"  tapeflow websockets inline / bare websockets: "
        f"{med['tapeflow websockets inline'] / med['bare websockets']:.0%}"
    )
    if have_picows:
        print(f"  tapeflow picows / bare picows: {med['tapeflow picows'] / med['bare picows']:.0%}")
        print(f"  tapeflow picows inline / bare picows: {med['tapeflow picows inline'] / med['bare picows']:.0%}")
    for kind in ["tapeflow native", "tapeflow native inline"]:
        line = f"  {kind} / bare native: {med[kind] / med['bare native']:.0%}"
        if have_picows:
            line += f"   / bare picows: {med[kind] / med['bare picows']:.0%}"
        print(line)
    total = int(args.paced * args.paced_seconds)
    for kind in ["tapeflow websockets", *(["tapeflow picows"] if have_picows else []), "tapeflow native"]:
        n, wall, cpu, _ = run(kind, total, paced=args.paced)
        per = cpu / wall * 10_000 / (n / wall)
        print(f"  {kind:<28} at {n / wall:,.0f} frames/s: {per * 1000:.0f} ms CPU per second per 10,000 frames/s")


if __name__ == "__main__":
    sys.exit(main())
