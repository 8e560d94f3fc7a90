"""Scenario 1: depth diffs into a book, on the bundled recordings and on a generated stream.

Modes: ``apply`` (diffs only), ``best`` (best bid and ask read after every frame), ``top10`` (top 10 levels of each
side read after every frame). Correctness: every peer replays each whole session once, untimed, and its top 10 is
compared with the exact reference at every applied diff; tapeflow's whole-book digests are also compared with the
golden files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from book_drivers import Cryptofeed, Unicorn
from book_peers import MODES, Peer, TapeflowBatch, TapeflowPerFrame
from book_structures import BmosconOrderBook, Nautilus, PlainDict, PythonBinance, SortedContainers
from reference import check_golden, checkpoints
from sessions import Session
from timing import interleaved, summary, timed

PEERS: list[Callable[[], Peer]] = [
    TapeflowPerFrame,
    TapeflowBatch,
    PlainDict,
    SortedContainers,
    BmosconOrderBook,
    PythonBinance,
    Nautilus,
    Cryptofeed,
    Unicorn,
]
SLOW_CAP = 2_000  # frames timed per session for peers slower than ~10k frames/s on big books (see `capped`)


def build_peers(log: Callable[[str], None]) -> tuple[list[Peer], dict[str, str]]:
    peers, unavailable = [], {}
    for make in PEERS:
        try:
            peers.append(make())
        except Exception as e:  # a peer that cannot be imported or built offline is reported, not skipped
            name = getattr(make, "name", make.__name__)
            unavailable[name] = f"{type(e).__name__}: {e}"
            log(f"  unavailable: {name}: {unavailable[name]}")
    return peers, unavailable


def final_golden_digests(session: Session) -> dict[str, str]:
    assert session.golden is not None
    out = {}
    for line in session.golden.read_text().splitlines():
        row = json.loads(line)
        out[row["symbol"]] = row["digest"]
    return out


def correctness(peer: Peer, sessions: list[Session], points: dict[str, Any]) -> dict[str, Any]:
    total: dict[str, Any] = {"points": 0, "wrong": 0, "unsynced": 0, "symbols": 0, "wrong_symbols": [], "example": ""}
    for s in sessions:
        c = peer.check(s, points[s.name])
        total["points"] += c.points
        total["wrong"] += c.wrong
        total["unsynced"] += c.unsynced
        total["symbols"] += len(s.symbols)
        total["wrong_symbols"] += sorted(c.wrong_symbols)
        total["example"] = total["example"] or c.example
        if isinstance(peer, TapeflowPerFrame) and s.golden is not None:
            bad = [sym for sym, d in final_golden_digests(s).items() if peer.digest(sym) != d]
            total["golden_digests"] = total.get("golden_digests", 0) + len(s.symbols) - len(bad)
            total["wrong_symbols"] += bad
        if isinstance(peer, Unicorn):
            total["resnapshots"] = total.get("resnapshots", 0) + peer.resnapshots
    total["correct"] = total["wrong"] == 0 and not total["wrong_symbols"]
    return total


def capped(peer: Peer, session: Session) -> list[bytes]:
    frames = session.timed
    return frames[:SLOW_CAP] if session.name.startswith("generated") and peer.name in SLOW_PEERS else frames


SLOW_PEERS = {PythonBinance.name, Unicorn.name, Cryptofeed.name}


def run_dataset(
    sessions: list[Session], rounds: int, stride: int, log: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, str]]:
    for s in sessions:
        if s.golden is not None:
            log(f"  reference = golden file: {s.name} ({check_golden(s)} applied diffs)")
    points = {s.name: checkpoints(s, stride) for s in sessions}
    peers, unavailable = build_peers(log)
    result: dict[str, Any] = {
        "sessions": {s.name: {"market": s.market, "symbols": len(s.symbols), "timed": len(s.timed)} for s in sessions},
        "frames": sum(len(s.timed) for s in sessions),
        "correctness": {},
        "modes": {m: {} for m in MODES},
    }
    working = []
    for peer in peers:
        try:
            result["correctness"][peer.name] = correctness(peer, sessions, points)
            working.append(peer)
        except Exception as e:
            unavailable[peer.name] = f"failed on these sessions: {type(e).__name__}: {e}"
            log(f"  failed: {peer.name}: {unavailable[peer.name]}")
        else:
            c = result["correctness"][peer.name]
            log(f"  checked {peer.name}: {c['wrong']}/{c['points']} check points wrong")
    for mode in MODES:
        contenders: dict[str, Callable[[], float]] = {}
        frames: dict[str, int] = {}
        for peer in working:
            if mode in peer.modes:
                contenders[peer.name] = _contender(peer, sessions, mode)
                frames[peer.name] = sum(len(capped(peer, s)) for s in sessions)
        times = interleaved(contenders, rounds)
        for name, seconds in times.items():
            result["modes"][mode][name] = summary(seconds, frames[name])
            log(f"  {mode:6} {name:34} {frames[name] / min(seconds):>12,.0f} frames/s (best round)")
    return result, unavailable


def _contender(peer: Peer, sessions: list[Session], mode: str) -> Callable[[], float]:
    def one_round() -> float:
        total = 0.0
        for s in sessions:
            peer.setup(s)
            frames = capped(peer, s)
            total += timed(lambda: peer.run(frames, mode))  # noqa: B023 - called at once
        return total

    return one_round
