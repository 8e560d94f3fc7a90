"""Replay mode: a recorded session served by the simulator syncs to the golden books, digest for digest."""

from __future__ import annotations

import json

import pytest
import websockets

from tapeflow.sim import SimConfig, SimExchange, digest
from tests.sim.support import Book, get, run
from tests.support import golden_for, recording

E8 = 10**8


@pytest.mark.asyncio
async def test_replayed_spot_session_matches_golden_books() -> None:
    name = "spot_nknusdt_2021-10-12"
    path = recording(name)
    golden = [json.loads(line) for line in golden_for(path).read_bytes().splitlines()]
    async with SimExchange(SimConfig(speed=0.0, replay=path)) as ex:
        assert ex.config.market == "spot"
        syms = sorted({g["symbol"] for g in golden})
        streams = "/".join(f"{s.lower()}@depth@100ms" for s in syms)
        async with websockets.connect(f"{ex.ws_url}/stream?streams={streams}") as ws:
            frames = [json.loads(f)["data"] for f in (await run(ex, [ws], 120_000, chunk=2000))[0]]
        books = {s: Book(futures=False) for s in syms}
        checked = 0
        for s in syms:
            first = next(i for i, f in enumerate(frames) if f["s"] == s)
            for f in frames[: first + 1]:  # buffer the symbol's first diff, then fetch, like the recorder did
                if f["s"] == s:
                    books[s].event(f)
            _, _, snap = await get(f"{ex.rest_url}/api/v3/depth?symbol={s}&limit=1000")
            books[s].snapshot(snap)
            digests = []
            for f in frames[first + 1 :]:
                b = books[s]
                if f["s"] != s:
                    continue
                applied = len(b.applied)
                b.event(f)
                if len(b.applied) > applied:
                    bids = {int(p * E8): int(q * E8) for p, q in b.bids.items()}
                    asks = {int(p * E8): int(q * E8) for p, q in b.asks.items()}
                    digests.append((b.uid, digest(bids, asks)))
            want = [(g["u"], g["digest"]) for g in golden if g["symbol"] == s]
            assert books[s].gaps == 0
            # The golden file also holds the buffered diff applied with the snapshot, if there was one.
            assert digests == want[-len(digests) :] and len(digests) >= len(want) - 1
            checked += len(digests)
        assert checked > 100
