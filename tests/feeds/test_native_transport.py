"""The ``native`` transport (WebSocket framing parsed in Rust) over real sockets on 127.0.0.1: the handshake, frames
and control frames against hand-written and ``websockets`` servers (plain and TLS), and the Monitor on the simulator,
with faults, against the simulator's truth."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from tapeflow import WebSocketProtocolError
from tapeflow._core import WsReader, encode_client_frame
from tapeflow.feeds.transports import FrameBuffer, Link, LinkClosed, NativeTransport, resolve_transport
from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import book_matches_truth, check_windows, drive, monitor_on, settle

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
pytestmark = pytest.mark.timeout(30)


# ---------------------------------------------------------------------------------------------------- helpers
def server_frame(opcode: int, payload: bytes, fin: bool = True, mask: bytes | None = None) -> bytes:
    """A frame as a server writes it (written here independently of the code under test)."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | opcode
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask:
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


async def read_client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Reads one client frame; checks it is masked and unfragmented; returns (opcode, unmasked payload)."""
    b0, b1 = await reader.readexactly(2)
    assert b0 & 0x80 and not b0 & 0x70, "client frames are FIN with no RSV bits"
    assert b1 & 0x80, "client frames must be masked"
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4)
    data = await reader.readexactly(n)
    return b0 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 that reads the request head and hands it, with the streams, to ``handler``."""
    tasks: set[asyncio.Task[None]] = set()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            await handler(head, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/stream?streams=a@depth/b@aggTrade"
    finally:
        # Let handlers read what the client sent last (its close reply) before they are cancelled: the client's end
        # can be seen before the server's read callback has run (always so on Python 3.12+, whose wait_for takes
        # fewer loop turns).
        if tasks:
            await asyncio.wait(tasks, timeout=1)
        for t in tasks:
            t.cancel()
        server.close()
        await server.wait_closed()


def accept_for(head: bytes) -> bytes:
    key = next(
        line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"sec-websocket-key")
    )
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def switching(head: bytes) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_for(head) + b"\r\n\r\n"
    )


async def receive_all(link: Link) -> tuple[list[bytes], LinkClosed]:
    """Every message until the link closes, and the LinkClosed it ended with."""
    got: list[bytes] = []
    while True:
        try:
            got += await asyncio.wait_for(link.recv_batch(), 5)
        except LinkClosed as e:
            return got, e


# ---------------------------------------------------------------------------------------------------- the binding
def test_reader_returns_messages_and_controls() -> None:
    r = WsReader()
    data = server_frame(1, b"a") + server_frame(9, b"p") + server_frame(2, b"\x00\xff") + server_frame(1, b"cut")
    assert r.feed(data[:-1]) == ([b"a", b"\x00\xff"], [(9, b"p")])
    assert r.buffered == 4
    assert r.feed(data[-1:]) == ([b"cut"], None)  # no control frames: None, not a list
    assert r.feed(server_frame(8, struct.pack("!H", 1001) + b"bye")) == ([], [(8, b"\x03\xe9bye")])
    assert r.closed


def test_reader_error_carries_the_messages_before_it() -> None:
    r = WsReader(max_message_size=100)
    with pytest.raises(WebSocketProtocolError, match="over the limit of 100 bytes") as info:
        r.feed(server_frame(1, b"ok") + server_frame(1, b"x" * 101))
    assert (info.value.kind, info.value.close_code, info.value.messages) == ("message_too_big", 1009, [b"ok"])
    with pytest.raises(WebSocketProtocolError, match="over the limit"):
        r.feed(server_frame(1, b"fine"))  # refused for good
    with pytest.raises(WebSocketProtocolError, match="masked") as info:
        WsReader().feed(server_frame(1, b"m", mask=b"abcd"))
    assert info.value.kind == "masked_frame" and info.value.close_code == 1002


def test_encode_client_frame() -> None:
    # RFC 6455 §5.7: a masked "Hello".
    assert encode_client_frame(1, b"Hello", b"\x37\xfa\x21\x3d") == bytes.fromhex("818537fa213d7f9f4d5158")
    with pytest.raises(ValueError, match="125"):
        encode_client_frame(9, b"x" * 126, b"abcd")
    with pytest.raises(ValueError, match="opcode"):
        encode_client_frame(3, b"", b"abcd")
    with pytest.raises(ValueError, match="4 bytes"):
        encode_client_frame(1, b"", b"abc")


