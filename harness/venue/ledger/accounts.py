"""The ledger: accounts, positions, open-order reservations and the fee pool, kept conserved.

`Ledger` is the one door to the venue's money; the rules live one concept per module:
`state` (accounts, positions, errors), `fills` (one leg of a fill, with its rounding),
`open_orders` (reservations and their margin), `margin_state` (sums at given marks),
`funding_settlement` and `conservation` (the invariant, checked exactly). Marks are given per
symbol in ticks, money in units of 1e-8 of the settlement currency.

The venue's own accounts (`open_system_account`: the liquidator, the insurance fund) are ordinary
accounts with the fee-free `SYSTEM_FEE_TIER`, so conservation counts their money with no extra
term. Checks belong to order entry (`initial_margin_check`); a fill, the result of an accepted
order, is never refused, even if it leaves a wallet negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import TypeVar

from harness.units import MONEY_SCALE, Money, Side
from harness.venue.ledger import conservation
from harness.venue.ledger.conservation import ConservationError
from harness.venue.ledger.fills import FillResult, apply_leg
from harness.venue.ledger.funding_settlement import FundingResult, settle_funding
from harness.venue.ledger.instruments import Instrument
from harness.venue.ledger.margin import Liquidation, liquidation_price
from harness.venue.ledger.margin_state import (
    REJECT_LEVERAGE,
    REJECT_MARGIN,
    MarginCheck,
    MarginState,
    cross_sums,
    maintenance,
    position_initial,
    upnl,
)
from harness.venue.ledger.open_orders import OpenOrder, OpenOrders, order_margin
from harness.venue.ledger.state import (
    DEFAULT_LEVERAGE,
    EXTERNAL,
    SYSTEM_FEE_TIER,
    Account,
    InsufficientMarginError,
    LedgerError,
    OrderId,
    Position,
    check_side,
)

__all__ = [
    "DEFAULT_LEVERAGE",
    "EXTERNAL",
    "REJECT_LEVERAGE",
    "REJECT_MARGIN",
    "SYSTEM_FEE_TIER",
    "Account",
    "ConservationError",
    "FillResult",
    "FundingResult",
    "InsufficientMarginError",
    "Ledger",
    "LedgerError",
    "MarginCheck",
    "MarginState",
    "OpenOrder",
    "OrderId",
    "Position",
]

T = TypeVar("T")


def _known(items: Mapping[str, T], key: str, what: str) -> T:
    try:
        return items[key]
    except KeyError:
        raise LedgerError(f"unknown {what} {key!r}") from None


class Ledger:
    """The venue's books: accounts, positions, open-order reservations and the fee pool."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.instruments: dict[str, Instrument] = {i.symbol: i for i in instruments}
        self.accounts: dict[str, Account] = {EXTERNAL: Account(EXTERNAL, fee_tier=SYSTEM_FEE_TIER)}
        self.fee_pool_units = 0
        self._orders = OpenOrders()

    # -- set-up -------------------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        return _known(self.instruments, symbol, "symbol")

    def set_instrument(self, instrument: Instrument) -> None:
        """Add or replace a symbol's definition, e.g. a scenario cutting tiers mid-run.

        The grid must stay the same: positions and orders are counted in its ticks and lots."""
        old = self.instruments.get(instrument.symbol)
        if old is not None and (old.tick_size, old.lot_size) != (
            instrument.tick_size,
            instrument.lot_size,
        ):
            raise LedgerError(f"{instrument.symbol}: tick or lot size cannot change mid-run")
        self.instruments[instrument.symbol] = instrument

    def open_account(self, account_id: str, fee_tier: str = "regular") -> Account:
        for inst in self.instruments.values():
            inst.fees.tier(fee_tier)
        return self._new_account(account_id, fee_tier)

    def open_system_account(self, account_id: str) -> Account:
        """An account of the venue itself (liquidator, insurance fund): fee-free, counted in
        conservation like every other account."""
        return self._new_account(account_id, SYSTEM_FEE_TIER)

    def _new_account(self, account_id: str, fee_tier: str) -> Account:
        if account_id in self.accounts:
            raise LedgerError(f"account {account_id!r} exists")
        account = self.accounts[account_id] = Account(account_id, fee_tier=fee_tier)
        return account

    def account(self, account_id: str) -> Account:
        return _known(self.accounts, account_id, "account")

    def _internal(self, account_id: str) -> Account:
        if account_id == EXTERNAL:
            raise LedgerError("the external market account is not traded or funded directly")
        return self.account(account_id)

    def position(self, account_id: str, symbol: str) -> Position:
        """The account's position in `symbol`, created flat (with default settings) if new."""
        account = self.account(account_id)
        self.instrument(symbol)
        pos = account.positions.get(symbol)
        if pos is None:
            pos = account.positions[symbol] = Position(symbol)
        return pos

    # -- wallets and transfers ----------------------------------------------------------------

    def deposit(self, account_id: str, amount: int) -> None:
        if amount <= 0:
            raise LedgerError("deposit must be positive")
        account = self._internal(account_id)
        account.wallet += amount
        account.net_deposits_units += amount

    def withdraw(self, account_id: str, amount: int, marks: Mapping[str, int]) -> None:
        """Unrealized profit backs new positions but cannot be withdrawn, hence the wallet cap."""
        account = self._internal(account_id)
        if amount <= 0:
            raise LedgerError("withdrawal must be positive")
        limit = min(account.wallet, self.available_balance(account_id, marks))
        if amount > limit:
            raise InsufficientMarginError(f"{account_id}: can withdraw at most {limit} units")
        account.wallet -= amount
        account.net_deposits_units -= amount

    def set_leverage(self, account_id: str, symbol: str, leverage: int) -> None:
        self._internal(account_id)
        pos = self.position(account_id, symbol)
        notional = Fraction(abs(pos.cost_units), MONEY_SCALE)
        limit = self.instrument(symbol).brackets.bracket_for(notional).max_leverage
        if not 1 <= leverage <= limit:
            raise LedgerError(f"{symbol}: leverage {leverage} outside 1..{limit} at this size")
        pos.leverage = leverage

    def set_margin_mode(self, account_id: str, symbol: str, isolated: bool) -> None:
        self._internal(account_id)
        pos = self.position(account_id, symbol)
        if pos.isolated == isolated:
            return
        if pos.qty or pos.isolated_wallet or any(self._orders.of(account_id, symbol)):
            raise LedgerError(f"{symbol}: margin mode changes only when flat, with no orders")
        pos.isolated = isolated

    def adjust_isolated_margin(
        self, account_id: str, symbol: str, amount: int, marks: Mapping[str, int]
    ) -> None:
        """Move `amount` units into (positive) or out of (negative) an isolated position.

        Removal keeps the position's initial margin and covers its unrealized loss."""
        account = self._internal(account_id)
        pos = self.position(account_id, symbol)
        if not pos.isolated or pos.qty == 0:
            raise LedgerError(f"{symbol}: no isolated position to adjust")
        if amount > 0:
            available = self.available_balance(account_id, marks)
            if amount > available:
                raise InsufficientMarginError(f"{account_id}: only {available} units available")
        elif amount < 0:
            inst, mark = self.instrument(symbol), marks[symbol]
            loss = min(0, upnl(inst, pos, mark))
            removable = pos.isolated_wallet + loss - position_initial(inst, pos, mark)
            if -amount > removable:
                raise InsufficientMarginError(
                    f"{symbol}: at most {max(0, removable)} units removable"
                )
        account.wallet -= amount
        pos.isolated_wallet += amount

    # -- open orders --------------------------------------------------------------------------

    def add_order(
        self,
        order_id: OrderId,
        account_id: str,
        symbol: str,
        side: int,
        qty_lots: int,
        price_ticks: int,
        reduce_only: bool = False,
    ) -> None:
        """Reserve margin for a resting order (call after `initial_margin_check` passed)."""
        self._internal(account_id)
        self.instrument(symbol)
        order = OpenOrder(account_id, symbol, side, qty_lots, price_ticks, reduce_only)
        self._orders.add(order_id, order)

    def remove_order(self, order_id: OrderId) -> None:
        self._orders.remove(order_id)

    def open_orders(self, account_id: str) -> list[tuple[OrderId, OpenOrder]]:
        return self._orders.of_account(account_id)

    # -- fills and funding --------------------------------------------------------------------

    def apply_fill(
        self,
        account_id: str,
        symbol: str,
        side: int,
        qty_lots: int,
        price_ticks: int,
        is_maker: bool,
        order_id: OrderId | None = None,
        *,
        charge_fee: bool = True,
    ) -> FillResult:
        """A fill against the outside market: `EXTERNAL` takes the other side, fee-free.

        `charge_fee` False opens a position as if traded before the run (a population)."""
        account = self._internal(account_id)
        inst = self._fill_args(symbol, side, qty_lots, price_ticks)
        if order_id is not None:
            self._orders.consume(order_id, account_id, symbol, side, qty_lots)
        result = self._pool(
            apply_leg(account, inst, side, qty_lots, price_ticks, is_maker, charge_fee)
        )
        outside = self.accounts[EXTERNAL]
        self._pool(apply_leg(outside, inst, -side, qty_lots, price_ticks, not is_maker, True))
        return result

    def apply_match(
        self,
        symbol: str,
        qty_lots: int,
        price_ticks: int,
        taker_id: str,
        taker_side: int,
        maker_id: str,
        taker_order_id: OrderId | None = None,
        maker_order_id: OrderId | None = None,
    ) -> tuple[FillResult, FillResult]:
        """A trade between two simulated accounts, both legs at once: (taker, maker)."""
        taker, maker = self._internal(taker_id), self._internal(maker_id)
        inst = self._fill_args(symbol, taker_side, qty_lots, price_ticks)
        if taker_order_id is not None:
            self._orders.consume(taker_order_id, taker_id, symbol, taker_side, qty_lots)
        if maker_order_id is not None:
            self._orders.consume(maker_order_id, maker_id, symbol, -taker_side, qty_lots)
        taker_result = apply_leg(taker, inst, taker_side, qty_lots, price_ticks, False, True)
        maker_result = apply_leg(maker, inst, -taker_side, qty_lots, price_ticks, True, True)
        self._pool(taker_result)
        self._pool(maker_result)
        return taker_result, maker_result

    def transfer_position(
        self, symbol: str, qty_lots: int, price_ticks: int, buyer_id: str, seller_id: str
    ) -> tuple[FillResult, FillResult]:
        """A fee-free trade off the book, (buyer, seller): the liquidator taking a position over
        at its bankruptcy price, and ADL closing counterparties at that price (MECHANICS 5)."""
        buyer, seller = self._internal(buyer_id), self._internal(seller_id)
        inst = self._fill_args(symbol, Side.BUY, qty_lots, price_ticks)
        bought = apply_leg(buyer, inst, Side.BUY, qty_lots, price_ticks, False, False)
        sold = apply_leg(seller, inst, Side.SELL, qty_lots, price_ticks, True, False)
        return bought, sold

    def _fill_args(self, symbol: str, side: int, qty_lots: int, price_ticks: int) -> Instrument:
        check_side(side)
        if qty_lots <= 0 or price_ticks <= 0:
            raise LedgerError("fill quantity and price must be positive")
        return self.instrument(symbol)

    def _pool(self, result: FillResult) -> FillResult:
        """The fee of a leg goes to the fee pool."""
        self.fee_pool_units += result.fee
        return result

    def apply_funding(self, symbol: str, rate: int, mark_ticks: int) -> FundingResult:
        """Settle one funding time; `rate` is in parts per 1e8 (positive: longs pay)."""
        inst = self.instrument(symbol)
        if mark_ticks <= 0:
            raise LedgerError("mark must be positive")
        result = settle_funding(self.accounts.values(), inst, rate, mark_ticks)
        self.fee_pool_units += result.remainder_units
        return result

    # -- valuation and margin -----------------------------------------------------------------

    def unrealized_pnl(self, account_id: str, symbol: str, mark_ticks: int) -> Money:
        return upnl(self.instrument(symbol), self.position(account_id, symbol), mark_ticks)

    def maintenance_margin(self, account_id: str, symbol: str, mark_ticks: int) -> Money:
        return maintenance(self.instrument(symbol), self.position(account_id, symbol), mark_ticks)

    def entry_price(self, account_id: str, symbol: str) -> Fraction | None:
        """Average entry in the quote currency, from the exact entry value; None when flat."""
        inst, pos = self.instrument(symbol), self.position(account_id, symbol)
        if pos.qty == 0:
            return None
        return Fraction(pos.cost_units, MONEY_SCALE) / inst.lots_to_qty(pos.qty)

    def margin_state(self, account_id: str, marks: Mapping[str, int]) -> MarginState:
        """The cross-margin account: all cross positions against the cross wallet."""
        account = self.account(account_id)
        sums = cross_sums(self.instruments, account, marks)
        return MarginState(sums.maintenance, account.wallet + sums.upnl)

    def isolated_margin_state(self, account_id: str, symbol: str, mark_ticks: int) -> MarginState:
        inst, pos = self.instrument(symbol), self.position(account_id, symbol)
        if not pos.isolated:
            raise LedgerError(f"{symbol} is cross margined for {account_id}")
        return MarginState(
            maintenance(inst, pos, mark_ticks), pos.isolated_wallet + upnl(inst, pos, mark_ticks)
        )

    def margin_ratio(self, account_id: str, marks: Mapping[str, int]) -> Fraction | None:
        return self.margin_state(account_id, marks).ratio

    def open_order_margin(self, account_id: str, marks: Mapping[str, int]) -> Money:
        total = 0
        for symbol, pos in self.account(account_id).positions.items():
            orders = list(self._orders.of(account_id, symbol))
            if orders:
                total += order_margin(self.instruments[symbol], pos, orders, marks[symbol])
        return Money(total)

    def available_balance(self, account_id: str, marks: Mapping[str, int]) -> Money:
        """Cross wallet + cross unrealized PnL - cross position margin - all open-order margin.

        Isolated positions already hold their margin in their own wallets."""
        account = self.account(account_id)
        sums = cross_sums(self.instruments, account, marks)
        orders = self.open_order_margin(account_id, marks)
        return Money(account.wallet - orders + sums.upnl - sums.initial)

    def initial_margin_check(
        self,
        account_id: str,
        symbol: str,
        side: int,
        qty_lots: int,
        price_ticks: int,
        marks: Mapping[str, int],
        reduce_only: bool = False,
    ) -> MarginCheck:
        """Would a new order fit? Counts the account's resting orders; reserves nothing.

        Also refuses an order whose worst-case position (all same-side orders filled) reaches a
        bracket whose max leverage is below the symbol's leverage setting."""
        self._internal(account_id)
        check_side(side)
        inst, pos, mark = self.instrument(symbol), self.position(account_id, symbol), marks[symbol]
        available = self.available_balance(account_id, marks)
        if reduce_only:
            return MarginCheck(True, 0, available)
        orders = list(self._orders.of(account_id, symbol))
        candidate = OpenOrder(account_id, symbol, side, qty_lots, price_ticks)
        before = order_margin(inst, pos, orders, mark)
        required = max(0, order_margin(inst, pos, [*orders, candidate], mark) - before)
        same_side = qty_lots + sum(
            o.remaining for o in orders if o.side == side and not o.reduce_only
        )
        worst_lots = abs(pos.qty + side * same_side)
        worst = Fraction(inst.notional_units(worst_lots, max(price_ticks, mark)), MONEY_SCALE)
        if pos.leverage > inst.brackets.bracket_for(worst).max_leverage:
            return MarginCheck(False, required, available, REJECT_LEVERAGE)
        if required and required > available:
            return MarginCheck(False, required, available, REJECT_MARGIN)
        return MarginCheck(True, required, available)

    def liquidation_price(
        self, account_id: str, symbol: str, marks: Mapping[str, int]
    ) -> Liquidation | None:
        """MECHANICS section 2 for one position from the ledger's state; None when flat.

        Cross positions count the other cross positions' maintenance and unrealized PnL at
        `marks`; isolated ones only their own wallet."""
        account = self.account(account_id)
        inst, pos = self.instrument(symbol), self.position(account_id, symbol)
        if pos.qty == 0:
            return None
        qty = inst.lots_to_qty(abs(pos.qty))
        entry = Fraction(abs(pos.cost_units), MONEY_SCALE) / qty
        if pos.isolated:
            wallet, other_mm, other_upnl = pos.isolated_wallet, 0, 0
        else:
            others = cross_sums(self.instruments, account, marks, skip=pos)
            wallet, other_mm, other_upnl = account.wallet, others.maintenance, others.upnl
        return liquidation_price(
            Side.BUY if pos.qty > 0 else Side.SELL,
            qty,
            entry,
            Fraction(wallet, MONEY_SCALE),
            inst.brackets,
            Fraction(other_mm, MONEY_SCALE),
            Fraction(other_upnl, MONEY_SCALE),
        )

    # -- conservation -------------------------------------------------------------------------

    def conservation_gap(self) -> Money:
        """Net deposits minus where the money is; zero unless the ledger has a bug."""
        return conservation.gap(self.accounts.values(), self.fee_pool_units)

    def open_interest_imbalance(self) -> dict[str, int]:
        """Per symbol, the lots held across all accounts; all zero unless lots were minted."""
        return conservation.open_interest_imbalance(self.accounts.values(), self.instruments)

    def check_conservation(self) -> None:
        conservation.check(self.accounts.values(), self.instruments, self.fee_pool_units)
