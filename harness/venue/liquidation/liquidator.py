"""The liquidator: MECHANICS 5 for one (account, symbol) that the risk engine found due.

Steps, each giving journal-ready records (kind `liquidation` with a `step` field, `insurance_fund`,
`adl`; see `insurance_fund.record`):
1. `cancel_orders`: the account's open orders are cancelled (all symbols for a cross position,
   the symbol for an isolated one), then the margin ratio is re-checked: the record's
   `liquidatable` false ends the liquidation there (`recheck` records repeat it after each cut).
   A cross account is liquidated whole, position by position in `cross_order` (by maintenance
   margin, largest first), re-checked before each next position.
2. `partial`: while the position's notional at the mark lies above the first bracket, the position
   is reduced to just below its bracket's floor (the next lower bracket's cap) and re-checked, so a
   large position is cut tier by tier and only as far as needed.
3. `full`: the rest of the position is closed.

How a slice (partial or full) is closed. The liquidator, the fee-free system account
`LIQUIDATOR`, takes the lots over at the account's bankruptcy price B (`Ledger.transfer_position`),
so the account loses exactly the slice's share of its margin balance (all of it for a full close)
whatever the book does next; B is rounded to a tick towards the mark so rounding never leaves the
account below zero. The liquidator then unwinds what it took over through the symbol's
`MatchingEngine`:
- `ioc`: a reduce-only IOC limit order at B: it consumes real depth (public levels and resting sim
  orders) and moves the sim book; fills are never worse than B, so the liquidator gains;
- `ioc_fund_backed`: what is left goes out in a second reduce-only IOC whose limit is the worst
  price the insurance fund (plus the gain so far) can pay for: the fund pays the shortfall;
- `adl`: what is still left is closed against the opposite side's ranked positions at B, no fee
  (`adl`), then against the outside market `EXTERNAL` (ranked last, `score` "outside"), which
  always holds enough: nothing stays with the liquidator.
Both limits are clipped to the engine's price band, which only makes them stricter. Orders are
reduce-only so a tiny slice is exempt from the minimum notional: the engine's `position_of` must
read the ledger, as the venue's does.
Then the liquidator's gain or loss settles with the fund: a gain is the `clearance_fee` (the
setting's rate on the notional filled through the book, capped by the gain) and the rest the
`liquidation_surplus`; a loss is a `shortfall` the fund pays. The clearance fee is taken from the
proceeds above B rather than from the account, because the takeover at B has already taken the
slice's whole margin balance: charging the account on top would only push it below zero for the
fund to reset. Finally (`negative_balance_reset`) a flat isolated position's wallet, or the cross
wallet of an account with no open cross position, that is below zero is reset to zero by the fund.

Engine events (acceptances, fills, cancellations, reduce-only cuts) go to `settle`: the venue
passes its `handle`, which settles fills in the ledger and journals them; without one, the
liquidator settles fills in the ledger itself (`settle_in_ledger`). Records go to `emit` (the
venue's journal) as soon as the engine is about to act on them, so a step's record precedes the
engine events it causes (`full`, then the IOC's acceptance and fills, then the `ioc` summary).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from harness import journal as jk
from harness.units import MONEY_SCALE
from harness.venue.exchange.matching import MatchingEngine
from harness.venue.exchange.orders import (
    PUBLIC,
    Cancelled,
    Event,
    Expired,
    Fill,
    Liquidity,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
)
from harness.venue.ledger.accounts import EXTERNAL, Ledger, MarginState
from harness.venue.ledger.fees import fee_units, rate_e8
from harness.venue.liquidation import adl
from harness.venue.liquidation.insurance_fund import (
    CLEARANCE_FEE,
    LIQUIDATION_SURPLUS,
    NEGATIVE_BALANCE_RESET,
    SHORTFALL,
    InsuranceFund,
    Record,
    record,
)
from harness.venue.profiles import default_profile

LIQUIDATOR = "@liquidator"
_PROFILE = default_profile()

Settle = Callable[[list[Event], int], None]


@dataclass(frozen=True)
class LiquidatorSettings:
    """Defaults are the built-in venue profile's (`profiles.default_profile`)."""

    clearance_fee: Fraction = _PROFILE.clearance_fee
    """Rate on the notional the liquidator fills through the book, paid to the fund out of the
    proceeds above the bankruptcy price."""
    partial_by_tier: bool = True
    adl_method: str = _PROFILE.adl_ranking
    """A name in `adl.ADL_RANKINGS`."""


