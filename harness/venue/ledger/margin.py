"""Margin math (MECHANICS sections 1, 2 and 5.4) as pure functions over exact fractions.

Inputs and outputs are USDT amounts, USDT prices and base-asset quantities as `Fraction`s, the
units the venues write their formulas in, so tests can compare with published examples
directly. Nothing here rounds: the ledger converts its integer units at its boundary and rounds
there (maintenance margin up, against the account). Liquidation prices are exact; a caller that
needs a tick rounds them towards the account (a long's up, a short's down) so the trigger fires
no later than the exact price.

Sides are `Side.BUY` (+1, long) and `Side.SELL` (-1, short).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, TypeVar

from harness.units import Side
from harness.venue.ledger.instruments import Bracket, BracketTable
from harness.venue.ledger.state import check_side

LONG: Final = Side.BUY
"""A long position's side, as `harness calc` names it."""
SHORT: Final = Side.SELL

K = TypeVar("K", bound=Hashable)


def _check_position(qty: Fraction, entry: Fraction) -> None:
    if qty <= 0:
        raise ValueError("quantity must be positive (the side carries the sign)")
    if entry <= 0:
        raise ValueError("entry price must be positive")


def maintenance_margin(notional: Fraction, bracket: Bracket) -> Fraction:
    """notional x MMR - cum with the bracket's rate and maintenance amount."""
    return notional * bracket.mmr - bracket.cum


def initial_margin(notional: Fraction, leverage: int) -> Fraction:
    if leverage < 1:
        raise ValueError("leverage must be at least 1")
    return notional / leverage


def margin_ratio(maintenance: Fraction, margin_balance: Fraction) -> Fraction | None:
    """MM / margin balance; None when the balance is gone (the ratio is unbounded)."""
    if margin_balance <= 0:
        return None
    return maintenance / margin_balance


@dataclass(frozen=True)
class Liquidation:
    """A liquidation estimate. `price` None: no positive mark price triggers liquidation (for a
    short, the account is already under maintenance at every price)."""

    price: Fraction | None
    bankruptcy: Fraction | None
    mmr: Fraction
    cum: Fraction
    tier: int | None
    """The bracket the price lands in; None when MMR and cum were given directly."""

    @classmethod
    def at(
        cls,
        raw: Fraction,
        bankruptcy: Fraction | None,
        mmr: Fraction,
        cum: Fraction,
        tier: int | None,
    ) -> Liquidation:
        """From the unfiltered formula's price: a price at or below zero never triggers."""
        return cls(raw if raw > 0 else None, bankruptcy, mmr, cum, tier)


def liquidation_price_formula(
    side: int,
    qty: Fraction,
    entry: Fraction,
    wallet: Fraction,
    mmr: Fraction,
    cum: Fraction,
    other_mm: Fraction = Fraction(0),
    other_upnl: Fraction = Fraction(0),
) -> Fraction:
    """LP = (WB - TMM1 + UPNL1 + cum - s x Q x EP) / (Q x MMR - s x Q), unfiltered.

    It solves margin balance = maintenance margin at mark LP for one bracket's MMR and cum;
    it may be zero or negative.
    """
    s = check_side(side)
    _check_position(qty, entry)
    if not 0 <= mmr < 1:
        raise ValueError("MMR must be in [0, 1)")
    return (wallet - other_mm + other_upnl + cum - s * qty * entry) / (qty * mmr - s * qty)


def bankruptcy_price(
    side: int,
    qty: Fraction,
    entry: Fraction,
    wallet: Fraction,
    other_upnl: Fraction = Fraction(0),
) -> Fraction | None:
    """The mark at which the margin balance reaches zero; None when no positive price does.

    This is the liquidation formula with MMR = 0 and cum = 0 and without the other positions'
    maintenance margin: bankruptcy is about the balance itself, not about any requirement.
    """
    price = liquidation_price_formula(
        side, qty, entry, wallet, Fraction(0), Fraction(0), Fraction(0), other_upnl
    )
    return price if price > 0 else None


