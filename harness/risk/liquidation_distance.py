"""Liquidation distance net of forced-execution cost.

How far the mark can move against a position before the venue takes it over, less what the
takeover itself would cost: the clearance fee on the liquidation price, and the slippage of
unwinding the whole position through the book as it stands now (a long is sold into the bids,
a short bought from the asks). A small or negative net distance means the next modest move
costs the account its margin *and* a forced exit through a book that cannot absorb it.
Prices in USDT and quantities in base units, as `Fraction`s, like `harness.venue.ledger.margin`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class NetDistance:
    distance: Fraction
    """Mark to liquidation price, positive while the position is safe (price units)."""
    fee: Fraction
    """Clearance fee per unit of the position: fee rate x liquidation price."""
    slippage: Fraction
    """Best price minus the unwind's average price, per unit (>= 0)."""
    unfilled: Fraction
    """Quantity the visible book could not absorb (counted at its last level's price)."""

    @property
    def net(self) -> Fraction:
        return self.distance - self.fee - self.slippage


def unwind_slippage(
    qty: Fraction, levels: Iterable[tuple[Fraction, Fraction]]
) -> tuple[Fraction, Fraction]:
    """(per-unit slippage from the best price, quantity left unfilled) walking `levels` best
    first; what the book cannot take is counted at the last visible price."""
    best: Fraction | None = None
    cost = Fraction(0)
    left = qty
    last = Fraction(0)
    for price, size in levels:
        if best is None:
            best = price
        take = min(left, size)
        cost += take * abs(price - best)
        left -= take
        last = price
        if left == 0:
            break
    if best is None:
        return Fraction(0), qty
    cost += left * abs(last - best)
    return cost / qty, left


def net_liquidation_distance(
    side: int,
    mark: Fraction,
    liquidation_price: Fraction,
    qty: Fraction,
    clearance_fee: Fraction,
    unwind_levels: Iterable[tuple[Fraction, Fraction]],
) -> NetDistance:
    """`side` +1 long (liquidated below the mark), -1 short; `unwind_levels` best first."""
    if side not in (1, -1):
        raise ValueError(f"side must be +1 or -1, got {side}")
    slippage, unfilled = unwind_slippage(qty, unwind_levels)
    return NetDistance(
        distance=side * (mark - liquidation_price),
        fee=clearance_fee * liquidation_price,
        slippage=slippage,
        unfilled=unfilled,
    )
