"""The socket ``tapeflow serve`` listens on: its connections send without waiting (no Nagle's algorithm).

With Nagle's algorithm on, the second part of a response (uvicorn writes the head and the body apart) waits for the
client's ACK of the first, which a keep-alive client delays by about 40 ms: every answer would take that long. Checked
on the server's side of a real loopback connection, accepted by asyncio as uvicorn's server accepts them.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from tapeflow.serve.runner import _listen


async def _server_side_nodelay(host: str) -> int:
    seen: list[int] = []

    async def handle(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listener = _listen(host, 0)
    server = await asyncio.start_server(handle, sock=listener)
    async with server:
        reader, writer = await asyncio.open_connection(host, listener.getsockname()[1])
        assert await reader.read() == b""  # the server closed it, after looking
        writer.close()
    assert len(seen) == 1
    return seen[0]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_accepted_connections_have_nagle_off(host: str) -> None:
    if host == "::1":
        try:
            socket.create_server(("::1", 0), family=socket.AF_INET6).close()
        except OSError:
            pytest.skip("no IPv6 loopback on this machine")
    assert asyncio.run(_server_side_nodelay(host)) != 0
