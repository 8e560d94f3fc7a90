"""Model test: the engine's book against a 20-line dict reference, driven by the same random diffs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tapeflow import DecodeError, Engine

Level = tuple[bool, int, int, int]  # (is_bid, price tick, qty, trailing zeros in the spelling)

levels = st.lists(
    st.tuples(st.booleans(), st.integers(1, 20), st.integers(0, 3), st.integers(0, 8)), min_size=0, max_size=6
)
# Each step: a diff's levels, or a duplicate of an earlier frame, or a malformed frame.
steps = st.lists(
    st.one_of(
        levels.map(lambda ls: ("diff", ls)),
        st.integers(0, 50).map(lambda n: ("dup", n)),
        st.sampled_from(["bad_number", "missing_u", "not_json", "extra_item"]).map(lambda k: ("bad", k)),
    ),
    max_size=40,
)


def spell(ticks: int, zeros: int) -> str:
    """A price or quantity in Binance spelling, with a random number of trailing zeros."""
    text = format(Decimal(ticks) / 4, "f")
    if zeros:
        text += ("" if "." in text else ".") + "0" * zeros
    return text


def normalized(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def frame(futures: bool, first: int, last: int, prev: int, ls: list[Level]) -> bytes:
    # Bids at 0.25..5, asks at 5.25..10.25: the reference book never crosses.
    bids = [f'["{spell(p, z)}","{spell(q, z)}"]' for b, p, q, z in ls if b]
    asks = [f'["{spell(p + 20, z)}","{spell(q, z)}"]' for b, p, q, z in ls if not b]
    pu = f',"pu":{prev}' if futures else ""
    return (
        f'{{"e":"depthUpdate","E":1,"T":1,"s":"SYM","U":{first},"u":{last}{pu},'
        f'"b":[{",".join(bids)}],"a":[{",".join(asks)}]}}'
    ).encode()


def apply_reference(book: dict[str, dict[Decimal, Decimal]], ls: list[Level]) -> None:
    for is_bid, p, q, _ in ls:
        side = book["b" if is_bid else "a"]
        price = Decimal(p if is_bid else p + 20) / 4
        if q == 0:
            side.pop(price, None)
        else:
            side[price] = Decimal(q) / 4


def expected(book: dict[str, dict[Decimal, Decimal]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    bids = sorted(book["b"].items(), reverse=True)
    asks = sorted(book["a"].items())
    return [(normalized(p), normalized(q)) for p, q in bids], [(normalized(p), normalized(q)) for p, q in asks]


BAD = {
    "bad_number": b'{"e":"depthUpdate","E":1,"T":1,"s":"SYM","U":1,"u":2,"pu":0,"b":[["1.2.3","1"]],"a":[]}',
    "missing_u": b'{"e":"depthUpdate","E":1,"T":1,"s":"SYM","U":1,"pu":0,"b":[],"a":[]}',
    "not_json": b'{"e":"depthUpdate",',
    "extra_item": b'{"e":"depthUpdate","E":1,"T":1,"s":"SYM","U":1,"u":2,"pu":0,"b":[["1","1","1"]],"a":[]}',
}


@pytest.mark.parametrize("market", ["spot", "usdm"])
@settings(max_examples=150, deadline=None)
@given(initial=levels, ops=steps)
def test_engine_book_matches_dict_reference(market: str, initial: list[Level], ops: list[tuple[str, object]]) -> None:
    futures = market != "spot"
    engine = Engine(market)
    reference: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
    # The first diff straddles the snapshot id under either market's rule.
    first = frame(futures, 100, 101, 99, initial)
    engine.apply_frame(first, 0)
    engine.apply_snapshot("SYM", b'{"lastUpdateId":100,"bids":[],"asks":[]}')
    apply_reference(reference, initial)
    sent = [first]
    last = 101
    for kind, arg in ops:
        if kind == "diff":
            assert isinstance(arg, list)
            data = frame(futures, last + 1 + (3 if futures else 0), last + 5, last, arg)
            last += 5
            engine.apply_frame(data, 0)
            apply_reference(reference, arg)
            sent.append(data)
        elif kind == "dup":
            assert isinstance(arg, int)
            engine.apply_frame(sent[arg % len(sent)], 0)  # stale: ignored
        else:
            before = engine.digest("SYM")
            with pytest.raises(DecodeError):
                engine.apply_frame(BAD[str(arg)], 0)
            assert engine.digest("SYM") == before
        view = engine.book("SYM", 1000)
        bids, asks = expected(reference)
        assert (view.bids_exact(), view.asks_exact()) == (bids, asks)
        assert view.last_update_id == last
        # The top-of-book accessors read the same levels in one call.
        top = (*bids[0], *asks[0]) if bids and asks else None
        assert engine.best_exact("SYM") == top
        best = engine.best("SYM")
        assert best == (None if top is None else tuple(float(Decimal(x)) for x in top))