def settle_in_ledger(ledger: Ledger, events: list[Event]) -> None:
    """Apply an engine's fills to the ledger (the venue's `handle` does this and journals)."""
    taker: Fill | None = None
    for event in events:
        if isinstance(event, Fill):
            if event.counterparty == PUBLIC:
                ledger.apply_fill(
                    event.account,
                    event.symbol,
                    int(event.side),
                    event.qty,
                    event.price,
                    event.liquidity is Liquidity.MAKER,
                    order_id=_ledger_order(ledger, event.account, event.order_id),
                )
            elif event.liquidity is Liquidity.TAKER:
                taker = event
            else:
                assert taker is not None and taker.match_id == event.match_id
                ledger.apply_match(
                    event.symbol,
                    event.qty,
                    event.price,
                    taker.account,
                    int(taker.side),
                    event.account,
                    taker_order_id=_ledger_order(ledger, taker.account, taker.order_id),
                    maker_order_id=_ledger_order(ledger, event.account, event.order_id),
                )
                taker = None
        elif (
            isinstance(event, Cancelled | Expired)
            and _ledger_order(ledger, event.account, event.order_id) is not None
        ):
            ledger.remove_order(event.order_id)


def _ledger_order(ledger: Ledger, account_id: str, order_id: int) -> int | None:
    """The order id when the ledger holds it as a resting order (so fills release its margin)."""
    if account_id not in ledger.accounts:
        return None
    return order_id if any(oid == order_id for oid, _ in ledger.open_orders(account_id)) else None


def _ratio(state: MarginState) -> str:
    ratio = state.ratio
    return "inf" if ratio is None else str(ratio)


