"""A Monitor with a store on the simulator: a warm restart from ids, the history against the tape, the redundant
liquidation feed, and a store that is refused or cannot be written."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from tapeflow import Monitor
from tapeflow.errors import StoreError, TapeflowError
from tapeflow.sim import SimConfig, SimExchange
from tapeflow.sim.symbols import parse_e8
from tests.monitor.support import MIN, check_windows, drive, monitor_on, settle
from tests.sim.support import tape
from tests.store.support import digest, query, read_only


def _volumes(m: Monitor, at: int) -> dict[str, tuple[object, ...]]:
    out = {}
    for s in m.symbols:
        for w in m.flow:
            for aligned in (False, True):
                v = m.volume(s, w, aligned=aligned, now_ms=at)
                e = v.exact()
                sums = tuple(e[k] for k in ("buy_base", "sell_base", "buy_quote", "sell_quote"))
                out[f"{s}/{w}/{aligned}"] = (*sums, v.buy_count, v.sell_count, v.big_buy_count, v.big_sell_count)
    return out


def _agg_requests(ex: SimExchange, since: int) -> list[str]:
    return [t for _, t in ex.rest.requests[since:] if "/aggTrades" in t]


@pytest.mark.asyncio
@pytest.mark.timeout(180)
async def test_a_clean_restart_resumes_from_ids_with_no_start_time_backfill(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    cfg = SimConfig(market="usdm", symbols=5, seed=31, speed=0.0, rate=6.0, liq_rate=0.4)
    async with SimExchange(cfg) as ex:
        kw = {"flow": ("1m", "15m"), "books": False, "store": path, "big_trade": 20_000.0}
        async with monitor_on(ex, **kw) as m:
            assert m.status().store is not None and m.status().store.restore == "new"
            await drive(ex, m, 3 * MIN)
            await settle(ex, m)
            assert check_windows(ex, m, m.flow, ex.now_ms()) > 100
            stopped_at = ex.now_ms()
            before = _volumes(m, stopped_at)
            liqs_before = m.liquidations.total(lookback="1h")
        assert query(path, "SELECT count(*) FROM checkpoints")[0][0] >= 1
        await ex.advance(2 * MIN)  # down for two minutes; the market goes on
        mark = len(ex.rest.requests)
        async with monitor_on(ex, **kw) as m:
            st = m.status().store
            assert st is not None and st.restore == "warm", st
            # Round trip: the restored state answers as the stopped one did (the same windows, the same
            # liquidations), before anything new is applied.
            assert _volumes(m, stopped_at) == before
            again = m.engine.liq_total(None, lookback_ms=3_600_000, now_ms=liqs_before.end_ms - 1)
            assert (again.count, again.notional_exact) == (liqs_before.count, liqs_before.notional_exact)
            await drive(ex, m, 20_000)
            await settle(ex, m)
            now = ex.now_ms()
            assert check_windows(ex, m, m.flow, now) > 100
            agg = _agg_requests(ex, mark)
            assert agg and all("fromId=" in t for t in agg)
            assert not any("startTime" in t for t in agg)  # no window rebuilt from a start time
            total = m.liquidations.total(lookback="3m")  # from before the stop
            assert not total.complete and [o.kind for o in total.outages] == ["process"]
            assert total.outages[0].start_ms == stopped_at
            assert m.liquidations.complete(now - 15_000, now)
            assert await m.flush_store()
            stored = query(path, "SELECT count(*) FROM liquidations")[0][0]
            assert m.engine.liq_total(None, lookback_ms=86_400_000, now_ms=now).count == stored > 20
            assert len(m.liquidations.recent) == min(stored, 1000)


@pytest.mark.asyncio
@pytest.mark.timeout(180)
async def test_the_history_equals_the_tape(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    cfg = SimConfig(market="usdm", symbols=4, seed=32, speed=0.0, rate=8.0, liq_rate=0.0)
    async with SimExchange(cfg) as ex:
        async with monitor_on(ex, flow=("5m",), books=False, liquidations=False, store=path, big_trade=30_000.0) as m:
            await drive(ex, m, 30_000)
            for s in m.symbols[:2]:
                ex.faults.drop(3, stream=f"{s.lower()}@aggTrade")
            ex.faults.disconnect_all(abrupt=True)
            await drive(ex, m, 11 * MIN)
            await settle(ex, m)
            assert await m.flush_store()
            checked = 0
            for s in m.symbols:
                aggs = ex.truth.agg_trades(s)
                for iv, ms in (("1m", MIN), ("5m", 5 * MIN)):
                    c = m.history.candles(s, iv)
                    assert len(c["start_ms"]) >= (10 if iv == "1m" else 2)
                    for i, start in enumerate(c["start_ms"]):
                        if not c["complete"][i]:
                            continue
                        t = tape(ex, s, int(start), int(start) + ms)
                        got = tuple(parse_e8(c[f"{k}_exact"][i]) for k in ("buy_base", "sell_base"))
                        assert got == (int(t.buy_base * 10**8), int(t.sell_base * 10**8)), (s, iv, start)
                        assert (c["buy_quote_exact"][i], c["sell_quote_exact"][i]) == (
                            _plain(t.buy_quote),
                            _plain(t.sell_quote),
                        )
                        assert (c["buy_count"][i], c["sell_count"][i]) == (t.buy_count, t.sell_count)
                        ids = [a.a for a in aggs if start <= a.T < start + ms]
                        assert (c["first_id"][i], c["last_id"][i]) == ((ids[0], ids[-1]) if ids else (-1, -1))
                        checked += 1
                big = m.history.big_trades(s)
                want = [a.a for a in aggs if a.p * a.q >= 30_000 * 10**16 and a.T >= int(big["time_ms"].min())]
                assert list(big["trade_id"]) == want
            assert checked >= 40
            gaps = query(path, "SELECT state, count(*) FROM trade_gaps GROUP BY state")
            assert dict(gaps).get("filled", 0) >= 2 and "open" not in dict(gaps)


def _plain(d: object) -> str:
    """The engine's exact text of a decimal: no exponent, no trailing zeros."""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cut_a_copy(ex: SimExchange, rng: random.Random) -> bool:
    """Cuts one of the two connections carrying liquidations, abruptly, while the other has been up for a while."""
    now = ex.now_ms()
    copies = [c for c in ex.clients if "!forceOrder@arr" in c.streams and not c.dead]
    if len(copies) < 2 or any(now - c.opened_ms < 3000 for c in copies):
        return False
    rng.choice(copies).close(abrupt=True)
    return True


