"""How liquidity a sim taker consumed comes back when the data does not say.

A recorded depth update restates a level as if the sim had never traded there. Following the data
(the default) therefore refills a consumed level at its next update: right for a small trader, but
it erases a forced liquidation's footprint within one update, so a cascade can never feed on
itself. The decay model keeps what was taken and lets it come back gradually: the taken size
halves every half-life, whatever the data says, so the sim's own price impact persists long enough
for the mark to follow it.
"""

from __future__ import annotations


def decayed(lots: int, elapsed_ns: int, half_life_ns: int) -> int:
    """`lots` taken `elapsed_ns` ago, still missing from the level.

    Exact halving at every whole half-life, linear in between, all in integers, so the figure is
    the same on every machine (a true exponential would need floats or irrational powers).
    """
    if half_life_ns <= 0:
        raise ValueError("half-life must be positive")
    if elapsed_ns <= 0:
        return lots
    halvings, into = divmod(elapsed_ns, half_life_ns)
    if halvings >= lots.bit_length():
        return 0
    high = lots >> halvings
    low = high >> 1
    return high - (high - low) * into // half_life_ns
