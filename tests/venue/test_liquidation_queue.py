"""Liquidation queue: order by margin ratio then entry time; one start per interval."""

from __future__ import annotations

from fractions import Fraction

import pytest

from harness.venue.liquidation.queue import LiquidationQueue


def test_order_rate_and_waits() -> None:
    queue = LiquidationQueue(rate_per_s=4, rates={"ETH": 1})
    assert queue.interval_ns("BTC") == 250_000_000
    assert queue.push("a", "BTC", Fraction(11, 10), 100) is not None
    assert queue.push("b", "BTC", Fraction(3, 2), 200) is not None
    assert queue.push("c", "BTC", None, 300) is not None  # balance gone: first
    assert queue.push("d", "BTC", Fraction(11, 10), 50) is not None  # same ratio as a, earlier
    assert queue.push("a", "BTC", Fraction(2), 400) is None  # already waiting
    assert (len(queue), queue.length("BTC")) == (4, 4)

    first = queue.pop("BTC", 1_000)
    assert first is not None
    item, entry = first
    assert (item.account_id, entry["wait_ns"], entry["queue_length"]) == ("c", 700, 3)
    assert entry["step"] == "dequeued"
    assert queue.pop("BTC", 1_000 + 249_999_999) is None  # engine still busy
    assert queue.next_free_ns("BTC") == 250_001_000
    order = []
    for k in range(3):
        popped = queue.pop("BTC", 250_001_000 + k * 250_000_000)
        assert popped is not None
        order.append(popped[0].account_id)
    assert order == ["b", "d", "a"]
    assert queue.pop("BTC", 10**12) is None
    assert not queue.waiting("a", "BTC")
    assert queue.interval_ns("ETH") == 1_000_000_000


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LiquidationQueue(rate_per_s=0)
