"""Units of time, money, prices and quantities, and the one `Side`.

Inside the venue everything is an integer: time in nanoseconds since the Unix epoch, prices in
ticks of the instrument, quantities in lots, money in 1e-8 of the settlement currency, rates in
parts per 1e8. The `NewType`s below cost nothing at run time; they let mypy tell a price in ticks
from a quantity in lots where both are `int`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final, NewType

NS_PER_US: Final = 1_000
NS_PER_MS: Final = 1_000_000
NS_PER_S: Final = 1_000_000_000
NS_PER_MINUTE: Final = 60 * NS_PER_S
NS_PER_HOUR: Final = 3_600 * NS_PER_S
NS_PER_DAY: Final = 24 * NS_PER_HOUR

MONEY_SCALE: Final = 10**8
"""Money units per whole currency unit (USDT, or the coin of an inverse contract)."""
RATE_SCALE: Final = 10**8
"""Rate units per 1 (a fee of 0.02% is 20_000)."""

Nanos = NewType("Nanos", int)
"""An instant (ns since the Unix epoch) or a duration in ns."""
Ticks = NewType("Ticks", int)
"""A price as a whole number of the instrument's tick size."""
Lots = NewType("Lots", int)
"""A quantity as a whole number of the instrument's lot size (signed where it is a position)."""
Money = NewType("Money", int)
"""An amount in 1e-8 of the settlement currency."""
RateE8 = NewType("RateE8", int)
"""A rate in parts per 1e8."""


class Side(IntEnum):
    """The sign of an order or a position: BUY (long, the book's bid side) is +1, SELL is -1.

    An `IntEnum` so that `qty * side` and journal fields stay plain integers.
    """

    BUY = 1
    SELL = -1