def test_named_transport_and_defaults() -> None:
    t = resolve_transport("native")
    assert isinstance(t, NativeTransport) and t.name == "native" and t.ssl is None
    assert WsReader().max_message_size == 64 * 1024 * 1024 == t.max_message_size


# ---------------------------------------------------------------------------------------------------- handshake
@pytest.mark.asyncio
async def test_upgrade_request_and_frames_across_reads() -> None:
    heads: list[bytes] = []
    from_client: list[tuple[int, bytes]] = []
    big = bytes(range(256)) * 300  # 76,800 bytes: a 64-bit length

    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(head)
        # The head and the first frames in one write; a fragmented message with a ping between its parts.
        writer.write(switching(head) + server_frame(1, b"first") + server_frame(1, b"frag", fin=False))
        writer.write(server_frame(9, b"are you there") + server_frame(0, b"ment", fin=False))
        writer.write(server_frame(0, b"ed"))
        data = server_frame(1, big) + server_frame(2, b"") + server_frame(1, b"x" * 126)
        for i in range(0, len(data), 1000):  # a large frame cut across many reads
            writer.write(data[i : i + 1000])
            await writer.drain()
            await asyncio.sleep(0)
        from_client.append(await read_client_frame(reader))  # the pong
        from_client.append(await read_client_frame(reader))  # a text frame from the client
        writer.write(server_frame(8, struct.pack("!H", 1000) + b"bye"))
        from_client.append(await read_client_frame(reader))  # the close reply
        await reader.read()

    async with raw_server(handler) as url:
        link = await NativeTransport().connect(url, open_timeout=5)
        got: list[bytes] = []
        while len(got) < 5:
            got += await asyncio.wait_for(link.recv_batch(), 5)
        await link.send_text('{"method":"LIST_SUBSCRIPTIONS","id":1}')
        rest, closed = await receive_all(link)
    assert got + rest == [b"first", b"fragmented", big, b"", b"x" * 126]
    assert "code 1000" in str(closed) and "bye" in str(closed)
    assert from_client == [(10, b"are you there"), (1, b'{"method":"LIST_SUBSCRIPTIONS","id":1}'), (8, b"\x03\xe8")]
    lines = heads[0].decode().split("\r\n")
    assert lines[0] == "GET /stream?streams=a@depth/b@aggTrade HTTP/1.1"
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    assert headers["host"] == url.split("/")[2]
    assert headers["upgrade"].lower() == "websocket" and headers["connection"].lower() == "upgrade"
    assert headers["sec-websocket-version"] == "13"
    assert len(base64.b64decode(headers["sec-websocket-key"])) == 16


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("response", "expect"),
    [
        (b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n\r\n", "HTTP 429 Too Many Requests"),
        (b'HTTP/1.1 418 I\'m a teapot\r\nContent-Length: 21\r\n\r\n{"code":-1003,"msg":1}', "HTTP 418"),
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "HTTP 400 Bad Request"),
        (b"HTTP/1.1 403 Forbidden\r\n\r\n", "HTTP 403 Forbidden"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", "HTTP 200 OK: hi"),
        (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: d3Jvbmc=\r\n\r\n",
            "Sec-WebSocket-Accept",
        ),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not an HTTP response"),
    ],
    ids=["429", "418", "400", "403", "200", "bad-accept", "not-http"],
)
async def test_refused_upgrade_names_the_status(response: bytes, expect: str) -> None:
    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(response)
        await writer.drain()
        await reader.read()

    async with raw_server(handler) as url:
        with pytest.raises(LinkClosed, match="refused the WebSocket upgrade") as info:
            await NativeTransport().connect(url, open_timeout=5)
    assert expect in str(info.value)


@pytest.mark.asyncio
async def test_upgrade_without_an_answer_times_out() -> None:
    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async with raw_server(handler) as url:
        with pytest.raises(LinkClosed, match=r"no WebSocket upgrade within 0.3 s"):
            await NativeTransport().connect(url, open_timeout=0.3)


@pytest.mark.asyncio
async def test_connection_refused_is_an_os_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(OSError):
        await NativeTransport().connect(f"ws://127.0.0.1:{port}/", open_timeout=5)


