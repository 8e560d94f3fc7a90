"""The HTTP API against the simulator over real sockets: every number equals the Monitor's and the simulator's truth
at the same moment (the manual clock stands still while the requests are made)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from tapeflow.sim import SimExchange
from tests.monitor.support import view_matches_truth, window_bounds
from tests.serve.support import MIN, drive, liq_truth, monitor_kwargs, served, settle, sim_config
from tests.sim.support import tape


def iso_ms(text: str) -> int:
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@pytest.mark.asyncio
async def test_flow_ranking_windows_and_candles_equal_the_tape() -> None:
    async with SimExchange(sim_config(symbols=8)) as ex, monitor_on_sim(ex) as m:
        await drive(ex, m, 150_000)
        await settle(ex, m)
        async with served(m) as http:
            now = ex.now_ms()
            for window, aligned in (("1m", False), ("15m", False), ("1m", True)):
                r = await http.get("/flow", params={"window": window, "aligned": aligned, "limit": 100})
                assert r.status_code == 200, r.text
                body = r.json()
                assert body["as_of_ms"] == now and body["symbols"] == 8 and body["incomplete"] == 0
                start, end = window_bounds(now, int(window[:-1]) * MIN, aligned)
                assert (body["start_ms"], body["end_ms"]) == (start, end)
                truth = {s: tape(ex, s, start, end) for s in ex.truth.symbols()}
                # Brute force: the ranking by exact net quote volume, ties by name.
                expected = sorted(truth, key=lambda s: (-(truth[s].buy_quote - truth[s].sell_quote), s))
                assert [row["symbol"] for row in body["rows"]] == expected
                for row in body["rows"]:
                    t = truth[row["symbol"]]
                    assert Decimal(row["buy_quote_exact"]) == t.buy_quote
                    assert Decimal(row["sell_quote_exact"]) == t.sell_quote
                    assert Decimal(row["net_quote_exact"]) == t.buy_quote - t.sell_quote
                    assert (row["buy_count"], row["sell_count"]) == (t.buy_count, t.sell_count)
                    assert row["complete"] and not row["abandoned"]
            # Other orders and a limit.
            r = await http.get("/flow", params={"window": "15m", "sort": "sell", "limit": 3})
            start, end = window_bounds(now, 15 * MIN, False)
            sells = sorted(ex.truth.symbols(), key=lambda s: (-tape(ex, s, start, end).sell_quote, s))
            assert [row["symbol"] for row in r.json()["rows"]] == sells[:3]
            r = await http.get("/flow", params={"window": "15m", "sort": "abs_net"})
            nets = {s: abs(tape(ex, s, start, end).buy_quote - tape(ex, s, start, end).sell_quote) for s in sells}
            assert [row["symbol"] for row in r.json()["rows"]] == sorted(nets, key=lambda s: (-nets[s], s))
            # One symbol: exact sums, equal to the Monitor's and to the tape.
            for s in ex.truth.symbols():
                body = (await http.get(f"/flow/{s.lower()}", params={"window": "15m"})).json()
                v = m.volume(s, "15m", now_ms=now)
                t = tape(ex, s, body["start_ms"], body["end_ms"])
                assert body["symbol"] == s and body["as_of_ms"] == now
                assert {k: Decimal(x) for k, x in body["exact"].items() if k != "vwap"} == {
                    k: d for k, d in v.exact().items() if k != "vwap"
                }
                assert Decimal(body["exact"]["buy_base"]) == t.buy_base
                assert Decimal(body["exact"]["sell_quote"]) == t.sell_quote
                assert (body["buy_count"], body["sell_count"]) == (t.buy_count, t.sell_count)
                assert body["big_buy_count"] == v.big_buy_count and body["complete"] is True
            # Candles: each kept 1m interval equals the tape of that interval.
            s = ex.truth.symbols()[0]
            body = (await http.get(f"/candles/{s}", params={"interval": "1m"})).json()
            assert len(body["candles"]) >= 3 and body["kept_from_ms"] == body["candles"][0]["start_ms"]
            for c in body["candles"]:
                t = tape(ex, s, c["start_ms"], c["end_ms"])
                assert c["end_ms"] - c["start_ms"] == MIN and c["source"] == "memory"
                assert (Decimal(c["buy_quote_exact"]), Decimal(c["sell_base_exact"])) == (t.buy_quote, t.sell_base)
                assert (c["buy_count"], c["sell_count"]) == (t.buy_count, t.sell_count)
            first = body["candles"][1]["start_ms"]
            part = (await http.get(f"/candles/{s}", params={"interval": "1m", "start": first, "limit": 2})).json()
            assert [c["start_ms"] for c in part["candles"]] == [c["start_ms"] for c in body["candles"]][-2:]
            part = (await http.get(f"/candles/{s}", params={"interval": "1m", "start": first, "end": first + 1})).json()
            assert [c["start_ms"] for c in part["candles"]] == [first]


def monitor_on_sim(ex: SimExchange, **kwargs: Any) -> Any:
    from tests.monitor.support import monitor_on

    return monitor_on(ex, **monitor_kwargs(**kwargs))


OLD_TOTAL = {
    "symbol": str,
    "side": str,
    "window_start": str,
    "window_end": str,
    "minutes": int,
    "total_notional": float,
    "event_count": int,
}
OLD_BUCKET = {"bucket_start": str, "bucket_end": str, "total_notional": float, "event_count": int}


def has_old_fields(body: dict[str, Any], fields: dict[str, type]) -> bool:
    return all(isinstance(body[k], t) or (t is float and isinstance(body[k], int)) for k, t in fields.items())


@pytest.mark.asyncio
async def test_liquidations_answer_old_requests_with_the_truth() -> None:
    async with SimExchange(sim_config(symbols=5, liq_rate=0.6)) as ex, monitor_on_sim(ex) as m:
        await drive(ex, m, 240_000)
        await settle(ex, m)
        async with served(m) as http:
            now = ex.now_ms()
            # A request written for the old service: same field names and types, BTCUSDT, raw order sides.
            for side in (None, "BUY", "SELL"):
                params: dict[str, Any] = {"minutes": 3} | ({"side": side} if side else {})
                r = await http.get("/liquidations/total", params=params)
                assert r.status_code == 200, r.text
                body = r.json()
                assert has_old_fields(body, OLD_TOTAL)
                assert (body["symbol"], body["side"], body["minutes"]) == ("BTCUSDT", side or "ALL", 3)
                assert iso_ms(body["window_end"]) == now and iso_ms(body["window_start"]) == now - 3 * MIN
                total, count = liq_truth(ex, "BTCUSDT", now - 3 * MIN + 1, now, side)
                assert count > 0 and body["event_count"] == count
                assert Decimal(body["total_notional_exact"]) == total
                assert body["total_notional"] == round(float(total), 2)
            # New: every symbol, long/short wording (SELL liquidates a long), equal to the Monitor's total.
            body = (await http.get("/liquidations/total", params={"symbol": "ALL", "side": "long"})).json()
            total, count = liq_truth(ex, None, now - 60 * MIN + 1, now, "SELL")
            assert (body["symbol"], body["event_count"], Decimal(body["total_notional_exact"])) == ("ALL", count, total)
            engine = m.liquidations.total(None, lookback="1h", side="long")
            assert (engine.count, engine.notional_exact) == (count, body["total_notional_exact"])
            # The series: non-empty epoch-aligned buckets, oldest first, each equal to the truth.
            r = await http.get("/liquidations/series", params={"minutes": 4, "interval_minutes": 1, "side": "BUY"})
            body = r.json()
            assert has_old_fields(body, {**OLD_TOTAL, "interval_minutes": int})
            expected = []
            for start in range((now - 4 * MIN) // MIN * MIN, now + 1, MIN):
                lo, hi = max(start, now - 4 * MIN + 1), min(start + MIN - 1, now)
                total, count = liq_truth(ex, "BTCUSDT", lo, hi, "BUY")
                if count:
                    expected.append((start, start + MIN, total, count))
            got = []
            for b in body["buckets"]:
                assert has_old_fields(b, OLD_BUCKET) and b["total_notional"] == round(
                    float(b["total_notional_exact"]), 2
                )
                got.append(
                    (
                        iso_ms(b["bucket_start"]),
                        iso_ms(b["bucket_end"]),
                        Decimal(b["total_notional_exact"]),
                        b["event_count"],
                    )
                )
            assert got == expected and len(got) >= 2
            assert sum(b[3] for b in got) == body["event_count"]
            # The old service's 400.
            r = await http.get("/liquidations/series", params={"minutes": 5, "interval_minutes": 10})
            assert r.status_code == 400 and r.json()["detail"] == "interval_minutes cannot be greater than minutes"
            # The most recent, newest first, equal to the pushed truth.
            body = (await http.get("/liquidations/recent", params={"symbol": "ETHUSDT", "limit": 5})).json()
            pushed = sorted((liq for liq in ex.truth.liquidations("ETHUSDT") if liq.pushed), key=lambda x: -x.T)[:5]
            assert [(x["time_ms"], Decimal(x["notional_exact"])) for x in body["liquidations"]] == [
                (liq.T, Decimal(liq.q) * Decimal(liq.ap) / 10**16) for liq in pushed
            ]


@pytest.mark.asyncio
async def test_clusters_and_heatmap_equal_the_engine() -> None:
    async with SimExchange(sim_config(symbols=3, liq_rate=0.8)) as ex, monitor_on_sim(ex) as m:
        await drive(ex, m, 120_000)
        await settle(ex, m)
        async with served(m) as http:
            now = ex.now_ms()
            body = (await http.get("/liquidations/clusters/BTCUSDT", params={"min_strength": 0.1})).json()
            clusters = m.engine.liq_clusters("BTCUSDT", now_ms=now)
            assert clusters and [c["notional_exact"] for c in body["clusters"]] == [c.notional_exact for c in clusters]
            assert [c["count"] for c in body["clusters"]] == [c.count for c in clusters]
            best = m.engine.best_cluster("BTCUSDT", 0.1, now_ms=now)
            assert best is not None and body["best"]["price"] == best.price and body["best"]["strength"] >= 0.1
            assert body["mark_price"] == m.engine.mark_price("BTCUSDT")[0]  # type: ignore[index]
            pushed = [liq for liq in ex.truth.liquidations("BTCUSDT") if liq.pushed]
            assert sum(c["count"] for c in body["clusters"]) <= len(pushed)
            # Heatmap: the grid holds every pushed liquidation of the look-back, notional summed exactly in floats.
            q = {"lookback_minutes": 60, "interval_minutes": 1}
            body = (await http.get("/liquidations/heatmap/BTCUSDT", params=q)).json()
            grid = [sum(row) for row in body["long"]] + [sum(row) for row in body["short"]]
            total, _ = liq_truth(ex, "BTCUSDT", now - 60 * MIN + 1, now)
            assert abs(sum(grid) - float(total)) < 1e-6 * float(total)
            assert len(body["price_edges"]) == len(body["long"]) + 1 and len(body["time_starts_ms"]) >= 60
            png = await http.get("/liquidations/heatmap/BTCUSDT", params={**q, "format": "png", "width": 400})
            assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.asyncio
async def test_books_are_served_only_when_synced() -> None:
    async with SimExchange(sim_config(symbols=3)) as ex, monitor_on_sim(ex) as m:
        await drive(ex, m, 20_000)
        await settle(ex, m)
        async with served(m) as http:
            r = await http.get("/books/BTCUSDT", params={"depth": 5})
            body = r.json()
            assert r.status_code == 200 and len(body["bids"]) == 5 and body["state"] == "SYNCED"
            view = m.engine.book("BTCUSDT", 5)
            assert body["last_update_id"] == view.last_update_id and body["event_time_ms"] == view.event_time
            assert [tuple(x) for x in body["bids"]] == view.bids_exact() and view_matches_truth(ex, "BTCUSDT", view)
            assert Decimal(body["spread"]) == Decimal(body["best_ask"]) - Decimal(body["best_bid"])
            band = (await http.get("/books/BTCUSDT/band", params={"pct": 0.5})).json()
            assert band["exact"] == dict(m.engine.band("BTCUSDT", 0.5).exact())  # type: ignore[union-attr]
            # A book that broke is refused until it is synced again: 503, Retry-After, its state.
            m.engine.reset_book("BTCUSDT")
            for path in ("/books/BTCUSDT", "/books/BTCUSDT/band"):
                r = await http.get(path)
                assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
                assert r.headers["x-sync-state"] in ("SYNCING", "GAP") and "not synced" in r.json()["message"]
            await drive(ex, m, 5_000)
            await settle(ex, m)
            r = await http.get("/books/BTCUSDT")
            assert r.status_code == 200 and view_matches_truth(ex, "BTCUSDT", m.engine.book("BTCUSDT", 20))
            # Not kept: 404 naming the option to use.
            r = await http.get("/books/BCHUSDT")
            assert r.status_code == 404 and "--books BCHUSDT" in r.json()["message"]


@pytest.mark.asyncio
async def test_big_trades_are_the_tape_trades_above_the_threshold_exactly() -> None:
    async with SimExchange(sim_config(symbols=4)) as ex, monitor_on_sim(ex, big_trade=200.0) as m:
        await drive(ex, m, 20_000)
        await settle(ex, m)
        async with served(m) as http:
            since = ex.now_ms()
            await drive(ex, m, 60_000)  # the server hears big trades as they are counted
            await settle(ex, m)
            rows = (await http.get("/trades/big", params={"limit": 500})).json()
        threshold = 200 * 10**16
        truth = {(s, a.a): a for s in ex.truth.symbols() for a in ex.truth.agg_trades(s) if a.p * a.q >= threshold}
        late = {key for key, a in truth.items() if a.T >= since}
        shown = {(r["symbol"], r["trade_id"]) for r in rows}
        assert late and late <= shown <= set(truth)  # every one heard since the app started, none made up
        for r in rows:
            a = truth[(r["symbol"], r["trade_id"])]
            assert Decimal(r["price_exact"]) * 10**8 == a.p and Decimal(r["qty_exact"]) * 10**8 == a.q
            assert Decimal(r["notional_exact"]) * 10**16 == a.p * a.q  # exact, where the float is rounded
            assert r["side"] == ("sell" if a.m else "buy") and r["time_ms"] == a.T
        assert [r["time_ms"] for r in rows] == sorted((r["time_ms"] for r in rows), reverse=True)
