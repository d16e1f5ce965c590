"""Integers of the journal shown as people read them: prices in USDT, money in USDT.

The journal and the CSV/JSON outputs keep integers (ticks, lots, units of 1e-8 USDT); only the
pages and the console format them, exactly (integer arithmetic, no float rounding). A run's
summary carries each symbol's tick and lot size (`scales`), so a run folder can be formatted
again later without the scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from harness.venue.ledger.instruments import QUOTE_SCALE, Instrument


def scales(instruments: Mapping[str, Instrument]) -> dict[str, dict[str, str]]:
    """The summary's `instruments`: tick and lot size per symbol as exact fractions ("1/10")."""
    return {
        symbol: {"tick_size": str(i.tick_size), "lot_size": str(i.lot_size)}
        for symbol, i in sorted(instruments.items())
    }


def tick_sizes(summary: Mapping[str, Any]) -> dict[str, Fraction]:
    """Tick size per symbol from a summary (empty for runs written before it had them)."""
    found = summary.get("instruments") or {}
    return {symbol: Fraction(str(entry["tick_size"])) for symbol, entry in found.items()}


def decimal_text(value: Fraction, places: int, grouped: bool = True) -> str:
    """`value` rounded half away from zero to `places` decimals, thousands grouped."""
    scale = 10**places
    scaled = abs(value) * scale
    whole = int(scaled + Fraction(1, 2))
    head, tail = divmod(whole, scale)
    text = f"{head:,}" if grouped else str(head)
    if places:
        text += f".{tail:0{places}d}"
    return ("-" if value < 0 and whole else "") + text


def usdt(units: int, places: int = 2) -> str:
    """Units of 1e-8 USDT as USDT: `usdt(123456789) == "1.23"`."""
    return decimal_text(Fraction(units, QUOTE_SCALE), places)


def price_places(tick_size: Fraction) -> int:
    """Decimals that show every multiple of the tick exactly (at most 8)."""
    places = 0
    while (tick_size * 10**places).denominator != 1 and places < 8:
        places += 1
    return places


def price(ticks: int, tick_size: Fraction) -> str:
    """A price in ticks as USDT, with the tick's own decimals: 617001 x 0.1 -> "61,700.1"."""
    return decimal_text(ticks * tick_size, price_places(tick_size))