def liquidation_price(
    side: int,
    qty: Fraction,
    entry: Fraction,
    wallet: Fraction,
    brackets: BracketTable,
    other_mm: Fraction = Fraction(0),
    other_upnl: Fraction = Fraction(0),
) -> Liquidation:
    """Liquidation price with the bracket recomputed where the price's notional lands.

    Starts from the bracket of the entry notional and, while Q x LP falls in another bracket,
    recomputes with that bracket's MMR and cum (MECHANICS section 2). Maintenance margin is
    continuous and convex in notional, so margin balance minus maintenance is monotone in the
    price: exactly one bracket is consistent, and after the first step every recompute moves
    LP monotonically towards it, so the loop ends within one pass over the tiers.
    """
    bracket = brackets.bracket_for(qty * entry)
    for _ in range(len(brackets.tiers) + 1):
        raw = liquidation_price_formula(
            side, qty, entry, wallet, bracket.mmr, bracket.cum, other_mm, other_upnl
        )
        landed = brackets.bracket_for(max(Fraction(0), qty * raw))
        if landed == bracket:
            bankruptcy = bankruptcy_price(side, qty, entry, wallet, other_upnl)
            return Liquidation.at(raw, bankruptcy, bracket.mmr, bracket.cum, bracket.tier)
        bracket = landed
    raise AssertionError(f"bracket search did not settle in {brackets.name}")


def liquidation_price_fixed(
    side: int,
    qty: Fraction,
    entry: Fraction,
    wallet: Fraction,
    mmr: Fraction,
    cum: Fraction = Fraction(0),
    other_mm: Fraction = Fraction(0),
    other_upnl: Fraction = Fraction(0),
) -> Liquidation:
    """Liquidation price for one given MMR and cum, with no bracket table to move through."""
    raw = liquidation_price_formula(side, qty, entry, wallet, mmr, cum, other_mm, other_upnl)
    return Liquidation.at(
        raw, bankruptcy_price(side, qty, entry, wallet, other_upnl), mmr, cum, None
    )


def liquidation_price_entry_mm(
    side: int,
    qty: Fraction,
    entry: Fraction,
    wallet: Fraction,
    mmr: Fraction,
    cum: Fraction = Fraction(0),
) -> Liquidation:
    """Isolated liquidation price with maintenance margin fixed at the entry price (Bybit style).

    Bybit states LP = EP - (IM - MM) / Q for a long with MM = Q x EP x MMR: the requirement is
    not re-valued at the liquidation price, so LP sits where the loss eats the wallet down to
    that fixed MM.
    """
    s = check_side(side)
    _check_position(qty, entry)
    fixed_mm = qty * entry * mmr - cum
    raw = entry - s * (wallet - fixed_mm) / qty
    return Liquidation.at(raw, bankruptcy_price(side, qty, entry, wallet), mmr, cum, None)


def binance_adl_score(upnl: Fraction, wallet: Fraction, maintenance: Fraction) -> Fraction:
    """PnL% x margin ratio, the Binance ranking: profitable and thinly margined go first.

    PnL% = max(0, UPnL) / max(1, WB); margin ratio = MM / (WB + UPnL), 0 when that is <= 0.
    """
    if upnl <= 0:
        return Fraction(0)  # PnL% is 0: skip the rest (a crash ranks thousands of losers)
    pnl_pct = upnl / max(Fraction(1), wallet)
    balance = wallet + upnl
    ratio = maintenance / balance if balance > 0 else Fraction(0)
    return pnl_pct * ratio


def bitmex_adl_score(
    side: int, qty: Fraction, entry: Fraction, mark: Fraction, bankruptcy: Fraction
) -> Fraction:
    """PnL% x effective leverage when in profit, PnL% / effective leverage otherwise.

    With signed position values: effective leverage = |mark value| / (mark value - bankrupt
    value) and PnL% = (mark value - entry value) / |entry value|. A position whose mark is past
    bankruptcy has no effective leverage; it belongs to the liquidation engine, not the queue.
    """
    s = check_side(side)
    _check_position(qty, entry)
    mark_value, entry_value, bankrupt_value = s * qty * mark, s * qty * entry, s * qty * bankruptcy
    equity = mark_value - bankrupt_value
    if equity <= 0:
        raise ValueError("mark is at or past the bankruptcy price")
    leverage = abs(mark_value) / equity
    pnl_pct = (mark_value - entry_value) / abs(entry_value)
    return pnl_pct * leverage if pnl_pct > 0 else pnl_pct / leverage


def adl_ranking(scores: Mapping[K, Fraction]) -> list[K]:
    """Keys by score, highest first; equal scores keep the mapping's (insertion) order."""
    return sorted(scores, key=scores.__getitem__, reverse=True)  # reverse keeps ties in order