# ---------------------------------------------------------------------------------------------------- frames
@pytest.mark.asyncio
async def test_protocol_error_hands_over_what_came_before_and_closes() -> None:
    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(switching(head) + server_frame(1, b"one") + server_frame(1, b"two"))
        writer.write(server_frame(1, b"masked", mask=b"\x01\x02\x03\x04") + server_frame(1, b"never"))
        await reader.read()

    async with raw_server(handler) as url:
        link = await NativeTransport().connect(url, open_timeout=5)
        got, closed = await receive_all(link)
    assert got == [b"one", b"two"]
    assert "protocol error" in str(closed) and "masked frame" in str(closed)


@pytest.mark.asyncio
async def test_message_over_the_limit_drops_the_connection() -> None:
    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(switching(head) + server_frame(1, b"a" * 1000) + server_frame(1, b"b" * 1001))
        await reader.read()

    async with raw_server(handler) as url:
        link = await NativeTransport(max_message_size=1000).connect(url, open_timeout=5)
        got, closed = await receive_all(link)
    assert got == [b"a" * 1000]
    assert "over the limit of 1000 bytes" in str(closed)


@pytest.mark.asyncio
async def test_abrupt_disconnect_ends_the_link_and_fails_pending_pings() -> None:
    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(switching(head) + server_frame(1, b"last"))
        await writer.drain()
        await read_client_frame(reader)  # the ping, never answered
        writer.transport.abort()

    async with raw_server(handler) as url:
        link = await NativeTransport().connect(url, open_timeout=5)
        pong = await link.ping()
        got, closed = await receive_all(link)
        with pytest.raises(LinkClosed):
            await asyncio.wait_for(pong, 5)
        with pytest.raises(LinkClosed):
            await link.send_text("late")
    assert got == [b"last"]
    assert "connection" in str(closed)


