"""Decayed consumed liquidity: exact halvings, linear in between, never negative or growing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.venue.exchange.replenishment import decayed

H = 4_000_000_000  # a 4 s half-life


def test_whole_half_lives_halve_and_the_middle_is_linear() -> None:
    assert decayed(1000, 0, H) == 1000
    assert decayed(1000, H, H) == 500
    assert decayed(1000, 2 * H, H) == 250
    # Halfway through the first half-life: 1000 - (1000 - 500) / 2.
    assert decayed(1000, H // 2, H) == 750
    # A quarter into the third: 250 - (250 - 125) / 4 = 218.75; what came back (31.25) is
    # floored, so 219 lots are still missing.
    assert decayed(1000, 2 * H + H // 4, H) == 219
    # 1000 lots are gone after ten halvings (1000 >> 10 == 0).
    assert decayed(1000, 10 * H, H) == 0
    assert decayed(1, H, H) == 0


@settings(max_examples=300, derandomize=True)
@given(lots=st.integers(0, 10**9), a=st.integers(0, 50 * H), b=st.integers(0, 50 * H))
def test_decay_never_grows_and_stays_in_range(lots: int, a: int, b: int) -> None:
    early, late = sorted((a, b))
    assert 0 <= decayed(lots, late, H) <= decayed(lots, early, H) <= lots


def test_half_life_must_be_positive() -> None:
    with pytest.raises(ValueError, match="half-life"):
        decayed(10, 1, 0)
