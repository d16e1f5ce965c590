"""The risk engine: which accounts a new mark makes due for liquidation, without a full scan.

Every position that can be priced alone is indexed by trigger prices from the shared
liquidation-price formula (`margin.liquidation_price_formula`, with MMR and cum divided by the
level, and the same bracket search as `margin.liquidation_price`): the mark at which its margin
ratio reaches a given level. That covers isolated positions (their own wallet) and cross
accounts with one open cross position (the cross wallet). Per symbol the triggers sit in sorted
lists, so a mark only visits the positions whose state it can change:
- the adverse trigger, for the next threshold above the levels the position has passed (the
  next warning level, or 100% once every warning is passed): longs at or above the mark, shorts
  at or below it;
- in the band, the exit trigger for the highest level passed, on the way back.
A position whose exact ratio passes a different number of levels than it did is always past one
of the two (the ratio of a levered position moves monotonically with the mark), so the band
records and the due list are those of an exact check of every account.

A cross account with several open cross positions depends on every mark; its trigger for one
symbol would hold only while the others stay still. Such accounts are kept in a per-symbol set
and checked exactly on every mark of any symbol they hold (the other marks as given).

Triggers are rounded to ticks with one tick of slack towards the side they guard, so the index
always returns a superset; every candidate is then checked exactly with the ledger's margin state
(integers: maintenance rounds up). `last_checked` counts those exact checks, the engine's cost
for the mark.

Indexes depend on positions and balances, not on marks: call `update_account` whenever a fill,
funding, a transfer or a liquidation changes an account's positions or wallets.

Liquidation band: `check` also returns a `margin_call` record each time a position's exact
ratio rises past a warning level (a setting, 80% and 90% by default), once per crossing; falling
back below a level re-arms it (and moves the position's triggers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from sortedcontainers import SortedList

from harness import journal as jk
from harness.units import MONEY_SCALE
from harness.venue.ledger.accounts import SYSTEM_FEE_TIER, Ledger, MarginState
from harness.venue.ledger.instruments import BracketTable
from harness.venue.ledger.margin import liquidation_price_formula
from harness.venue.liquidation.insurance_fund import Record, record

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
        self._thresholds = [*levels, Fraction(1)]
        self._level_terms = [(level.numerator, level.denominator) for level in levels]
        # Per symbol, sorted (trigger ticks, account, scope): adverse triggers of longs and of
        # shorts (the next level up: hit when the mark is at or past them), and exit triggers of
        # longs and of shorts in the band (the level they passed: hit on the way back).
        self._books: tuple[dict[str, SortedList], ...] = ({}, {}, {}, {})
        # Per symbol: keys checked exactly on each of its marks (insertion ordered).
        self._exact: dict[str, dict[Key, None]] = {}
        # Per indexed key: (symbol, side, qty, entry, wallet) to place its triggers from.
        self._geometry: dict[Key, tuple[str, int, Fraction, Fraction, Fraction]] = {}
        # What each key has in the structures, and each account's keys, for removal.
        self._entries: dict[Key, list[tuple[int, str, tuple[int, str, str]]]] = {}
        self._keys: dict[str, list[Key]] = {}
        # Warning levels passed per key (0: none).
        self._band: dict[Key, int] = {}
        self.last_checked = 0

    # -- index maintenance ----------------------------------------------------------------------

    def update_account(self, account_id: str) -> None:
        """Re-index the account from its current positions and wallets."""
        before = self._remove(account_id)
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
            key = (account_id, "")
            self._keys.setdefault(account_id, []).append(key)
            for symbol in cross:
                self._exact.setdefault(symbol, {})[key] = None
                self._entries.setdefault(key, []).append((-1, symbol, (0, *key)))
        kept = self._keys.get(account_id, [])
        for key in before:
            if key not in kept:
                self._band.pop(key, None)  # a closed position leaves the band

    def _index(self, account_id: str, symbol: str, scope: str, wallet: int) -> None:
        ledger = self.ledger
        inst = ledger.instrument(symbol)
        pos = ledger.position(account_id, symbol)
        side = 1 if pos.qty > 0 else -1
        qty = inst.lots_to_qty(abs(pos.qty))
        entry = Fraction(abs(pos.cost_units), MONEY_SCALE) / qty
        key = (account_id, scope)
        self._keys.setdefault(account_id, []).append(key)
        self._geometry[key] = (symbol, side, qty, entry, Fraction(wallet, MONEY_SCALE))
        self._place(key)

    def _place(self, key: Key) -> None:
        """Put the key's triggers in the books: the adverse one for the next threshold (the next
        warning level, or 100%), and in the band the exit one for the level passed."""
        symbol, side, qty, entry, wallet = self._geometry[key]
        inst = self.ledger.instrument(symbol)
        passed = self._band.get(key, 0)
        entries = self._entries.setdefault(key, [])

        def price_at(level: Fraction) -> Fraction | None:
            return level_price(side, qty, entry, wallet, inst.brackets, level)

        adverse = price_at(self._thresholds[passed])
        exit_price = price_at(self._thresholds[passed - 1]) if passed else None
        if (adverse is None or (side < 0 and adverse <= 0)) or (passed and exit_price is None):
            # A short past the level at every price, or a scaled rate at 1: check every mark.
            self._exact.setdefault(symbol, {})[key] = None
            entries.append((-1, symbol, (0, *key)))
            return
        if side > 0 and adverse > 0:
            self._add(entries, 0, symbol, (math.floor(adverse / inst.tick_size) + 1, *key))
        elif side < 0:
            self._add(entries, 1, symbol, (math.ceil(adverse / inst.tick_size) - 1, *key))
        if exit_price is not None:
            ticks = exit_price / inst.tick_size
            if side > 0:
                self._add(entries, 2, symbol, (math.floor(ticks), *key))
            else:
                self._add(entries, 3, symbol, (math.ceil(ticks), *key))

    def _add(
        self,
        entries: list[tuple[int, str, tuple[int, str, str]]],
        book: int,
        symbol: str,
        item: tuple[int, str, str],
    ) -> None:
        self._books[book].setdefault(symbol, SortedList()).add(item)
        entries.append((book, symbol, item))

    def _unplace(self, key: Key) -> None:
        for book, symbol, item in self._entries.pop(key, []):
            if book < 0:
                self._exact[symbol].pop(key, None)
            else:
                self._books[book][symbol].remove(item)

    def _remove(self, account_id: str) -> list[Key]:
        keys = self._keys.pop(account_id, [])
        for key in keys:
            self._unplace(key)
            self._geometry.pop(key, None)
        return keys

    # -- checks on a mark -----------------------------------------------------------------------

    def check(self, symbol: str, marks: Mapping[str, int], ts: int) -> RiskCheck:
        """Positions due at `marks` (whose `symbol` entry is the new mark), highest ratio first
        (a gone balance first, then by account and scope), and the band records."""
        mark = marks[symbol]
        candidates: dict[Key, None] = {}
        longs, shorts, long_exits, short_exits = (book.get(symbol) for book in self._books)
        if longs:
            for _, account_id, scope in longs.islice(longs.bisect_left((mark,))):
                candidates[(account_id, scope)] = None
        if shorts:
            for _, account_id, scope in shorts.islice(0, shorts.bisect_left((mark + 1,))):
                candidates[(account_id, scope)] = None
        if long_exits:
            for _, account_id, scope in long_exits.islice(0, long_exits.bisect_left((mark + 1,))):
                candidates[(account_id, scope)] = None
        if short_exits:
            for _, account_id, scope in short_exits.islice(short_exits.bisect_left((mark,))):
                candidates[(account_id, scope)] = None
        candidates.update(self._exact.get(symbol, {}))
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
        maintenance, balance = state.maintenance, state.margin_balance
        if maintenance == 0:
            passed = 0  # nothing to maintain: a flat position is no warning
        elif balance <= 0:
            passed = len(self.levels)
        else:
            # ratio >= n / d, in integers
            passed = sum(maintenance * d >= n * balance for n, d in self._level_terms)
        before = self._band.get(key, 0)
        if passed == before:
            return []
        if passed:
            self._band[key] = passed
        else:
            self._band.pop(key, None)
        if key in self._geometry:
            self._unplace(key)
            self._place(key)
        if passed < before:
            return []
        ratio = state.ratio
        return [
            record(
                ts,
                jk.MARGIN_CALL,
                key[0],
                symbol,
                level=str(self.levels[n]),
                ratio="inf" if ratio is None else str(ratio),
                mark=mark,
                maintenance=maintenance,
                margin_balance=balance,
                isolated=bool(key[1]),
            )
            for n in range(before, passed)
        ]