def _buffer(link: Link) -> FrameBuffer:
    """The frame buffer behind a link of any of the three transports."""
    for owner in ("proto", "conn", "listener"):
        if hasattr(link, owner):
            buffer: FrameBuffer = getattr(link, owner).buffer
            return buffer
    raise AssertionError(f"no frame buffer in {link!r}")


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", ["native", "websockets", "picows"])
async def test_reading_pauses_above_the_high_water_mark(monkeypatch: pytest.MonkeyPatch, transport: str) -> None:
    monkeypatch.setattr(FrameBuffer, "HIGH", 100)
    total = 20_000

    async def handler(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(switching(head))
        frames = b"".join(server_frame(1, str(i).encode()) for i in range(total))
        writer.write(frames)
        await writer.drain()
        writer.write(server_frame(8, struct.pack("!H", 1000)))
        await reader.read()

    async with raw_server(handler) as url:
        link = await resolve_transport(transport).connect(url, open_timeout=5)
        buffer = _buffer(link)
        paused = 0
        got: list[bytes] = []
        while len(got) < total:
            await asyncio.sleep(0.01)  # a slow consumer: the reads pile up until reading pauses
            paused += buffer.paused
            got += await asyncio.wait_for(link.recv_batch(), 5)
        assert not buffer.paused
        await link.close()
    assert got == [str(i).encode() for i in range(total)]
    assert paused > 0


# ------------------------------------------------------------------------------------------------ websockets servers
@pytest.mark.asyncio
async def test_server_ping_answered_and_our_ping_resolved_by_its_pong() -> None:
    from websockets.asyncio.server import ServerConnection, serve

    answered: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def handler(ws: ServerConnection) -> None:
        await ws.send("hello")
        answered.set_result(await asyncio.wait_for(await ws.ping(b"from server"), 5))
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        link = await NativeTransport().connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5)
        assert await asyncio.wait_for(link.recv_batch(), 5) == [b"hello"]
        assert await asyncio.wait_for(answered, 5) >= 0  # our pong reached the server
        first, second = await link.ping(), await link.ping()
        assert 0 <= await asyncio.wait_for(first, 5) < 5
        assert 0 <= await asyncio.wait_for(second, 5) < 5
        await link.close()
        assert link.proto.closed  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_wss_messages_in_order_and_ping_answered() -> None:
    trustme = pytest.importorskip("trustme")
    from websockets.asyncio.server import ServerConnection, serve

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    big = "".join(chr(ord("a") + i % 26) for i in range(70_000))
    sent = ["first", big, "fragmented", *[f'{{"i":{i}}}' for i in range(500)], "é ünïcode"]
    pinged: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    echoed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(ws: ServerConnection) -> None:
        await ws.send(sent[0])
        await ws.send(sent[1])
        await ws.send(["frag", "men", "ted"])  # one message in three frames
        pong = await ws.ping(b"tls ping")
        for m in sent[3:]:
            await ws.send(m)
        pinged.set_result(await asyncio.wait_for(pong, 5))
        echoed.set_result(str(await ws.recv()))
        await ws.close()

    async with serve(handler, "127.0.0.1", 0, ssl=server_ctx, compression=None, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        url = f"wss://127.0.0.1:{port}/stream"
        with pytest.raises(ssl.SSLCertVerificationError):  # the system's CAs do not know this one
            await NativeTransport().connect(url, open_timeout=5)
        link = await NativeTransport(ssl=client_ctx).connect(url, open_timeout=5)
        got: list[bytes] = []
        while len(got) < len(sent):
            got += await asyncio.wait_for(link.recv_batch(), 5)
        assert [g.decode() for g in got] == sent
        assert await asyncio.wait_for(pinged, 5) >= 0
        await link.send_text("over tls")
        assert await asyncio.wait_for(echoed, 5) == "over tls"
        rest, closed = await receive_all(link)
    assert rest == [] and "code 1000" in str(closed)


# ---------------------------------------------------------------------------------------------------- the simulator
@pytest.mark.asyncio
@pytest.mark.parametrize("transport", ["native", "picows"])
async def test_transport_keeps_the_same_books(transport: str) -> None:
    if transport == "picows":
        pytest.importorskip("picows")
    cfg = SimConfig(market="usdm", symbols=6, seed=16, speed=0.0, rate=6.0, liq_rate=0.3)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), transport=transport) as m:
        await drive(ex, m, 15_000)
        # Before any fault: every frame the exchange sent reached the engine, none twice, none malformed, and no
        # book needed a second snapshot (a lost or repeated frame would show in one of these).
        for _ in range(100):
            if m.status().frames >= ex.frames_sent:
                break
            await asyncio.sleep(0.02)
            await m.settle()
        st = m.status()
        assert st.frames == ex.frames_sent > 300
        assert st.malformed == 0 and st.snapshots.fetched == len(m.book_symbols)
        ex.faults.disconnect_all(abrupt=True)
        await drive(ex, m, 15_000)
        await settle(ex, m)
        st = m.status()
        assert all(c.reconnects >= 1 for c in st.connections)
        for s in m.symbols:
            assert book_matches_truth(ex, m, s), s
        pushed = [liq for liq in ex.truth.liquidations() if liq.pushed]
        assert 0 < m.liquidations.total(lookback="1h").count <= len(pushed)  # none counted twice


@pytest.mark.asyncio
async def test_native_transport_through_faults_keeps_books_and_windows_exact() -> None:
    cfg = SimConfig(market="usdm", symbols=8, seed=33, speed=0.0, rate=5.0, liq_rate=0.1)
    kwargs = {"flow": ("1m", "15m"), "streams_per_connection": 8, "transport": "native"}
    async with SimExchange(cfg) as ex, monitor_on(ex, **kwargs) as m:
        t0 = ex.now_ms()
        f = ex.faults
        f.schedule(t0 + 10_000, lambda: next(iter(ex.clients)).close(abrupt=True))
        f.schedule(t0 + 20_000, lambda: f.disconnect_all(abrupt=True))
        f.schedule(t0 + 30_000, lambda: f.drop(4))
        f.schedule(t0 + 35_000, lambda: f.duplicate(6))
        f.schedule(t0 + 40_000, lambda: f.malformed(3))
        f.schedule(t0 + 45_000, lambda: f.disconnect_all(abrupt=False))  # clean close frames
        f.schedule(t0 + 60_000, lambda: f.stall(60_000, index=0))  # no data, no pong
        await drive(ex, m, 140_000)
        await settle(ex, m)
        st = m.status()
        for s in m.symbols:
            assert book_matches_truth(ex, m, s), s
        assert check_windows(ex, m, ("1m", "15m"), ex.now_ms()) > 100
        assert st.gaps_open == 0 and st.incomplete == 0
        assert sum(c.reconnects for c in st.connections) >= 3
        assert sum(c.zombies for c in st.connections) >= 1  # the stalled connection
        assert st.malformed >= 3
