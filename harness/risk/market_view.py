"""The monitor's read-only window on the venue: book depth near the touch, mid, and exposure.

The monitor needs a little live state the journal does not carry at every instant; this keeps
it to three questions instead of handing it the venue. Tests answer them from hand-built books.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from harness.units import RATE_SCALE
from harness.venue.exchange.l2book import ASK, BID
from harness.venue.ledger.accounts import SYSTEM_FEE_TIER
from harness.venue.venue import Venue


@dataclass(frozen=True)
class Exposure:
    """An account's margin state at the current marks, in money units."""

    maintenance: int
    margin_balance: int
    notional: int
    """Sum of the absolute position notionals at mark."""

    @property
    def ratio(self) -> Fraction | None:
        """MM / margin balance; None when the balance is gone."""
        return Fraction(self.maintenance, self.margin_balance) if self.margin_balance > 0 else None

    @property
    def leverage(self) -> Fraction | None:
        return Fraction(self.notional, self.margin_balance) if self.margin_balance > 0 else None


class MarketView(Protocol):
    def mid2(self, symbol: str) -> int | None:
        """Best bid + best ask in ticks (twice the mid, an integer); None with a side empty."""

    def depth_near_touch(self, symbol: str, ticks: int) -> tuple[int, int]:
        """Lots resting within `ticks` of each side's best price: (bids, asks)."""

    def exposure(self, account: str) -> Exposure | None:
        """The account's margin state; None for venue accounts, or before every mark is known."""

    def premium_e8(self, symbol: str) -> int | None:
        """The latest premium index sample in 1e-8 (what funding drifts toward); None before
        the first sample of the funding interval."""


class VenueMarketView:
    """`MarketView` over a running venue."""

    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def mid2(self, symbol: str) -> int | None:
        return self._venue.markets[symbol].mid2(self._venue.env.now)

    def depth_near_touch(self, symbol: str, ticks: int) -> tuple[int, int]:
        book = self._venue.markets[symbol].engine.book
        return depth_within(book.levels(BID), -1, ticks), depth_within(book.levels(ASK), 1, ticks)

    def premium_e8(self, symbol: str) -> int | None:
        premiums = self._venue.markets[symbol].premiums
        return int(premiums[-1] * RATE_SCALE) if premiums else None

    def exposure(self, account: str) -> Exposure | None:
        venue = self._venue
        ledger = venue.ledger
        if account not in ledger.accounts or ledger.account(account).fee_tier == SYSTEM_FEE_TIER:
            return None
        marks = venue.marks
        if len(marks) < len(venue.markets):
            return None
        state = ledger.margin_state(account, marks)
        maintenance, balance, notional = state.maintenance, state.margin_balance, 0
        for symbol, pos in ledger.account(account).positions.items():
            if not pos.qty:
                continue
            inst = ledger.instrument(symbol)
            notional += abs(inst.notional_units(pos.qty, marks[symbol]))
            if pos.isolated:
                own = ledger.isolated_margin_state(account, symbol, marks[symbol])
                maintenance += own.maintenance
                balance += own.margin_balance
        return Exposure(maintenance, balance, notional)


def depth_within(levels: Iterable[tuple[int, int]], direction: int, ticks: int) -> int:
    """Lots on one side from its best price out to `ticks` away (`direction` -1 for bids)."""
    total, best = 0, None
    for price, qty in levels:
        if best is None:
            best = price
        if (price - best) * direction > ticks:
            break
        total += qty
    return total
