"""Snapshot size per use, end to end: books nobody reads start from a small snapshot; a read deeper than such a
book knows gets what is certain, marked incomplete, and the book resyncs from a full snapshot, ahead of the others."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tapeflow import BookNotSyncedError
from tapeflow.sim import SimConfig, SimExchange
from tests.monitor.support import book_matches_truth, drive, monitor_on, settle, view_matches_truth


def depth_limits(ex: SimExchange) -> list[tuple[str, int]]:
    """The depth snapshots the exchange served: ``(symbol, limit)`` in order."""
    out = []
    for _, target in ex.rest.requests:
        url = urlsplit(target)
        if url.path.endswith("/depth"):
            q = parse_qs(url.query)
            out.append((q["symbol"][0], int(q["limit"][0])))
    return out


@pytest.mark.asyncio
async def test_a_book_read_deeper_than_its_first_snapshot_resyncs_in_full() -> None:
    cfg = SimConfig(market="usdm", symbols=3, seed=71, speed=0.0, rate=4.0)
    async with SimExchange(cfg) as ex, monitor_on(ex, flow=(), liquidations=False, unread_snapshot_limit=20) as m:
        await drive(ex, m, 5_000)
        await settle(ex, m)
        symbols = ex.truth.symbols()
        assert sorted(depth_limits(ex)) == sorted((s, 20) for s in symbols)  # every first snapshot small
        s = symbols[0]
        assert len(ex.truth.book(s).bids) > 20  # deeper than the snapshot: the book knows only part of it
        top = m.book(s, 10)
        assert top.complete and len(top.bids_exact()) == 10 and view_matches_truth(ex, s, top)
        assert len(depth_limits(ex)) == 3  # a shallow read asks for nothing more
        deep = m.book(s, 35)
        assert not deep.complete and len(deep.bids_exact()) < 35
        assert view_matches_truth(ex, s, deep)  # what it holds is the truth's top all the same
        with pytest.raises(BookNotSyncedError):  # resyncing from a full snapshot
            m.book(s, 35)
        await settle(ex, m)
        assert depth_limits(ex)[3:] == [(s, 1000)]
        again = m.book(s, 35)
        assert again.complete and len(again.bids_exact()) == min(35, again.n_bids) and view_matches_truth(ex, s, again)
        assert book_matches_truth(ex, m, s)  # the whole book, every level
        band = m.band(symbols[1], 40.0)  # far past the 20 levels of the other books
        assert band is not None and not band.complete
        await settle(ex, m)
        assert depth_limits(ex)[4:] == [(symbols[1], 1000)]
        full = m.band(symbols[1], 40.0)
        assert full is not None and full.complete and book_matches_truth(ex, m, symbols[1])
        assert m.status().books == {"SYNCED": 3, "SYNCING": 0, "GAP": 0}
