"""Accounts, one-way positions, and the ledger that moves money between them.

Units: quantities are signed integer lots (+ long), prices integer ticks, money integer units of
1e-8 USDT (see `instruments`). Marks are given per symbol in ticks.

Where money lives: each account's cross wallet, each isolated position's own wallet, the fee
pool, and the open positions' entry value (`Position.cost`, signed lots x ticks x units). The
ledger keeps, exactly and at every step:

    net deposits = sum of cross wallets + sum of isolated wallets + fee pool - sum of costs

summed over every account including `EXTERNAL`. Position quantities of a symbol sum to zero
across all accounts, so the sum of costs equals minus the sum of unrealized PnL at any common
mark: "deposits = everyone's equity at any mark + fee pool". `check_conservation` verifies both.

Rounding, each moving units between two terms of that identity so none is created or lost:
- Reducing a position releases a share of its cost rounded up (towards +infinity), so realized
  PnL rounds down, against the account; the rest stays in the cost until the position is flat.
- Fees: `fees.fee_units` (charges up, rebates towards zero), paid to or from the fee pool.
- Funding: `funding.funding_payment_units` (payers pay the ceiling, receivers get the floor);
  the remainder goes to the fee pool.
- Maintenance and initial margin requirements round up; isolated margin released on a partial
  reduce rounds down (the rest stays isolated).

`EXTERNAL` stands for everyone outside the simulation, i.e. the recorded book agents trade
against: it takes the other side of `apply_fill`, pays no fees, has no margin checks, and its
wallet may go negative. Having it as an account makes "no lots from nowhere" checkable.
The venue's own accounts (`open_system_account`: the liquidator, the insurance fund) are ordinary
accounts with the fee-free `SYSTEM_FEE_TIER`, so conservation counts their money with no extra term.

Isolated positions: opening moves initial margin (rounded up) from the cross wallet into the
position's wallet; realized PnL and funding settle in the isolated wallet; reducing moves the
released share back. Fees are always paid from the cross wallet. An isolated loss never spills
into the cross wallet: a deficit left on a flat position stays there for the liquidation layer
(insurance fund) to clear.

Checks belong to order entry (`initial_margin_check`); a fill, the result of an accepted order,
is never refused, even if it leaves a wallet negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from harness.venue.ledger.fees import fee_units
from harness.venue.ledger.funding import funding_payment_units
from harness.venue.ledger.instruments import QUOTE_SCALE, Instrument
from harness.venue.ledger.margin import Liquidation, liquidation_price

BUY = 1
SELL = -1
EXTERNAL = "@market"
SYSTEM_FEE_TIER = ""
"""Fee tier of the venue's own accounts (`EXTERNAL`, the liquidator, the insurance fund): they pay
no trading fees, and no user tier can have this name (`open_account` checks the schedules)."""
DEFAULT_LEVERAGE = 20
"""The venue's default leverage for a symbol an account has not configured."""

REJECT_MARGIN = "insufficient_margin"
REJECT_LEVERAGE = "leverage_above_bracket_max"

OrderId = int | str


class LedgerError(Exception):
    """A request the ledger refuses; its state is unchanged."""


class InsufficientMarginError(LedgerError):
    pass


class ConservationError(AssertionError):
    """Money or lots appeared or vanished: a bug, never a user error."""


@dataclass
class Position:
    symbol: str
    leverage: int = DEFAULT_LEVERAGE
    isolated: bool = False
    qty: int = 0
    """Signed lots: positive long, negative short."""
    cost: int = 0
    """Signed entry value in units: qty x average entry, kept exact instead of the average."""
    isolated_wallet: int = 0
    realized_pnl: int = 0
    fees_paid: int = 0
    funding_paid: int = 0


@dataclass
class Account:
    account_id: str
    fee_tier: str = "regular"
    wallet: int = 0
    """Cross wallet balance in units."""
    net_deposits: int = 0
    positions: dict[str, Position] = field(default_factory=dict)


@dataclass(frozen=True)
class FillResult:
    account_id: str
    symbol: str
    side: int
    qty_lots: int
    price_ticks: int
    is_maker: bool
    fee: int
    """Units paid (negative: rebate received)."""
    realized_pnl: int
    position_before: int
    position_after: int
    closed_lots: int
    opened_lots: int


@dataclass(frozen=True)
class FundingResult:
    symbol: str
    rate: int
    """Parts per 1e8; positive means longs pay."""
    mark_ticks: int
    payments: dict[str, int]
    """Per account: units paid (negative: received), in account order."""
    remainder: int
    """Rounding remainder credited to the fee pool (never negative)."""


