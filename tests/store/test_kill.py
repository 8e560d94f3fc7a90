"""Kill -9: a Monitor with a store, in a child process, killed with SIGKILL at random moments of a run with faults
on the simulator (whose virtual clock keeps running), restarted each time. After every restart, once settled, every
symbol's 15m sliding and aligned windows equal the tape and are complete; at the end, every liquidation pushed while
the process was up (until a moment before each kill) is in the store once, none is counted twice, and each kill is
an outage of the store."""

from __future__ import annotations

import asyncio
import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from tapeflow.sim import SimConfig, SimExchange
from tapeflow.sim.symbols import parse_e8
from tests.monitor.support import window_bounds
from tests.store.support import query

ROOT = Path(__file__).resolve().parents[2]
SPEED = 8.0  # virtual seconds per real second
#: A liquidation pushed this long (virtual ms) before a kill may still have been on its way: it may or may not be
#: stored (but never twice). One real second.
IN_FLIGHT_MS = int(1_000 * SPEED)
#: How far the child's clock may run ahead of the simulator's (virtual ms): it follows the exchange's clock from
#: ``/time`` answers, within their round trip (a quarter of a real second at most here).
CLOCK_SLACK_MS = int(250 * SPEED)


class Child:
    """The Monitor's process."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, ex: SimExchange, store: Path, symbols: list[str]) -> Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.store.child",
            ex.ws_url,
            ex.rest_url,
            str(store),
            ",".join(symbols),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        child = cls(proc)
        assert "started" in await child.read()
        return child

    async def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        assert line, f"the child ended (status {self.proc.returncode})"
        out: dict[str, Any] = orjson.loads(line)
        return out

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
        return await self.read()

    async def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        await self.proc.wait()


def _check_windows(ex: SimExchange, answer: dict[str, Any], symbols: list[str]) -> int:
    """The child's windows at ``answer["at"]`` equal the tape up to the last aggTrade id it had counted, and are
    complete; returns the trades compared."""
    at, seen = answer["at"], 0
    for s in symbols:
        last = answer["last_ids"][s]
        for aligned in (False, True):
            got = answer["windows"][f"{s}/15m/{'aligned' if aligned else 'sliding'}"]
            start, end = window_bounds(at, 15 * 60_000, aligned)
            sums = {True: [Decimal(0), Decimal(0), 0], False: [Decimal(0), Decimal(0), 0]}
            for a in ex.truth.agg_trades(s):
                if start <= a.T < end and a.a <= last:
                    acc = sums[a.m]  # a buyer-maker trade is a taker sell
                    acc[0] += Decimal(a.q) / 10**8
                    acc[1] += Decimal(a.p) * Decimal(a.q) / 10**16
                    acc[2] += 1
            buy, sell = sums[False], sums[True]
            want = (buy[0], sell[0], buy[1], sell[1], buy[2], sell[2])
            have = tuple(Decimal(got[k]) for k in ("buy_base", "sell_base", "buy_quote", "sell_quote"))
            assert (*have, got["buy_count"], got["sell_count"]) == want, (s, aligned, at)
            assert got["complete"], (s, aligned, at)
            seen += buy[2] + sell[2]
    return seen


def _cut_one(ex: SimExchange, rng: random.Random) -> None:
    """Cuts one connection at random (abruptly), never the last live copy of the liquidation stream."""
    clients = list(ex.clients)
    copies = [c for c in clients if "!forceOrder@arr" in c.streams and not c.dead]
    choices = [c for c in clients if not c.dead and (c not in copies or len(copies) >= 2)]
    if choices:
        rng.choice(choices).close(abrupt=True)


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_kill_minus_nine_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(20261201)
    store = tmp_path / "usdm.db"
    cfg = SimConfig(market="usdm", symbols=6, seed=43, speed=SPEED, rate=5.0, liq_rate=1.0)
    async with SimExchange(cfg) as ex:
        symbols = ex.truth.symbols()
        f = ex.faults
        t = ex.now_ms()
        for k in range(40):  # faults all along: single cuts, dropped and duplicated trades
            t += rng.randint(8_000, 20_000)
            kind = k % 3
            sym = rng.choice(symbols).lower()
            if kind == 0:
                f.schedule(t, lambda: _cut_one(ex, rng))
            elif kind == 1:
                f.schedule(t, lambda sym=sym: f.drop(1, stream=f"{sym}@aggTrade"))
            else:
                f.schedule(t, lambda sym=sym: f.duplicate(2, stream=f"{sym}@aggTrade"))
        # Each life: (check its windows first, real seconds to run on, then a kill, or a clean stop at the end).
        lives = [
            (True, rng.uniform(1.5, 4.0)),
            (False, rng.uniform(0.2, 1.5)),  # killed while starting up (backfilling)
            (True, rng.uniform(1.5, 4.0)),
            (True, rng.uniform(1.5, 3.0)),
        ]
        kills: list[int] = []
        compared = 0
        children: list[Child] = []
        try:
            for check, run_s in lives:
                child = await Child.start(ex, store, symbols)
                children.append(child)
                if check:
                    answer = await child.ask("check")
                    compared += _check_windows(ex, answer, symbols)
                    assert answer["lost"] == {}
                    if kills:
                        assert answer["restore"] == "warm"
                    # What the engine counts is what is stored: nothing twice, nothing left out.
                    assert answer["liq_count"] == answer["liq_stored"]
                await asyncio.sleep(run_s)
                if len(kills) == len(lives) - 1:
                    assert "stopped" in await child.ask("stop")
                    await child.proc.wait()
                    break
                kills.append(ex.now_ms())
                await child.kill()
                await asyncio.sleep(rng.uniform(0.1, 1.0))  # down for a while: the market goes on
        finally:
            for c in children:
                if c.proc.returncode is None:
                    await c.kill()
        assert compared > 500

        outages = query(store, "SELECT kind, start_ms, end_ms FROM outages WHERE kind != 'connection' ORDER BY id")
        process = [(a, b) for kind, a, b in outages if kind == "process"]
        assert [kind for kind, _, _ in outages].count("liquidations") == 1  # only the first start-up
        assert len(process) == len(kills)
        for k, (start, end) in zip(kills, process, strict=True):
            # The kill is dated (by the child's clock, which follows the exchange's) and covered.
            assert k - IN_FLIGHT_MS <= start <= k + CLOCK_SLACK_MS and end is not None and end > k
        # The process was receiving from the end of each outage (a liquidation copy live again) until its kill or
        # its clean stop; what was pushed then, up to a moment before the kill, is stored.
        stopped = int(query(store, "SELECT value FROM meta WHERE key = 'clean_stop_ms'")[0][0])
        lives_up = list(zip([end for _, _, end in outages], [*kills, stopped], strict=True))
        rows = query(
            store,
            "SELECT s.name, l.trade_time, l.order_side, l.filled_qty, l.avg_price FROM liquidations l "
            "JOIN symbols s ON s.id = l.symbol_id",
        )
        stored = [(n, tt, side, parse_e8(z), parse_e8(ap)) for n, tt, side, z, ap in rows]
        assert len(stored) == len(set(stored))  # once each
        pushed = {(x.symbol, x.T, x.side, x.q, x.ap): x for x in ex.truth.liquidations() if x.pushed}
        assert set(stored) <= set(pushed)  # nothing stored that was not pushed
        due = [key for key, liq in pushed.items() if any(a <= _push_time(liq) <= b - IN_FLIGHT_MS for a, b in lives_up)]
        assert len(due) > 100, (len(pushed), len(stored), lives_up)
        missing = [key for key in due if key not in set(stored)]
        assert not missing, missing[:5]


def _push_time(liq: Any) -> int:
    """When the simulator pushed a liquidation: the first whole second after its trade (one per symbol per second
    leaves at each second boundary)."""
    return (liq.T // 1000 + 1) * 1000
