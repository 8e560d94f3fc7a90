"""``tapeflow record`` writes what the Monitor received; ``tapeflow replay`` rebuilds the same books from it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from tapeflow.cli import main
from tapeflow.recordings import RecordingWriter as Recorder
from tapeflow.recordings import replay
from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import drive, monitor_on, settle
from tests.sim.support import tape


@pytest.mark.asyncio
async def test_recorded_session_replays_to_the_same_books(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    cfg = SimConfig(market="usdm", symbols=4, seed=4, speed=0.0, rate=10.0)
    async with SimExchange(cfg) as ex:
        recorder = Recorder(path)
        async with monitor_on(ex, tap=recorder, flow=(), liquidations=False) as m:
            await drive(ex, m, 10_000)
            ex.faults.disconnect_all(abrupt=True)  # a reconnect and a resync in the middle of the recording
            await drive(ex, m, 10_000)
            await settle(ex, m)
            live = {s: (m.engine.book(s).last_update_id, m.engine.digest(s)) for s in m.symbols}
        recorder.close()
        lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        kinds = {line["kind"] for line in lines}
        assert kinds == {"ws_open", "ws", "http"}
        assert sum(1 for line in lines if line["kind"] == "ws_open") >= 2
        engine, summary = replay(path)
        assert summary.market == "usdm" and summary.malformed == 0
        for s, (uid, digest) in live.items():
            view = engine.book(s)
            assert (view.last_update_id, engine.digest(s)) == (uid, digest)
            assert ex.truth.book_at(s, uid).digest() == digest
    assert main(["replay", str(path), "--depth", "3", "-o", str(tmp_path / "books.txt")]) == 0
    assert "SYNCED" in (tmp_path / "books.txt").read_text()


@pytest.mark.asyncio
async def test_record_command_against_the_simulator(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl.gz"
    cfg = SimConfig(market="usdm", symbols=3, seed=2, speed=5.0, rate=10.0)
    async with SimExchange(cfg) as ex:
        args = ["record", str(out), "--market", "usdm", "--symbols", ",".join(ex.truth.symbols()), "--flow", ""]
        args += [
            "--ws-url",
            ex.ws_url,
            "--rest-url",
            ex.rest_url,
            "--duration",
            "15",
            "--no-liquidations",
        ]  # 15 s of the exchange's time: 3 real seconds at 5x
        assert await asyncio.to_thread(main, args) == 0
        engine, summary = replay(out)
        assert summary.frames > 100 and summary.snapshots >= 3
        for s in ex.truth.symbols():
            view = engine.book(s)
            assert ex.truth.book_at(s, view.last_update_id).digest() == engine.digest(s)


@pytest.mark.asyncio
async def test_recorded_flow_replays_to_the_same_windows(tmp_path: Path) -> None:
    path = tmp_path / "flow.jsonl"
    cfg = SimConfig(market="usdm", symbols=3, seed=31, speed=0.0, rate=8.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        await ex.advance(120_000)  # trades before the start: the start-up fill fetches them
        recorder = Recorder(path)
        async with monitor_on(ex, tap=recorder, flow=("1m", "5m"), books=False, liquidations=False) as m:
            await drive(ex, m, 20_000)
            ex.faults.drop(3)
            ex.faults.disconnect_all(abrupt=True)
            await drive(ex, m, 20_000)
            await settle(ex, m)
            now = ex.now_ms()
            live = {s: m.volume(s, "5m", now_ms=now).exact() for s in m.symbols}
            assert all(m.volume(s, "5m", now_ms=now).complete for s in m.symbols)
            # The live windows are the exchange's tape (the start-up fill included), so the replay is held to it.
            end = (now // 1000 + 1) * 1000
            for s, x in live.items():
                t = tape(ex, s, end - 5 * 60_000, end)
                assert (x["buy_base"], x["sell_base"], x["buy_quote"], x["sell_quote"]) == (
                    t.buy_base,
                    t.sell_base,
                    t.buy_quote,
                    t.sell_quote,
                ), s
        recorder.close()
    engine, summary = replay(path)
    assert summary.trade_pages >= 3
    for s, exact in live.items():
        v = engine.volume(s, "5m", now_ms=now)
        assert v.exact() == exact and v.complete