@pytest.mark.asyncio
@pytest.mark.timeout(180)
async def test_cutting_either_liquidation_connection_at_random_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    cfg = SimConfig(market="usdm", symbols=12, seed=33, speed=0.0, rate=2.0, liq_rate=1.0)
    rng = random.Random(34)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), books=False, store=path) as m:
        await drive(ex, m, 5_000)
        copies = m.status().liquidation_copies
        assert len(copies) == 2 and all(c.live for c in copies)
        both_up = ex.now_ms()
        cuts = 0

        def each(_: int) -> None:
            nonlocal cuts
            if rng.random() < 0.4 and _cut_a_copy(ex, rng):
                cuts += 1

        await drive(ex, m, 6 * MIN, chunk=500, each=each)
        end = ex.now_ms()
        await drive(ex, m, 3_000)
        assert await m.flush_store()
        assert cuts >= 60
        pushed = {
            (x.symbol, x.T, x.side, x.q, x.ap)
            for x in ex.truth.liquidations()
            if x.pushed and both_up <= (x.T // 1000 + 1) * 1000 <= end
        }
        rows = query(
            path,
            "SELECT s.name, l.trade_time, l.order_side, l.filled_qty, l.avg_price FROM liquidations l "
            "JOIN symbols s ON s.id = l.symbol_id",
        )
        stored = [(n, t, side, parse_e8(z), parse_e8(ap)) for n, t, side, z, ap in rows]
        assert len(stored) == len(set(stored))
        assert pushed <= set(stored) and len(pushed) > 500  # none lost
        counted = m.engine.liq_total(None, lookback_ms=86_400_000, now_ms=ex.now_ms()).count
        assert counted == len(stored)  # none counted twice
        assert m.engine.liq_stats().duplicates > len(pushed) // 2  # both copies did deliver
        assert m.liquidations.complete(both_up, end)
        assert query(path, "SELECT count(*) FROM outages WHERE kind = 'liquidations' AND start_ms > ?", both_up) == [
            (0,)
        ]
        assert query(path, "SELECT count(*) FROM outages WHERE kind = 'connection'")[0][0] >= cuts


@pytest.mark.asyncio
async def test_a_refused_store_stops_the_start_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "usdm.db"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)  # an SQLite header over garbage
    before = digest(path)
    cfg = SimConfig(market="usdm", symbols=2, seed=35, speed=0.0)
    async with SimExchange(cfg) as ex:
        m = monitor_on(ex, flow=("1m",), books=False, store=path)
        with pytest.raises(StoreError) as info:
            await m.start()
        assert info.value.reason == "corrupt" and str(path) in str(info.value)
        assert digest(path) == before
        assert not ex.rest.requests and not ex.clients  # nothing was started
    with pytest.raises(TapeflowError, match="no store"):
        _ = Monitor("usdm").history


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_a_read_only_directory_never_stops_the_feed(tmp_path: Path) -> None:
    where = tmp_path / "ro"
    where.mkdir()
    path = where / "usdm.db"
    cfg = SimConfig(market="usdm", symbols=3, seed=36, speed=0.0, rate=6.0, liq_rate=0.5)
    async with SimExchange(cfg) as ex:
        with read_only(where) as locked:
            async with monitor_on(ex, flow=("1m",), books=False, store=path) as m:
                await drive(ex, m, 40_000)
                await settle(ex, m)
                st = m.status().store
                assert st is not None and st.state == "failing" and st.error, st
                assert st.pending_rows > 10 and st.lost == {}
                assert check_windows(ex, m, m.flow, ex.now_ms()) > 50  # the feed went on
                assert m.liquidations.total(lookback="1m").count > 0
                locked.release()
                deadline = time.monotonic() + 20
                while m.status().store.state != "ok":  # type: ignore[union-attr]
                    assert time.monotonic() < deadline, m.status().store
                    await drive(ex, m, 1_000)
                    await asyncio.sleep(0.2)
                await drive(ex, m, 30_000)  # past the first minute's end
                assert await m.flush_store()
                st = m.status().store
                assert st is not None and st.lost == {} and st.pending_rows == 0
                stored = query(path, "SELECT count(*) FROM liquidations")[0][0]
                assert stored == m.engine.liq_total(None, lookback_ms=86_400_000, now_ms=ex.now_ms()).count > 0
                assert len(m.history.candles(m.symbols[0], "1m")["start_ms"]) >= 1