@dataclass(frozen=True)
class MarginState:
    maintenance: int
    margin_balance: int

    @property
    def ratio(self) -> Fraction | None:
        """MM / margin balance; None when the balance is not positive (unbounded)."""
        if self.margin_balance <= 0:
            return None
        return Fraction(self.maintenance, self.margin_balance)

    @property
    def liquidatable(self) -> bool:
        """Margin ratio at or above 100% with something to maintain."""
        return self.maintenance > 0 and self.margin_balance <= self.maintenance


@dataclass(frozen=True)
class MarginCheck:
    ok: bool
    required: int
    """Extra initial margin (units) the order adds to the account's open-order margin."""
    available: int
    reason: str | None = None


@dataclass
class OpenOrder:
    account_id: str
    symbol: str
    side: int
    remaining: int
    price_ticks: int
    reduce_only: bool = False


def _ceil_div(num: int, den: int) -> int:
    return -(-num // den)


def _check_side(side: int) -> int:
    if side not in (BUY, SELL):
        raise ValueError(f"side must be +1 (buy) or -1 (sell), got {side}")
    return side


class Ledger:
    """The venue's books: accounts, positions, open-order reservations and the fee pool."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.instruments: dict[str, Instrument] = {i.symbol: i for i in instruments}
        self.accounts: dict[str, Account] = {EXTERNAL: Account(EXTERNAL, fee_tier=SYSTEM_FEE_TIER)}
        self.fee_pool = 0
        self._orders: dict[OrderId, OpenOrder] = {}

    # -- set-up -------------------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise LedgerError(f"unknown symbol {symbol!r}") from None

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
        if account_id in self.accounts:
            raise LedgerError(f"account {account_id!r} exists")
        for inst in self.instruments.values():
            inst.fees.tier(fee_tier)
        account = Account(account_id, fee_tier=fee_tier)
        self.accounts[account_id] = account
        return account

    def open_system_account(self, account_id: str) -> Account:
        """An account of the venue itself (liquidator, insurance fund): fee-free, counted in
        conservation like every other account."""
        if account_id in self.accounts:
            raise LedgerError(f"account {account_id!r} exists")
        account = Account(account_id, fee_tier=SYSTEM_FEE_TIER)
        self.accounts[account_id] = account
        return account

    def account(self, account_id: str) -> Account:
        try:
            return self.accounts[account_id]
        except KeyError:
            raise LedgerError(f"unknown account {account_id!r}") from None

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

    def deposit(self, account_id: str, amount: int) -> None:
        if amount <= 0:
            raise LedgerError("deposit must be positive")
        account = self._internal(account_id)
        account.wallet += amount
        account.net_deposits += amount

    def withdraw(self, account_id: str, amount: int, marks: Mapping[str, int]) -> None:
        """Unrealized profit backs new positions but cannot be withdrawn, hence the wallet cap."""
        account = self._internal(account_id)
        if amount <= 0:
            raise LedgerError("withdrawal must be positive")
        limit = min(account.wallet, self.available_balance(account_id, marks))
        if amount > limit:
            raise InsufficientMarginError(f"{account_id}: can withdraw at most {limit} units")
        account.wallet -= amount
        account.net_deposits -= amount

    def set_leverage(self, account_id: str, symbol: str, leverage: int) -> None:
        self._internal(account_id)
        pos = self.position(account_id, symbol)
        notional = Fraction(abs(pos.cost), QUOTE_SCALE)
        limit = self.instrument(symbol).brackets.bracket_for(notional).max_leverage
        if not 1 <= leverage <= limit:
            raise LedgerError(f"{symbol}: leverage {leverage} outside 1..{limit} at this size")
        pos.leverage = leverage

    def set_margin_mode(self, account_id: str, symbol: str, isolated: bool) -> None:
        self._internal(account_id)
        pos = self.position(account_id, symbol)
        if pos.isolated == isolated:
            return
        if pos.qty or pos.isolated_wallet or any(self._orders_of(account_id, symbol)):
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
            inst = self.instrument(symbol)
            mark = marks[symbol]
            upnl = self._upnl(inst, pos, mark)
            im = _ceil_div(abs(inst.notional_units(pos.qty, mark)), pos.leverage)
            removable = pos.isolated_wallet + min(0, upnl) - im
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
        if order_id in self._orders:
            raise LedgerError(f"order {order_id!r} already open")
        if qty_lots <= 0 or price_ticks <= 0:
            raise LedgerError("order quantity and price must be positive")
        self._orders[order_id] = OpenOrder(
            account_id, symbol, _check_side(side), qty_lots, price_ticks, reduce_only
        )

    def remove_order(self, order_id: OrderId) -> None:
        if self._orders.pop(order_id, None) is None:
            raise LedgerError(f"order {order_id!r} is not open")

    def open_orders(self, account_id: str) -> list[tuple[OrderId, OpenOrder]]:
        return [(oid, o) for oid, o in self._orders.items() if o.account_id == account_id]

    def _orders_of(self, account_id: str, symbol: str) -> Iterator[OpenOrder]:
        for order in self._orders.values():
            if order.account_id == account_id and order.symbol == symbol:
                yield order

    def _consume_order(
        self, order_id: OrderId, account_id: str, symbol: str, side: int, qty: int
    ) -> None:
        order = self._orders.get(order_id)
        if order is None or (order.account_id, order.symbol, order.side) != (
            account_id,
            symbol,
            side,
        ):
            raise LedgerError(f"fill does not match open order {order_id!r}")
        if qty > order.remaining:
            raise LedgerError(f"fill of {qty} lots exceeds order {order_id!r} remaining")
        order.remaining -= qty
        if order.remaining == 0:
            del self._orders[order_id]

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
            self._consume_order(order_id, account_id, symbol, side, qty_lots)
        result = self._apply_leg(
            account, inst, side, qty_lots, price_ticks, is_maker, charge_fee=charge_fee
        )
        self._apply_leg(self.accounts[EXTERNAL], inst, -side, qty_lots, price_ticks, not is_maker)
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
            self._consume_order(taker_order_id, taker_id, symbol, taker_side, qty_lots)
        if maker_order_id is not None:
            self._consume_order(maker_order_id, maker_id, symbol, -taker_side, qty_lots)
        taker_result = self._apply_leg(taker, inst, taker_side, qty_lots, price_ticks, False)
        maker_result = self._apply_leg(maker, inst, -taker_side, qty_lots, price_ticks, True)
        return taker_result, maker_result

    def transfer_position(
        self, symbol: str, qty_lots: int, price_ticks: int, buyer_id: str, seller_id: str
    ) -> tuple[FillResult, FillResult]:
        """A fee-free trade off the book, (buyer, seller): the liquidator taking a position over
        at its bankruptcy price, and ADL closing counterparties at that price (MECHANICS 5)."""
        buyer, seller = self._internal(buyer_id), self._internal(seller_id)
        inst = self._fill_args(symbol, BUY, qty_lots, price_ticks)
        bought = self._apply_leg(buyer, inst, BUY, qty_lots, price_ticks, False, charge_fee=False)
        sold = self._apply_leg(seller, inst, SELL, qty_lots, price_ticks, True, charge_fee=False)
        return bought, sold

    def _fill_args(self, symbol: str, side: int, qty_lots: int, price_ticks: int) -> Instrument:
        _check_side(side)
        if qty_lots <= 0 or price_ticks <= 0:
            raise LedgerError("fill quantity and price must be positive")
        return self.instrument(symbol)

    def _apply_leg(
        self,
        account: Account,
        inst: Instrument,
        side: int,
        qty: int,
        price: int,
        is_maker: bool,
        *,
        charge_fee: bool = True,
    ) -> FillResult:
        pos = self.position(account.account_id, inst.symbol)
        before = pos.qty
        closed = min(qty, abs(before)) if before * side < 0 else 0
        opened = qty - closed
        realized = 0
        if closed:
            # A long's cost is positive and a short's negative; rounding the released share up
            # lowers the realized PnL of both.
            released = (
                pos.cost if closed == abs(before) else _ceil_div(pos.cost * closed, abs(before))
            )
            realized = inst.notional_units(-side * closed, price) - released
            pos.cost -= released
            pos.qty += side * closed
            pos.realized_pnl += realized
            if pos.isolated:
                pos.isolated_wallet += realized
                back = (
                    pos.isolated_wallet
                    if pos.qty == 0
                    else pos.isolated_wallet * closed // abs(before)
                )
                back = max(0, back)
                pos.isolated_wallet -= back
                account.wallet += back
            else:
                account.wallet += realized
        if opened:
            pos.cost += inst.notional_units(side * opened, price)
            pos.qty += side * opened
            if pos.isolated:
                margin = _ceil_div(inst.notional_units(opened, price), pos.leverage)
                account.wallet -= margin
                pos.isolated_wallet += margin
        fee = 0
        if charge_fee and account.fee_tier != SYSTEM_FEE_TIER:
            fee = fee_units(
                inst.notional_units(qty, price), inst.fees.rate(account.fee_tier, is_maker)
            )
            account.wallet -= fee
            pos.fees_paid += fee
            self.fee_pool += fee
        return FillResult(
            account_id=account.account_id,
            symbol=inst.symbol,
            side=side,
            qty_lots=qty,
            price_ticks=price,
            is_maker=is_maker,
            fee=fee,
            realized_pnl=realized,
            position_before=before,
            position_after=pos.qty,
            closed_lots=closed,
            opened_lots=opened,
        )

    def apply_funding(self, symbol: str, rate: int, mark_ticks: int) -> FundingResult:
        """Settle one funding time: every open position pays or receives value x rate.

        `rate` is in parts per 1e8 (positive: longs pay)."""
        inst = self.instrument(symbol)
        if mark_ticks <= 0:
            raise LedgerError("mark must be positive")
        payments: dict[str, int] = {}
        for account in self.accounts.values():
            pos = account.positions.get(symbol)
            if pos is None or pos.qty == 0:
                continue
            paid = funding_payment_units(inst.notional_units(pos.qty, mark_ticks), rate)
            if pos.isolated:
                pos.isolated_wallet -= paid
            else:
                account.wallet -= paid
            pos.funding_paid += paid
            payments[account.account_id] = paid
        remainder = sum(payments.values())
        self.fee_pool += remainder
        return FundingResult(symbol, rate, mark_ticks, payments, remainder)

    # -- valuation and margin -----------------------------------------------------------------

    @staticmethod
    def _upnl(inst: Instrument, pos: Position, mark: int) -> int:
        return inst.notional_units(pos.qty, mark) - pos.cost

    @staticmethod
    def _maintenance(inst: Instrument, pos: Position, mark: int) -> int:
        if pos.qty == 0:
            return 0
        return inst.brackets.maintenance_units(abs(inst.notional_units(pos.qty, mark)))

    def _open(self, account_id: str) -> Iterator[tuple[Instrument, Position]]:
        for symbol, pos in self.account(account_id).positions.items():
            if pos.qty:
                yield self.instruments[symbol], pos

    def unrealized_pnl(self, account_id: str, symbol: str, mark_ticks: int) -> int:
        return self._upnl(self.instrument(symbol), self.position(account_id, symbol), mark_ticks)

    def maintenance_margin(self, account_id: str, symbol: str, mark_ticks: int) -> int:
        inst = self.instrument(symbol)
        return self._maintenance(inst, self.position(account_id, symbol), mark_ticks)

    def entry_price(self, account_id: str, symbol: str) -> Fraction | None:
        """Average entry in USDT, from the exact entry value; None when flat."""
        inst, pos = self.instrument(symbol), self.position(account_id, symbol)
        if pos.qty == 0:
            return None
        return Fraction(pos.cost, QUOTE_SCALE) / inst.lots_to_qty(pos.qty)

    def margin_state(self, account_id: str, marks: Mapping[str, int]) -> MarginState:
        """The cross-margin account: all cross positions against the cross wallet."""
        account = self.account(account_id)
        maintenance, balance = 0, account.wallet
        for inst, pos in self._open(account_id):
            if not pos.isolated:
                maintenance += self._maintenance(inst, pos, marks[inst.symbol])
                balance += self._upnl(inst, pos, marks[inst.symbol])
        return MarginState(maintenance, balance)

    def isolated_margin_state(self, account_id: str, symbol: str, mark_ticks: int) -> MarginState:
        inst, pos = self.instrument(symbol), self.position(account_id, symbol)
        if not pos.isolated:
            raise LedgerError(f"{symbol} is cross margined for {account_id}")
        return MarginState(
            self._maintenance(inst, pos, mark_ticks),
            pos.isolated_wallet + self._upnl(inst, pos, mark_ticks),
        )

    def margin_ratio(self, account_id: str, marks: Mapping[str, int]) -> Fraction | None:
        return self.margin_state(account_id, marks).ratio

    def _order_margin(
        self, inst: Instrument, pos: Position, orders: Iterable[OpenOrder], mark: int
    ) -> int:
        """Initial margin for a symbol's resting orders, the worse of the two sides.

        A side's margin covers the lots by which filling all its orders would grow the position,
        valued at mark, plus the open loss of orders priced through the mark (a buy above it or
        a sell below it loses that difference the moment it fills). A simplified model of the
        venue's rule; reduce-only orders reserve nothing.
        """
        worst = 0
        counted = [o for o in orders if not o.reduce_only]
        for side in (BUY, SELL):
            side_orders = [o for o in counted if o.side == side]
            lots = sum(o.remaining for o in side_orders)
            if not lots:
                continue
            growth = max(0, abs(pos.qty + side * lots) - abs(pos.qty))
            margin = _ceil_div(inst.notional_units(growth, mark), pos.leverage)
            open_loss = sum(
                inst.notional_units(o.remaining, max(0, side * (o.price_ticks - mark)))
                for o in side_orders
            )
            worst = max(worst, margin + open_loss)
        return worst

    def open_order_margin(self, account_id: str, marks: Mapping[str, int]) -> int:
        total = 0
        for symbol, pos in self.account(account_id).positions.items():
            orders = list(self._orders_of(account_id, symbol))
            if orders:
                total += self._order_margin(self.instruments[symbol], pos, orders, marks[symbol])
        return total

    def available_balance(self, account_id: str, marks: Mapping[str, int]) -> int:
        """Cross wallet + cross unrealized PnL - cross position margin - all open-order margin.

        Isolated positions already hold their margin in their own wallets."""
        account = self.account(account_id)
        available = account.wallet - self.open_order_margin(account_id, marks)
        for inst, pos in self._open(account_id):
            if not pos.isolated:
                mark = marks[inst.symbol]
                available += self._upnl(inst, pos, mark)
                available -= _ceil_div(abs(inst.notional_units(pos.qty, mark)), pos.leverage)
        return available

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
        _check_side(side)
        inst, pos, mark = self.instrument(symbol), self.position(account_id, symbol), marks[symbol]
        available = self.available_balance(account_id, marks)
        if reduce_only:
            return MarginCheck(True, 0, available)
        orders = list(self._orders_of(account_id, symbol))
        candidate = OpenOrder(account_id, symbol, side, qty_lots, price_ticks)
        before = self._order_margin(inst, pos, orders, mark)
        required = max(0, self._order_margin(inst, pos, [*orders, candidate], mark) - before)
        same_side = qty_lots + sum(
            o.remaining for o in orders if o.side == side and not o.reduce_only
        )
        worst_lots = abs(pos.qty + side * same_side)
        worst = Fraction(inst.notional_units(worst_lots, max(price_ticks, mark)), QUOTE_SCALE)
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
        entry = Fraction(abs(pos.cost), QUOTE_SCALE) / qty
        side = 1 if pos.qty > 0 else -1
        if pos.isolated:
            wallet, other_mm, other_upnl = pos.isolated_wallet, 0, 0
        else:
            wallet, other_mm, other_upnl = account.wallet, 0, 0
            for other_inst, other in self._open(account_id):
                if other is not pos and not other.isolated:
                    mark = marks[other_inst.symbol]
                    other_mm += self._maintenance(other_inst, other, mark)
                    other_upnl += self._upnl(other_inst, other, mark)
        return liquidation_price(
            side,
            qty,
            entry,
            Fraction(wallet, QUOTE_SCALE),
            inst.brackets,
            Fraction(other_mm, QUOTE_SCALE),
            Fraction(other_upnl, QUOTE_SCALE),
        )

    # -- conservation -------------------------------------------------------------------------

    def conservation_gap(self) -> int:
        """Net deposits minus where the money is; zero unless the ledger has a bug."""
        held = self.fee_pool
        deposits = 0
        for account in self.accounts.values():
            deposits += account.net_deposits
            held += account.wallet
            for pos in account.positions.values():
                held += pos.isolated_wallet - pos.cost
        return deposits - held

    def open_interest_imbalance(self) -> dict[str, int]:
        """Per symbol, the lots held across all accounts; all zero unless lots were minted."""
        totals = dict.fromkeys(self.instruments, 0)
        for account in self.accounts.values():
            for symbol, pos in account.positions.items():
                totals[symbol] += pos.qty
        return totals

    def check_conservation(self) -> None:
        gap = self.conservation_gap()
        if gap:
            raise ConservationError(f"money not conserved: deposits exceed holdings by {gap}")
        bad = {s: q for s, q in self.open_interest_imbalance().items() if q}
        if bad:
            raise ConservationError(f"lots not conserved: {bad}")
