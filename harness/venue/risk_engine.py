"""The risk engine: which accounts a new mark makes due for liquidation, without a full scan.

Every position that can be priced alone is indexed by its watch trigger: the mark at which its
margin ratio reaches the lowest warning level (100% when there are no warning levels), from the
shared liquidation-price formula (`margin.liquidation_price_formula`, with MMR and cum divided by
the level, and the same bracket search as `margin.liquidation_price`). That covers isolated
positions (their own wallet) and cross accounts with one open cross position (the cross wallet).
Per symbol and side the triggers sit in a sorted list, so a mark only visits the positions past
their trigger: longs whose trigger is at or above the mark, shorts at or below it.

A cross account with several open cross positions depends on every mark; its trigger for one
symbol would hold only while the others stay still. Such accounts are kept in a per-symbol set
and checked exactly on every mark of any symbol they hold (the other marks as given).

Triggers are rounded to ticks with one tick of slack towards the mark (a long's floor + 1, a
short's ceil - 1), so the index always returns a superset; every candidate is then checked
exactly with the ledger's margin state, which rounds maintenance up. `last_checked` counts those
exact checks, the engine's cost for the mark.

Indexes depend on positions and balances, not on marks: call `update_account` whenever a fill,
funding, a transfer or a liquidation changes an account's positions or wallets.

Liquidation band: `check` also returns a `margin_call` record each time a position's exact
ratio rises past a warning level (a setting, 80% and 90% by default), once per crossing; falling
back below a level re-arms it. Checks only see positions past their watch trigger, which is why
the index is built for the lowest warning level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from sortedcontainers import SortedList

from harness import journal as jk
from harness.venue.accounts import SYSTEM_FEE_TIER, Ledger, MarginState
from harness.venue.instruments import QUOTE_SCALE, BracketTable
from harness.venue.insurance_fund import Record, record
from harness.venue.margin import liquidation_price_formula

Key = tuple[str, str]
"""(account id, symbol) for an isolated position, (account id, "") for a cross account."""

DEFAULT_WARNING_LEVELS = (Fraction(8, 10), Fraction(9, 10))


@dataclass(frozen=True)
class Due:
    account_id: str
    symbol: str
    """The symbol whose mark made it due (the position the liquidator starts with)."""
    isolated: bool
    ratio: Fraction | None
    """Margin ratio; None when the margin balance is not positive."""


@dataclass(frozen=True)
class RiskCheck:
    due: list[Due]
    records: list[Record]


def level_price(
    side: int,
    qty: Fraction,
    entry: Fraction,
    wallet: Fraction,
    brackets: BracketTable,
    level: Fraction,
) -> Fraction | None:
    """The mark at which MM / margin balance reaches `level`, for a position priced alone.

    MM = balance x level is the liquidation condition with MMR and cum divided by the level, so
    this is `margin.liquidation_price` with a scaled table. The result may be zero or negative:
    a long never reaches the level, a short is past it at every price. None when a scaled MMR
    reaches 1 and the formula does not apply (the caller checks such positions exactly)."""
    bracket = brackets.bracket_for(qty * entry)
    for _ in range(len(brackets.tiers) + 1):
        mmr = bracket.mmr / level
        if mmr >= 1:
            return None
        raw = liquidation_price_formula(side, qty, entry, wallet, mmr, bracket.cum / level)
        landed = brackets.bracket_for(max(Fraction(0), qty * raw))
        if landed == bracket:
            return raw
        bracket = landed
    raise AssertionError(f"bracket search did not settle in {brackets.name}")


class RiskEngine:
    def __init__(
        self, ledger: Ledger, warning_levels: Sequence[Fraction] = DEFAULT_WARNING_LEVELS
    ) -> None:
        levels = sorted(warning_levels)
        if any(not 0 < level < 1 for level in levels):
            raise ValueError("warning levels must lie strictly between 0 and 1")
        self.ledger = ledger
        self.levels = levels
        self._watch = levels[0] if levels else Fraction(1)
        # Per symbol: (trigger ticks, account, scope) for longs and for shorts.
        self._longs: dict[str, SortedList] = {}
        self._shorts: dict[str, SortedList] = {}
        # Per symbol: keys checked exactly on each of its marks (insertion ordered).
        self._exact: dict[str, dict[Key, None]] = {}
        # What each account has in the structures, so an update can take it out.
        self._entries: dict[str, list[tuple[str, bool, tuple[int, str, str]]]] = {}
        self._exact_of: dict[str, list[tuple[str, Key]]] = {}
        # Warning levels passed per key (0: none), and the keys above 0 per symbol.
        self._band: dict[Key, int] = {}
        self._banded: dict[str, dict[Key, None]] = {}
        self.last_checked = 0

    # -- index maintenance ----------------------------------------------------------------------

    def update_account(self, account_id: str) -> None:
        """Re-index the account from its current positions and wallets."""
        self._remove(account_id)
        account = self.ledger.account(account_id)
        if account.fee_tier == SYSTEM_FEE_TIER:
            return  # the outside market and the venue's own accounts are never liquidated
        cross: list[str] = []
        for symbol, pos in account.positions.items():
            if not pos.qty:
                continue
            if pos.isolated:
                self._index(account_id, symbol, symbol, pos.isolated_wallet)
            else:
                cross.append(symbol)
        if len(cross) == 1:
            self._index(account_id, cross[0], "", account.wallet)
        elif cross:
            for symbol in cross:
                self._exact.setdefault(symbol, {})[(account_id, "")] = None
                self._exact_of.setdefault(account_id, []).append((symbol, (account_id, "")))

    def _index(self, account_id: str, symbol: str, scope: str, wallet: int) -> None:
        ledger = self.ledger
        inst = ledger.instrument(symbol)
        pos = ledger.position(account_id, symbol)
        side = 1 if pos.qty > 0 else -1
        qty = inst.lots_to_qty(abs(pos.qty))
        entry = Fraction(abs(pos.cost), QUOTE_SCALE) / qty
        price = level_price(
            side, qty, entry, Fraction(wallet, QUOTE_SCALE), inst.brackets, self._watch
        )
        key = (account_id, scope)
        if price is not None and side > 0 and price <= 0:
            return  # no positive mark takes this long to the level
        if price is None or price <= 0:
            # A short past the level at every price, or a scaled rate at 1: check every mark.
            self._exact.setdefault(symbol, {})[key] = None
            self._exact_of.setdefault(account_id, []).append((symbol, key))
            return
        ticks = price / inst.tick_size
        if side > 0:
            item, book = (math.floor(ticks) + 1, account_id, scope), self._longs
        else:
            item, book = (math.ceil(ticks) - 1, account_id, scope), self._shorts
        book.setdefault(symbol, SortedList()).add(item)
        self._entries.setdefault(account_id, []).append((symbol, side > 0, item))

    def _remove(self, account_id: str) -> None:
        for symbol, is_long, item in self._entries.pop(account_id, []):
            (self._longs if is_long else self._shorts)[symbol].remove(item)
        for symbol, key in self._exact_of.pop(account_id, []):
            self._exact[symbol].pop(key, None)

    # -- checks on a mark -----------------------------------------------------------------------

    def check(self, symbol: str, marks: Mapping[str, int], ts: int) -> RiskCheck:
        """Positions due at `marks` (whose `symbol` entry is the new mark), highest ratio first
        (a gone balance first, then by account and scope), and the band records."""
        mark = marks[symbol]
        candidates: dict[Key, None] = {}
        longs, shorts = self._longs.get(symbol), self._shorts.get(symbol)
        if longs:
            for _, account_id, scope in longs.islice(longs.bisect_left((mark,))):
                candidates[(account_id, scope)] = None
        if shorts:
            for _, account_id, scope in shorts.islice(0, shorts.bisect_left((mark + 1,))):
                candidates[(account_id, scope)] = None
        candidates.update(self._exact.get(symbol, {}))
        candidates.update(self._banded.get(symbol, {}))
        self.last_checked = len(candidates)
        due: list[Due] = []
        records: list[Record] = []
        for key in candidates:
            state = self._state(key, marks)
            records += self._band_records(key, symbol, state, mark, ts)
            if state.liquidatable:
                due.append(Due(key[0], symbol, bool(key[1]), state.ratio))
        due.sort(key=lambda d: (d.ratio is not None, -(d.ratio or 0), d.account_id, d.isolated))
        return RiskCheck(due, records)

    def _state(self, key: Key, marks: Mapping[str, int]) -> MarginState:
        account_id, scope = key
        if scope:
            return self.ledger.isolated_margin_state(account_id, scope, marks[scope])
        return self.ledger.margin_state(account_id, marks)

    def _band_records(
        self, key: Key, symbol: str, state: MarginState, mark: int, ts: int
    ) -> list[Record]:
        ratio = state.ratio
        if state.maintenance == 0:
            passed = 0  # nothing to maintain: a flat position is no warning
        elif ratio is None:
            passed = len(self.levels)
        else:
            passed = sum(ratio >= level for level in self.levels)
        before = self._band.get(key, 0)
        banded = self._banded.setdefault(symbol, {})
        if passed:
            self._band[key] = passed
            banded[key] = None
        else:
            self._band.pop(key, None)
            banded.pop(key, None)
        return [
            record(
                ts,
                jk.MARGIN_CALL,
                key[0],
                symbol,
                level=str(self.levels[n]),
                ratio="inf" if ratio is None else str(ratio),
                mark=mark,
                maintenance=state.maintenance,
                margin_balance=state.margin_balance,
                isolated=bool(key[1]),
            )
            for n in range(before, passed)
        ]
