"""An account's margin at given marks: unrealized PnL, maintenance and initial margin, summed.

Maintenance and initial margin requirements round up, against the account. A cross account is
all its cross positions against the cross wallet; an isolated position is itself against its own
wallet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from harness.units import Money
from harness.venue.ledger.instruments import Instrument
from harness.venue.ledger.state import Account, Position, ceil_div

REJECT_MARGIN: Final = "insufficient_margin"
REJECT_LEVERAGE: Final = "leverage_above_bracket_max"


@dataclass(frozen=True)
class MarginState:
    maintenance: int
    margin_balance: int

    @property
    def ratio(self) -> Fraction | None:
        """MM / margin balance; None when the balance is not positive (unbounded)."""
        if self.margin_balance <= 0:
            return None
        return Fraction(self.maintenance, self.margin_balance)

    @property
    def liquidatable(self) -> bool:
        """Margin ratio at or above 100% with something to maintain."""
        return self.maintenance > 0 and self.margin_balance <= self.maintenance


@dataclass(frozen=True)
class MarginCheck:
    ok: bool
    required_units: int
    """Extra initial margin the order adds to the account's open-order margin."""
    available_units: int
    reason: str | None = None


def upnl(inst: Instrument, pos: Position, mark: int) -> Money:
    return Money(inst.notional_units(pos.qty, mark) - pos.cost_units)


def maintenance(inst: Instrument, pos: Position, mark: int) -> Money:
    if pos.qty == 0:
        return Money(0)
    return inst.brackets.maintenance_units(abs(inst.notional_units(pos.qty, mark)))


def position_initial(inst: Instrument, pos: Position, mark: int) -> Money:
    """The position's initial margin at the mark and its leverage setting."""
    return Money(ceil_div(abs(inst.notional_units(pos.qty, mark)), pos.leverage))


@dataclass
class CrossSums:
    maintenance: int = 0
    upnl: int = 0
    initial: int = 0


def cross_sums(
    instruments: Mapping[str, Instrument],
    account: Account,
    marks: Mapping[str, int],
    skip: Position | None = None,
) -> CrossSums:
    """Maintenance, unrealized PnL and initial margin of the account's open cross positions
    (all but `skip`)."""
    sums = CrossSums()
    for symbol, pos in account.positions.items():
        if pos.qty and not pos.isolated and pos is not skip:
            inst, mark = instruments[symbol], marks[symbol]
            sums.maintenance += maintenance(inst, pos, mark)
            sums.upnl += upnl(inst, pos, mark)
            sums.initial += position_initial(inst, pos, mark)
    return sums
