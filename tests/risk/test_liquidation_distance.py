"""Liquidation distance net of the clearance fee and the unwind's slippage, by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.risk.liquidation_distance import net_liquidation_distance, unwind_slippage

F = Fraction


def test_a_long_unwinds_into_the_bids() -> None:
    bids = [(F(100), F(1)), (F(99), F(1)), (F(97), F(5))]
    # 3 units: 1 at 100 (0 below best), 1 at 99 (1), 1 at 97 (3): slippage 4 / 3 a unit.
    net = net_liquidation_distance(1, F(100), F(90), F(3), F(5, 1000), bids)
    assert (net.distance, net.fee, net.slippage, net.unfilled) == (10, F(45, 100), F(4, 3), 0)
    assert net.net == F(10) - F(45, 100) - F(4, 3)


def test_a_short_unwinds_into_the_asks_and_the_rest_counts_at_the_last_level() -> None:
    asks = [(F(101), F(1)), (F(102), F(1))]
    # 10 units: 0 + 1 for the two visible, 8 more at 102 (1 each): 9 / 10; 8 left unfilled.
    assert unwind_slippage(F(10), asks) == (F(9, 10), F(8))
    net = net_liquidation_distance(-1, F(100), F(110), F(10), F(1, 100), asks)
    assert (net.distance, net.fee, net.net) == (10, F(11, 10), F(10) - F(11, 10) - F(9, 10))


def test_an_empty_book_leaves_everything_unfilled_and_a_bad_side_is_refused() -> None:
    assert unwind_slippage(F(2), []) == (0, 2)
    with pytest.raises(ValueError, match="side"):
        net_liquidation_distance(0, F(1), F(1), F(1), F(0), [])
