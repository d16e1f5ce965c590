"""The ledger's invariant: no money and no lots appear or vanish.

Where money lives: each account's cross wallet, each isolated position's own wallet, the fee
pool, and the open positions' entry value (`Position.cost_units`). At every step, exactly:

    net deposits = sum of cross wallets + sum of isolated wallets + fee pool - sum of costs

summed over every account including `EXTERNAL`. Position quantities of a symbol sum to zero
across all accounts, so the sum of costs equals minus the sum of unrealized PnL at any common
mark: "deposits = everyone's equity at any mark + fee pool". `check` verifies both.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.units import Money
from harness.venue.ledger.state import Account


class ConservationError(AssertionError):
    """Money or lots appeared or vanished: a bug, never a user error."""


def gap(accounts: Iterable[Account], fee_pool_units: int) -> Money:
    """Net deposits minus where the money is; zero unless the ledger has a bug."""
    held = fee_pool_units
    deposits = 0
    for account in accounts:
        deposits += account.net_deposits_units
        held += account.wallet
        for pos in account.positions.values():
            held += pos.isolated_wallet - pos.cost_units
    return Money(deposits - held)


def open_interest_imbalance(accounts: Iterable[Account], symbols: Iterable[str]) -> dict[str, int]:
    """Per symbol, the lots held across all accounts; all zero unless lots were minted."""
    totals = dict.fromkeys(symbols, 0)
    for account in accounts:
        for symbol, pos in account.positions.items():
            totals[symbol] += pos.qty
    return totals


def check(accounts: Iterable[Account], symbols: Iterable[str], fee_pool_units: int) -> None:
    accounts = list(accounts)
    missing = gap(accounts, fee_pool_units)
    if missing:
        raise ConservationError(f"money not conserved: deposits exceed holdings by {missing}")
    bad = {s: q for s, q in open_interest_imbalance(accounts, symbols).items() if q}
    if bad:
        raise ConservationError(f"lots not conserved: {bad}")
