"""One leg of a fill applied to one account's position: the closed part, the opened part, the fee.

Rounding, each moving units between two terms of the conservation identity (`conservation`) so
none is created or lost:
- Reducing a position releases a share of its cost rounded up (towards +infinity), so realized
  PnL rounds down, against the account; the rest stays in the cost until the position is flat.
- Fees: `fees.fee_units` (charges up, rebates towards zero), paid to the fee pool.
- Isolated margin moved in on opening rounds up; released on a partial reduce it rounds down
  (the rest stays isolated).

Isolated positions: opening moves initial margin from the cross wallet into the position's wallet;
realized PnL settles in the isolated wallet; reducing moves the released share back. Fees are
always paid from the cross wallet. An isolated loss never spills into the cross wallet: a deficit
left on a flat position stays there for the liquidation layer (insurance fund) to clear.

A fill, the result of an accepted order, is never refused, even if it leaves a wallet negative.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.units import Lots, Money, Ticks
from harness.venue.ledger.fees import fee_units
from harness.venue.ledger.instruments import Instrument
from harness.venue.ledger.state import SYSTEM_FEE_TIER, Account, Position, ceil_div


@dataclass(frozen=True)
class FillResult:
    account_id: str
    symbol: str
    side: int
    qty_lots: Lots
    price_ticks: Ticks
    is_maker: bool
    fee: Money
    """Paid (negative: rebate received)."""
    realized_pnl: Money
    position_before: Lots
    position_after: Lots
    closed_lots: Lots
    opened_lots: Lots


def _close(
    account: Account, pos: Position, inst: Instrument, side: int, closed: int, price: int
) -> int:
    """Reduce by `closed` lots at `price`; returns the realized PnL."""
    before = abs(pos.qty)
    # A long's cost is positive and a short's negative; rounding the released share up lowers the
    # realized PnL of both.
    released = pos.cost_units if closed == before else ceil_div(pos.cost_units * closed, before)
    realized = inst.notional_units(-side * closed, price) - released
    pos.cost_units -= released
    pos.qty += side * closed
    pos.realized_pnl += realized
    if not pos.isolated:
        account.wallet += realized
        return realized
    pos.isolated_wallet += realized
    back = pos.isolated_wallet if pos.qty == 0 else pos.isolated_wallet * closed // before
    back = max(0, back)
    pos.isolated_wallet -= back
    account.wallet += back
    return realized


def _open(
    account: Account, pos: Position, inst: Instrument, side: int, opened: int, price: int
) -> None:
    pos.cost_units += inst.notional_units(side * opened, price)
    pos.qty += side * opened
    if pos.isolated:
        margin = ceil_div(inst.notional_units(opened, price), pos.leverage)
        account.wallet -= margin
        pos.isolated_wallet += margin


def apply_leg(
    account: Account,
    inst: Instrument,
    side: int,
    qty: int,
    price: int,
    is_maker: bool,
    charge_fee: bool,
) -> FillResult:
    """Apply one side of a trade; the fee in the result is what the caller adds to the fee pool.

    The account's position in the symbol is created flat (default settings) if it has none."""
    pos = account.positions.get(inst.symbol)
    if pos is None:
        pos = account.positions[inst.symbol] = Position(inst.symbol)
    before = pos.qty
    closed = min(qty, abs(before)) if before * side < 0 else 0
    opened = qty - closed
    realized = _close(account, pos, inst, side, closed, price) if closed else 0
    if opened:
        _open(account, pos, inst, side, opened, price)
    fee = 0
    if charge_fee and account.fee_tier != SYSTEM_FEE_TIER:
        rate = inst.fees.rate(account.fee_tier, is_maker)
        fee = fee_units(inst.notional_units(qty, price), rate)
        account.wallet -= fee
        pos.fees_paid += fee
    return FillResult(
        account_id=account.account_id,
        symbol=inst.symbol,
        side=side,
        qty_lots=Lots(qty),
        price_ticks=Ticks(price),
        is_maker=is_maker,
        fee=Money(fee),
        realized_pnl=Money(realized),
        position_before=Lots(before),
        position_after=Lots(pos.qty),
        closed_lots=Lots(closed),
        opened_lots=Lots(opened),
    )