class Liquidator:
    def __init__(
        self,
        ledger: Ledger,
        engines: Mapping[str, MatchingEngine],
        fund: InsuranceFund,
        settings: LiquidatorSettings | None = None,
        settle: Settle | None = None,
        emit: Callable[[Record], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.engines = engines
        self.fund = fund
        self.settings = settings or LiquidatorSettings()
        self._fee_rate = rate_e8(self.settings.clearance_fee)
        self._settle_events = settle or (lambda events, ts: settle_in_ledger(ledger, events))
        self._emit = emit
        self._trail: list[Record] = []
        self._emitted = 0
        if LIQUIDATOR not in ledger.accounts:
            ledger.open_system_account(LIQUIDATOR)
        self._client_ids = itertools.count(1)

    # -- checks -------------------------------------------------------------------------------

    def state(self, account_id: str, symbol: str, marks: Mapping[str, int]) -> MarginState:
        """The margin state that decides: the isolated position's, or the cross account's."""
        if self.ledger.position(account_id, symbol).isolated:
            return self.ledger.isolated_margin_state(account_id, symbol, marks[symbol])
        return self.ledger.margin_state(account_id, marks)

    def _check(
        self, step: str, account_id: str, symbol: str, marks: Mapping[str, int], ts: int
    ) -> tuple[bool, Record]:
        state = self.state(account_id, symbol, marks)
        return state.liquidatable, record(
            ts,
            jk.LIQUIDATION,
            account_id,
            symbol,
            step=step,
            mark=marks[symbol],
            position=self.ledger.position(account_id, symbol).qty,
            maintenance=state.maintenance,
            margin_balance=state.margin_balance,
            ratio=_ratio(state),
            liquidatable=state.liquidatable,
        )

    # -- the record trail ----------------------------------------------------------------------

    def _settle(self, events: list[Event], ts: int) -> None:
        """Emit the steps recorded so far, then let the engine's events through: the journal
        then reads step, then what the step made the engine do."""
        self._flush()
        self._settle_events(events, ts)

    def _flush(self) -> None:
        if self._emit is not None:
            for entry in self._trail[self._emitted :]:
                self._emit(entry)
        self._emitted = len(self._trail)

    # -- the steps ----------------------------------------------------------------------------

    def liquidate(
        self, account_id: str, symbol: str, marks: Mapping[str, int], ts: int
    ) -> list[Record]:
        """Run MECHANICS 5 for the account's position in `symbol` at `marks` (ticks); for a cross
        position, for the whole cross account (`cross_order`). Returns the records, which `emit`
        (when given) has already received, each before the engine events it caused."""
        self._trail, self._emitted = [], 0
        pos = self.ledger.position(account_id, symbol)
        positions = self.ledger.account(account_id).positions.values()
        cross_open = any(p.qty and not p.isolated for p in positions)
        if pos.qty == 0 and (pos.isolated or not cross_open):
            return []  # closed while it waited; a cross account with other positions goes on
        symbols = [symbol] if pos.isolated else list(self.engines)
        cancelled = 0
        for name in symbols:
            events = self.engines[name].cancel_all(account_id, ts)
            cancelled += sum(isinstance(e, Cancelled) for e in events)
            self._settle(events, ts)
        due, check = self._check("cancel_orders", account_id, symbol, marks, ts)
        check["cancelled"] = cancelled
        self._trail.append(check)
        order = [symbol] if pos.isolated else self.cross_order(account_id, marks)
        for number, name in enumerate(order):
            if number and due:
                # The account may comply once a position is gone: re-check on the next one.
                due, check = self._check("recheck", account_id, name, marks, ts)
                self._trail.append(check)
            if not due:
                break
            due = self._reduce(account_id, name, marks, ts)
        self._trail += self.reset_negative_balances(account_id, ts)
        self._flush()
        return self._trail

    def cross_order(self, account_id: str, marks: Mapping[str, int]) -> list[str]:
        """The order in which a cross account's positions go: by maintenance margin at the
        marks, largest first (the one weighing most on the ratio), ties by symbol name. Not the
        symbol whose check found it due: the venue checks symbols in a fixed order, so that
        would say more about the order of the checks than about the account."""
        ledger = self.ledger
        order = [
            (-ledger.maintenance_margin(account_id, name, marks[name]), name)
            for name, pos in ledger.account(account_id).positions.items()
            if pos.qty and not pos.isolated
        ]
        return [name for _, name in sorted(order)]

    def _reduce(self, account_id: str, symbol: str, marks: Mapping[str, int], ts: int) -> bool:
        """Tier by tier, then in full; whether the account is still due afterwards (True after a
        full close: the caller re-checks on the next position)."""
        inst = self.ledger.instrument(symbol)
        mark = marks[symbol]
        due = True
        while due and self.settings.partial_by_tier:
            lots = abs(self.ledger.position(account_id, symbol).qty)
            notional = Fraction(inst.notional_units(lots, mark), MONEY_SCALE)
            bracket = inst.brackets.bracket_for(notional)
            if bracket.tier == 1:
                break
            # Largest size whose notional at the mark is below the bracket's floor.
            keep = math.ceil(bracket.floor / (inst.tick_size * inst.lot_size * mark)) - 1
            self._close(account_id, symbol, lots - keep, marks, ts, "partial")
            due, check = self._check("recheck", account_id, symbol, marks, ts)
            self._trail.append(check)
        if due:
            lots = abs(self.ledger.position(account_id, symbol).qty)
            self._close(account_id, symbol, lots, marks, ts, "full")
        return due

    def _bankruptcy_ticks(self, account_id: str, symbol: str, marks: Mapping[str, int]) -> int:
        """B in ticks, rounded towards the mark (a long's up, a short's down); the mark when no
        positive price is bankrupt."""
        inst = self.ledger.instrument(symbol)
        liq = self.ledger.liquidation_price(account_id, symbol, marks)
        assert liq is not None
        if liq.bankruptcy is None:
            return marks[symbol]
        long = self.ledger.position(account_id, symbol).qty > 0
        return max(1, inst.price_to_ticks(liq.bankruptcy, "ceil" if long else "floor"))

    def _close(
        self,
        account_id: str,
        symbol: str,
        lots: int,
        marks: Mapping[str, int],
        ts: int,
        step: str,
    ) -> None:
        ledger = self.ledger
        account, pos = ledger.account(account_id), ledger.position(account_id, symbol)
        side = 1 if pos.qty > 0 else -1
        bankruptcy = self._bankruptcy_ticks(account_id, symbol, marks)
        cross_before = account.wallet
        if side > 0:
            _, leg = ledger.transfer_position(symbol, lots, bankruptcy, LIQUIDATOR, account_id)
        else:
            leg, _ = ledger.transfer_position(symbol, lots, bankruptcy, account_id, LIQUIDATOR)
        if pos.isolated and pos.qty:
            # The ledger releases a reduced isolated position's share of margin to the cross
            # wallet; a partial liquidation keeps it isolated, where the loss it backs is.
            released = account.wallet - cross_before
            account.wallet -= released
            pos.isolated_wallet += released
        records = self._trail
        records.append(
            record(
                ts,
                jk.LIQUIDATION,
                account_id,
                symbol,
                step=step,
                qty=lots,
                side=side,
                bankruptcy_price=bankruptcy,
                mark=marks[symbol],
                realized_pnl=leg.realized_pnl,
                position_after=leg.position_after,
            )
        )
        engine = self.engines[symbol]
        self._settle(engine.on_position_change(account_id, leg.position_after, ts), ts)
        wallet_before = ledger.account(LIQUIDATOR).wallet
        # The liquidator unwinds on the other side of what it took over.
        unwind = Side.SELL if side > 0 else Side.BUY
        limit = self._banded(engine, unwind, bankruptcy)
        book_notional = self._ioc(engine, unwind, limit, ts, account_id, "ioc", records)
        left = abs(ledger.position(LIQUIDATOR, symbol).qty)
        if left:
            inst = ledger.instrument(symbol)
            # What the fund (plus the gain so far) can pay, less one unit per possible fill for
            # the ledger's rounding of realized PnL against the seller.
            budget = self.fund.balance + ledger.account(LIQUIDATOR).wallet - wallet_before - left
            room = max(0, budget) // (left * inst.units_per_lot_tick)
            backed = self._banded(engine, unwind, max(1, bankruptcy + int(unwind) * room))
            if (backed - limit) * int(unwind) > 0:
                book_notional += self._ioc(
                    engine, unwind, backed, ts, account_id, "ioc_fund_backed", records
                )
        left = abs(ledger.position(LIQUIDATOR, symbol).qty)
        if left:
            self._deleverage(account_id, symbol, left, bankruptcy, marks, ts)
        records += self._settle_with_fund(symbol, wallet_before, book_notional, ts, account_id)

    @staticmethod
    def _banded(engine: MatchingEngine, side: Side, limit: int) -> int:
        """The limit clipped to the engine's price band around its mark (stricter, never looser)."""
        band = engine.config.price_band
        if band is None or engine.mark is None:
            return limit
        if side is Side.SELL:
            return max(limit, math.ceil(engine.mark * (1 - band)))
        return min(limit, math.floor(engine.mark * (1 + band)))

    def _ioc(
        self,
        engine: MatchingEngine,
        side: Side,
        limit: int,
        ts: int,
        liquidated: str,
        step: str,
        records: list[Record],
    ) -> int:
        """Send what the liquidator holds as a reduce-only IOC; returns the notional filled."""
        lots = abs(self.ledger.position(LIQUIDATOR, engine.symbol).qty)
        request = OrderRequest(
            account=LIQUIDATOR,
            side=side,
            qty=lots,
            type=OrderType.LIMIT,
            price=limit,
            tif=TimeInForce.IOC,
            reduce_only=True,
            client_id=f"liq-{next(self._client_ids)}",
        )
        events = engine.submit(request, ts)
        fills = [e for e in events if isinstance(e, Fill) and e.account == LIQUIDATOR]
        self._settle(events, ts)
        inst = self.ledger.instrument(engine.symbol)
        notional = sum(inst.notional_units(f.qty, f.price) for f in fills)
        records.append(
            record(
                ts,
                jk.LIQUIDATION,
                liquidated,
                engine.symbol,
                step=step,
                side=int(side),
                qty=lots,
                limit=limit,
                filled=sum(f.qty for f in fills),
                notional=notional,
                fills=len(fills),
            )
        )
        return notional

    def _deleverage(
        self,
        account_id: str,
        symbol: str,
        lots: int,
        price: int,
        marks: Mapping[str, int],
        ts: int,
    ) -> None:
        """ADL of the simulated accounts in rank order, then of the outside market for the rest.

        `EXTERNAL` stands for every trader outside the simulation: the real venue would have
        deleveraged some of them. Their ranking is unknown, so they come after every simulated
        account. Lots always balance across accounts, so the outside market holds at least what
        is left on the opposite side and nothing stays with the liquidator."""
        ledger = self.ledger
        holder_side = 1 if ledger.position(LIQUIDATOR, symbol).qty > 0 else -1
        ranking = adl.rank(
            ledger,
            symbol,
            -holder_side,
            marks[symbol],
            marks,
            self.settings.adl_method,
            exclude=(LIQUIDATOR, self.fund.account_id, account_id),
        )
        records, left = adl.deleverage(
            ledger, symbol, LIQUIDATOR, lots, price, ranking, ts, liquidated=account_id
        )
        if left:
            ledger.apply_fill(LIQUIDATOR, symbol, -holder_side, left, price, False)
            outside = ledger.position(EXTERNAL, symbol).qty
            records.append(
                record(
                    ts,
                    jk.ADL,
                    EXTERNAL,
                    symbol,
                    rank=len(ranking) + 1,
                    score="outside",
                    qty=left,
                    price=price,
                    position_after=outside,
                    liquidated=account_id,
                )
            )
        self._trail += records
        engine = self.engines[symbol]
        for entry in records:
            counterparty = str(entry["account"])
            if counterparty != EXTERNAL:
                qty = ledger.position(counterparty, symbol).qty
                self._settle(engine.on_position_change(counterparty, qty, ts), ts)

    def _settle_with_fund(
        self, symbol: str, wallet_before: int, book_notional: int, ts: int, liquidated: str
    ) -> list[Record]:
        """The liquidator's gain on this slice goes to the fund, its loss comes from it."""
        gain = self.ledger.account(LIQUIDATOR).wallet - wallet_before
        if gain < 0:
            return [self.fund.pay(ts, LIQUIDATOR, -gain, SHORTFALL, symbol)]
        fee = min(gain, fee_units(book_notional, self._fee_rate))
        records = []
        if fee:
            records.append(self.fund.collect(ts, LIQUIDATOR, fee, CLEARANCE_FEE, symbol))
        if gain > fee:
            records.append(
                self.fund.collect(ts, LIQUIDATOR, gain - fee, LIQUIDATION_SURPLUS, symbol)
            )
        for entry in records:
            entry["liquidated"] = liquidated
        return records

    def reset_negative_balances(self, account_id: str, ts: int) -> list[Record]:
        """The fund resets to zero each flat isolated position's negative wallet and, once the
        account has no open cross position, a negative cross wallet (MECHANICS 5.5). The venue
        may also call this after ordinary fills, which can leave such deficits."""
        if account_id == EXTERNAL:
            return []
        account = self.ledger.account(account_id)
        records = [
            self.fund.pay(
                ts, account_id, -pos.isolated_wallet, NEGATIVE_BALANCE_RESET, symbol, isolated=True
            )
            for symbol, pos in account.positions.items()
            if pos.isolated and pos.qty == 0 and pos.isolated_wallet < 0
        ]
        cross_open = any(p.qty and not p.isolated for p in account.positions.values())
        if not cross_open and account.wallet < 0:
            records.append(self.fund.pay(ts, account_id, -account.wallet, NEGATIVE_BALANCE_RESET))
        return records
