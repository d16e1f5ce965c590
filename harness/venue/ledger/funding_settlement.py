"""Settling one funding time: every open position in a symbol pays or receives value x rate.

Payers pay the ceiling and receivers get the floor of their exact amounts
(`funding.funding_payment_units`); open interest nets to zero, so the payments sum to a small
non-negative remainder that goes to the fee pool. Isolated positions settle in their own wallet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.units import Money, RateE8
from harness.venue.ledger.funding import funding_payment_units
from harness.venue.ledger.instruments import Instrument
from harness.venue.ledger.state import Account


@dataclass(frozen=True)
class FundingResult:
    symbol: str
    rate: RateE8
    """Parts per 1e8; positive means longs pay."""
    mark_ticks: int
    payments: dict[str, int]
    """Per account: units paid (negative: received), in account order."""
    remainder_units: Money
    """Rounding remainder credited to the fee pool (never negative)."""


def settle_funding(
    accounts: Iterable[Account], inst: Instrument, rate: int, mark_ticks: int
) -> FundingResult:
    payments: dict[str, int] = {}
    for account in accounts:
        pos = account.positions.get(inst.symbol)
        if pos is None or pos.qty == 0:
            continue
        paid = funding_payment_units(inst.notional_units(pos.qty, mark_ticks), rate)
        if pos.isolated:
            pos.isolated_wallet -= paid
        else:
            account.wallet -= paid
        pos.funding_paid_units += paid
        payments[account.account_id] = paid
    remainder = Money(sum(payments.values()))
    return FundingResult(inst.symbol, RateE8(rate), mark_ticks, payments, remainder)
