"""Feature extraction on hand-built journals, each value computed by hand in the comments."""

from __future__ import annotations

from fractions import Fraction

from harness.journal import Journal, Record
from harness.risk.activity import ActivityFeatures, is_reject
from harness.risk.exposure import UNBOUNDED_RATIO_PPM, ExposureFeatures
from harness.risk.market_features import MarketFeatures
from harness.risk.market_view import Exposure, depth_within
from tests.risk.hand_view import HandView

S = 1_000_000_000
WINDOW = 10 * S


def test_journal_listeners_hear_every_record_in_order_with_its_fields() -> None:
    journal = Journal()
    heard: list[Record] = []
    journal.append(1, "mark", "", "X", mark=5)  # before subscribing: not heard
    journal.subscribe(heard.append)
    journal.append(2, "fill", "a", "X", qty=3, liquidity="MAKER")
    journal.append(2, "order_cancelled", "a", "X")
    assert heard == [
        Record(2, 1, "fill", "a", "X", {"qty": 3, "liquidity": "MAKER"}),
        Record(2, 2, "order_cancelled", "a", "X", {}),
    ]
    assert list(journal.records(1)) == heard


def test_rejects_are_recognised_by_kind_including_future_ones() -> None:
    assert is_reject("order_rejected") and is_reject("request_throttled")
    assert is_reject("gateway_rejected") and is_reject("rate_limit_reject")
    assert not is_reject("order_cancelled") and not is_reject("fill")


def test_activity_counts_over_the_trailing_window() -> None:
    view = HandView()
    view.depth["X"] = (100, 60)
    journal = Journal()
    features = ActivityFeatures(view, WINDOW, depth_ticks=10)
    journal.subscribe(features.on_record)
    journal.append(1 * S, "order_accepted", "a", "X", qty=30)
    journal.append(1 * S, "order_cancelled", "a", "X")
    journal.append(2 * S, "order_cancelled", "a", "X")
    journal.append(2_500_000_000, "fill", "a", "X", qty=1)
    journal.append(3 * S, "order_cancelled", "a", "X")
    journal.append(4 * S, "order_rejected", "a", "X")
    journal.append(4_500_000_000, "gateway_rejected", "a", "X")
    journal.append(4_500_000_000, "mark", "", "X", mark=7)  # venue-wide: no account
    assert features.sample(5 * S) == {
        "a": {
            "cancel_rate": 3,
            "cancel_fill_ratio": 1_500_000,  # 3 cancels / (1 fill + 1)
            "reject_rate": 2,
            "order_depth_share": 500_000,  # 30 lots / 60 on the thinner side
        }
    }
    # (2.5 s, 12.5 s]: the cancel at 3 s and both rejects; the fill at 2.5 s has left.
    assert features.sample(12_500_000_000) == {
        "a": {
            "cancel_rate": 1,
            "cancel_fill_ratio": 1_000_000,
            "reject_rate": 2,
            "order_depth_share": 0,
        }
    }
    assert features.sample(30 * S) == {}  # nothing in the window: not sampled at all


def test_exposure_per_account_and_venue_wide_shares() -> None:
    view = HandView()
    view.exposures = {
        "a": Exposure(maintenance=40, margin_balance=100, notional=1_000),  # 0.4, 10x
        "b": Exposure(maintenance=60, margin_balance=100, notional=2_000),  # 0.6, 20x
        "c": Exposure(maintenance=10, margin_balance=0, notional=500),  # balance gone
        "flat": Exposure(maintenance=0, margin_balance=100, notional=0),
    }
    journal = Journal()
    features = ExposureFeatures(view, WINDOW, Fraction(1, 2), Fraction(5, 100))
    journal.subscribe(features.on_record)
    for account in ("a", "b", "c", "flat"):
        journal.append(1 * S, "position", account, "X", before=0, after=1)
    accounts, venue = features.sample(1 * S)
    assert accounts == {
        "a": {"margin_ratio": 400_000, "leverage": 10_000_000},
        "b": {"margin_ratio": 600_000, "leverage": 20_000_000},
        "c": {"margin_ratio": UNBOUNDED_RATIO_PPM, "leverage": 1_000_000_000},
    }
    # b and c are at or above 0.5 of 3 accounts; nothing has risen yet (one sample each).
    assert venue == {"near_margin_share": 666_666, "margin_rising_share": 0}
    view.exposures["b"] = Exposure(maintenance=70, margin_balance=100, notional=2_000)
    _, venue = features.sample(2 * S)
    assert venue == {"near_margin_share": 666_666, "margin_rising_share": 333_333}  # b: +0.1
    # The rise is measured over the window only: 11 s later the 0.6 sample has left it.
    _, venue = features.sample(12 * S)
    assert venue["margin_rising_share"] == 0


def test_market_path_thinness_and_funding_gap() -> None:
    view = HandView()
    view.depth["X"] = (100, 60)
    journal = Journal()
    features = MarketFeatures(view, WINDOW, depth_ticks=10)
    journal.subscribe(features.on_record)
    for second, mark in ((1, 100), (2, 103), (3, 99)):
        journal.append(second * S, "mark", "", "X", mark=mark, last=mark)
    assert features.sample(4 * S) == {
        "X": {"realized_vol": 7, "book_thinness": 6_211}  # |+3| + |-4|; 1e6 // 161
    }
    # Before any settlement the premium index stands in for the funding rate.
    view.premiums_e8["X"] = 4_000
    assert features.sample(4 * S)["X"]["funding_vol_gap"] == 500  # 4000 // (7 + 1)
    journal.append(5 * S, "funding", "a", "X", rate_e8=-5_000, mark=99, paid=1)
    assert features.sample(5 * S)["X"]["funding_vol_gap"] == 625  # |-5000| // (7 + 1): settled wins
    # 12 s: the moves at 2 s and 3 s have left the window.
    assert features.sample(13 * S)["X"]["realized_vol"] == 0


def test_depth_near_the_touch_stops_after_n_ticks() -> None:
    bids = [(1000, 5), (999, 1), (995, 2), (994, 7)]
    assert depth_within(iter(bids), -1, 5) == 8  # 1000, 999, 995 are within 5 ticks
    asks = [(1001, 3), (1002, 4), (1012, 9)]
    assert depth_within(iter(asks), 1, 10) == 7
    assert depth_within(iter([]), 1, 10) == 0
