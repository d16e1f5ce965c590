"""L2Book against a plain dict and sorted(): the book keeps its order incrementally (a rank list
touched only when levels appear or disappear, best last), and any slip there would show up as a
wrong best, a wrong order, or a stale level."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.venue.exchange.l2book import ASK, BID, L2Book


class _Model:
    """The obvious book: one dict per side, sorted on every read."""

    def __init__(self) -> None:
        self.sides: dict[int, dict[Any, Any]] = {BID: {}, ASK: {}}

    def set_level(self, side: int, price: Any, qty: Any) -> None:
        if qty > 0:
            self.sides[side][price] = qty
        else:
            self.sides[side].pop(price, None)

    def levels(self, side: int, depth: int | None) -> list[tuple[Any, Any]]:
        ordered = sorted(self.sides[side].items(), reverse=side == BID)
        return ordered if depth is None else ordered[:depth]


_SIDES = st.sampled_from((BID, ASK))
_DEPTHS = st.none() | st.integers(0, 12)
_INT_PRICES = st.integers(1, 40)
# Decimal strings as the store parses them, so equal prices are equal floats.
_FLOAT_PRICES = st.integers(1, 40).map(lambda ticks: float(f"{ticks / 10:.1f}"))


def _ops(prices: st.SearchStrategy[Any], sizes: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(
        st.one_of(
            st.tuples(st.just("set"), _SIDES, prices, sizes),
            st.tuples(st.just("levels"), _SIDES, _DEPTHS),
            st.tuples(st.just("clear")),
        ),
        max_size=200,
    )


def _check(book: L2Book[Any, Any], model: _Model) -> None:
    for side in (BID, ASK):
        want = model.levels(side, None)
        assert list(book.levels(side)) == want
        assert book.best(side) == (want[0] if want else None)
        assert book.depth(side) == len(want)
        for price, qty in want:
            assert book.qty_at(side, price) == qty
    assert book.best_bid() == book.best(BID)
    assert book.best_ask() == book.best(ASK)
    bid, ask = model.levels(BID, 1), model.levels(ASK, 1)
    assert book.is_crossed() == bool(bid and ask and bid[0][0] >= ask[0][0])


def _run(ops: list[Any]) -> None:
    book: L2Book[Any, Any] = L2Book()
    model = _Model()
    for op in ops:
        if op[0] == "set":
            _, side, price, qty = op
            book.set_level(side, price, qty)
            model.set_level(side, price, qty)
        elif op[0] == "levels":
            _, side, depth = op
            assert list(book.levels(side, depth)) == model.levels(side, depth)
        else:
            book.clear()
            model = _Model()
        _check(book, model)


@settings(max_examples=300)
@given(_ops(_INT_PRICES, st.integers(-2, 9)))
def test_int_book_matches_sorted_dicts(ops: list[Any]) -> None:
    _run(ops)


@settings(max_examples=300)
@given(_ops(_FLOAT_PRICES, st.integers(-2, 9).map(lambda lots: lots / 4)))
def test_float_book_matches_sorted_dicts(ops: list[Any]) -> None:
    _run(ops)


def test_level_maps_share_the_books_state() -> None:
    """matching.py writes through level_maps; set_level must see exactly those writes."""
    book: L2Book[int, int] = L2Book()
    bids, bid_ranks, asks, ask_ranks = book.level_maps()
    book.set_level(BID, 99, 3)
    book.set_level(ASK, 101, 4)
    book.set_level(ASK, 103, 1)
    assert bids == {99: 3} and bid_ranks == [99]
    assert asks == {101: 4, 103: 1} and ask_ranks == [-103, -101]
    book.clear()
    assert not (bids or bid_ranks or asks or ask_ranks)


def test_negative_depth_is_refused() -> None:
    with pytest.raises(ValueError):
        L2Book[int, int]().levels(BID, -1)
