"""What the ledger holds: accounts, their one-way positions, and the errors it raises.

Units: quantities are signed integer lots (+ long), prices integer ticks, money integer units of
1e-8 of the settlement currency (`harness.units.MONEY_SCALE`).

`EXTERNAL` stands for everyone outside the simulation, i.e. the recorded book agents trade
against: it takes the other side of `Ledger.apply_fill`, pays no fees, has no margin checks, and
its wallet may go negative. Having it as an account makes "no lots from nowhere" checkable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from harness.units import Side

EXTERNAL: Final = "@market"
SYSTEM_FEE_TIER: Final = ""
"""Fee tier of the venue's own accounts (`EXTERNAL`, the liquidator, the insurance fund): they pay
no trading fees, and no user tier can have this name (`open_account` checks the schedules)."""
DEFAULT_LEVERAGE: Final = 20
"""The venue's default leverage for a symbol an account has not configured."""

OrderId = int | str


class LedgerError(Exception):
    """A request the ledger refuses; its state is unchanged."""


class InsufficientMarginError(LedgerError):
    pass


@dataclass
class Position:
    symbol: str
    leverage: int = DEFAULT_LEVERAGE
    isolated: bool = False
    qty: int = 0
    """Signed lots: positive long, negative short."""
    cost_units: int = 0
    """Signed entry value: qty x average entry, kept exact instead of the average."""
    isolated_wallet: int = 0
    """Units held by an isolated position (its margin, realized PnL and funding)."""
    realized_pnl: int = 0
    fees_paid: int = 0
    funding_paid_units: int = 0


@dataclass
class Account:
    account_id: str
    fee_tier: str = "regular"
    wallet: int = 0
    """Cross wallet balance in units."""
    net_deposits_units: int = 0
    positions: dict[str, Position] = field(default_factory=dict)


def ceil_div(num: int, den: int) -> int:
    return -(-num // den)


def check_side(side: int) -> int:
    if side not in (Side.BUY, Side.SELL):
        raise ValueError(f"side must be +1 (buy) or -1 (sell), got {side}")
    return side
