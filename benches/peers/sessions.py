"""The depth sessions the book benchmarks replay: the recordings shipped in the installed tapeflow wheel (spot, USD-M,
COIN-M) and a generated spot stream with deeper books and more frames.

A session is its depth frames and REST snapshots in arrival order. Everything up to the last snapshot syncs every
book and is set-up; the depth frames after it are what the benchmarks time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import orjson

from tapeflow.recordings import bundled, market_of_url, read_recording, snapshot_symbol

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden"


@dataclass(frozen=True)
class Session:
    """Depth frames (``symbol`` None) and snapshots (``symbol`` set) in arrival order."""

    name: str
    market: str
    events: list[tuple[str | None, bytes]]
    golden: Path | None = None

    @property
    def futures(self) -> bool:
        return self.market != "spot"

    @cached_property
    def parts(self) -> tuple[list[tuple[str | None, bytes]], list[bytes]]:
        """``(set-up, timed)``: the set-up holds every snapshot and each symbol's events up to the first diff it
        applies after its snapshot (so that clients which sync lazily, at the next diff, are synced too); the timed
        part is every later depth frame. Each symbol keeps its own order, and its set-up events precede its timed
        ones; only the interleaving of different symbols changes."""
        futures, last, synced = self.futures, {}, set()
        setup: list[tuple[str | None, bytes]] = []
        timed: list[bytes] = []
        for symbol, raw in self.events:
            if symbol is not None:
                last[symbol] = orjson.loads(raw)["lastUpdateId"]
                synced.discard(symbol)
                setup.append((symbol, raw))
                continue
            data = orjson.loads(raw)["data"]
            s, u = data["s"], data["u"]
            if s in synced:
                timed.append(raw)
                continue
            setup.append((None, raw))
            if s in last and (u >= last[s] if futures else u > last[s]):
                synced.add(s)
        assert synced == set(last), f"{self.name}: some symbols never sync"
        return setup, timed

    @property
    def timed(self) -> list[bytes]:
        return self.parts[1]

    @property
    def symbols(self) -> list[str]:
        return sorted({s for s, _ in self.events if s is not None})


def recorded_sessions() -> list[Session]:
    """The bundled recordings, read from the installed package (the wheel ships them)."""
    out = []
    for path in bundled():
        events: list[tuple[str | None, bytes]] = []
        market = None
        for record in read_recording(path):
            market = market or market_of_url(record.url)
            if record.kind == "http" and (symbol := snapshot_symbol(record.url)):
                events.append((symbol, record.raw))
            elif record.kind == "ws" and b'"depthUpdate"' in record.raw:
                events.append((None, record.raw))
        assert market is not None
        name = path.name.removesuffix(".jsonl.gz")
        out.append(Session(name, market, events, GOLDEN / f"{name}.golden.jsonl"))
    return out


def _px(ticks: int, tick_e8: int) -> str:
    v = ticks * tick_e8
    return f"{v // 100_000_000}.{v % 100_000_000:08d}"


def generated_session(symbols: int = 4, levels: int = 1000, diffs: int = 5000, seed: int = 7) -> Session:
    """A spot stream: per symbol a snapshot of ``levels`` per side around a fixed mid, then ``diffs`` diff frames of
    1-12 level changes each (most within 20 ticks of the top; a fifth delete with ``"0.00000000"``), symbols
    interleaved. Books never cross: bids stay below the mid tick and asks above it."""
    rng = random.Random(seed)
    names = [f"GEN{i}USDT" for i in range(symbols)]
    mids = {s: 10_000 + 977 * i for i, s in enumerate(names)}
    tick = 1_000_000  # 0.01
    events: list[tuple[str | None, bytes]] = []
    last = {s: 1_000_000 * (i + 1) for i, s in enumerate(names)}

    def qty() -> str:
        return f"{rng.randint(1, 50_000)}.{rng.randint(0, 999):03d}00000"

    for s in names:
        m = mids[s]
        bids = ",".join(f'["{_px(m - k, tick)}","{qty()}"]' for k in range(1, levels + 1))
        asks = ",".join(f'["{_px(m + k, tick)}","{qty()}"]' for k in range(1, levels + 1))
        body = f'{{"lastUpdateId":{last[s]},"bids":[{bids}],"asks":[{asks}]}}'
        events.append((s, body.encode()))
    for i in range(diffs * symbols):
        s = names[i % symbols]
        m, first = mids[s], last[s] + 1
        changes: tuple[list[str], list[str]] = ([], [])
        for _ in range(rng.randint(1, 12)):
            side = rng.randrange(2)
            dist = min(int(rng.expovariate(1 / 6)) + 1, levels + 50)
            price = _px(m - dist if side == 0 else m + dist, tick)
            amount = "0.00000000" if rng.random() < 0.2 else qty()
            changes[side].append(f'["{price}","{amount}"]')
        last[s] = first + rng.randint(0, 3)
        data = (
            f'{{"e":"depthUpdate","E":{1_700_000_000_000 + i},"s":"{s}","U":{first},"u":{last[s]},'
            f'"b":[{",".join(changes[0])}],"a":[{",".join(changes[1])}]}}'
        )
        events.append((None, f'{{"stream":"{s.lower()}@depth@100ms","data":{data}}}'.encode()))
    return Session(f"generated_{symbols}x{levels}_levels", "spot", events)
