"""Random fills, fees, funding and transfers among several accounts: nothing created or lost."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.venue.ledger.accounts import EXTERNAL, Ledger, LedgerError
from harness.venue.profiles.binance_usdm import BTCUSDT, ETHUSDT

ACCOUNTS = ("a", "b", "c")
TIERS = {"a": "regular", "b": "mm3", "c": "vip9"}
SYMBOLS = ("BTCUSDT", "ETHUSDT")
# Around 60,000 for BTC (0.1 ticks) and 3,000 for ETH (0.01 ticks), wide enough to lose money.
PRICES = {"BTCUSDT": st.integers(400_000, 800_000), "ETHUSDT": st.integers(200_000, 400_000)}

accounts = st.sampled_from(ACCOUNTS)
symbols = st.sampled_from(SYMBOLS)
sides = st.sampled_from([1, -1])
quantities = st.integers(1, 5_000)

Marks = dict[str, int]
Outside = dict[str, int]


@dataclass(frozen=True)
class Deposit:
    account: str
    amount: int

    def run(self, ledger: Ledger, marks: Marks, outside: Outside) -> None:
        ledger.deposit(self.account, self.amount)


@dataclass(frozen=True)
class Withdraw:
    account: str
    amount: int

    def run(self, ledger: Ledger, marks: Marks, outside: Outside) -> None:
        ledger.withdraw(self.account, self.amount, marks)


@dataclass(frozen=True)
class Fill:
    account: str
    symbol: str
    side: int
    qty: int
    price: int
    maker: bool

    def run(self, ledger: Ledger, marks: Marks, outside: Outside) -> None:
        ledger.apply_fill(self.account, self.symbol, self.side, self.qty, self.price, self.maker)
        outside[self.symbol] += self.side * self.qty


@dataclass(frozen=True)
class Match:
    taker: str
    maker: str
    symbol: str
    side: int
    qty: int
    price: int

    def run(self, ledger: Ledger, marks: Marks, outside: Outside) -> None:
        ledger.apply_match(self.symbol, self.qty, self.price, self.taker, self.side, self.maker)


@dataclass(frozen=True)
class Funding:
    symbol: str
    rate: int
    mark: int

    def run(self, ledger: Ledger, marks: Marks, outside: Outside) -> None:
        assert ledger.apply_funding(self.symbol, self.rate, self.mark).remainder_units >= 0


@dataclass(frozen=True)
class Isolate:
    account: str
    symbol: str
    isolated: bool

    def run(self, ledger: Ledger, marks: Marks, outside: Outside) -> None:
        ledger.set_margin_mode(self.account, self.symbol, self.isolated)


@dataclass(frozen=True)
class Leverage:
    account: str
    symbol: str
    leverage: int

    def run(self, ledger: Ledger, marks: Marks, outside: Outside) -> None:
        ledger.set_leverage(self.account, self.symbol, self.leverage)


@dataclass(frozen=True)
class AdjustMargin:
    account: str
    symbol: str
    amount: int

    def run(self, ledger: Ledger, marks: Marks, outside: Outside) -> None:
        ledger.adjust_isolated_margin(self.account, self.symbol, self.amount, marks)


Op = Deposit | Withdraw | Fill | Match | Funding | Isolate | Leverage | AdjustMargin

ops: st.SearchStrategy[Op] = st.one_of(
    st.builds(Deposit, accounts, st.integers(1, 10**14)),
    st.builds(Withdraw, accounts, st.integers(1, 10**13)),
    symbols.flatmap(
        lambda s: st.builds(Fill, accounts, st.just(s), sides, quantities, PRICES[s], st.booleans())
    ),
    symbols.flatmap(
        lambda s: st.builds(Match, accounts, accounts, st.just(s), sides, quantities, PRICES[s])
    ),
    symbols.flatmap(
        lambda s: st.builds(Funding, st.just(s), st.integers(-300_000, 300_000), PRICES[s])
    ),
    st.builds(Isolate, accounts, symbols, st.booleans()),
    st.builds(Leverage, accounts, symbols, st.integers(1, 150)),
    st.builds(AdjustMargin, accounts, symbols, st.integers(-(10**12), 10**12)),
)


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(ops, min_size=5, max_size=80), marks=st.fixed_dictionaries(PRICES))
def test_money_and_lots_are_conserved(steps: list[Op], marks: Marks) -> None:
    ledger = Ledger([BTCUSDT, ETHUSDT])
    for account_id in ACCOUNTS:
        ledger.open_account(account_id, fee_tier=TIERS[account_id])
    outside = dict.fromkeys(SYMBOLS, 0)
    for step in steps:
        # A refused request must leave the books untouched, which the checks below confirm.
        with suppress(LedgerError):
            step.run(ledger, marks, outside)

        ledger.check_conservation()
        for symbol in SYMBOLS:
            inside = sum(ledger.position(a, symbol).qty for a in ACCOUNTS)
            assert inside == outside[symbol]
            assert ledger.position(EXTERNAL, symbol).qty == -outside[symbol]
        # The same identity read through valuation: everyone's equity at any marks + fee pool.
        equity = sum(
            ledger.account(a).wallet
            + sum(
                pos.isolated_wallet + ledger.unrealized_pnl(a, s, marks[s])
                for s, pos in ledger.account(a).positions.items()
            )
            for a in (*ACCOUNTS, EXTERNAL)
        )
        deposits = sum(ledger.account(a).net_deposits_units for a in ACCOUNTS)
        assert equity + ledger.fee_pool_units == deposits


@settings(max_examples=200, deadline=None)
@given(
    fills=st.lists(st.tuples(sides, quantities, PRICES["BTCUSDT"]), min_size=1, max_size=20),
    exit_price=PRICES["BTCUSDT"],
)
def test_realized_pnl_of_a_round_trip_is_exact(
    fills: list[tuple[int, int, int]], exit_price: int
) -> None:
    """However the rounding of partial reduces fell, a position taken back to flat has realized
    exactly its cash flow: minus the sum of signed lots x ticks x units."""
    ledger = Ledger([BTCUSDT])
    ledger.open_account("a", fee_tier="vip9")
    realized = 0
    flow = 0
    for side, qty, price in fills:
        realized += ledger.apply_fill("a", "BTCUSDT", side, qty, price, True).realized_pnl
        flow -= BTCUSDT.notional_units(side * qty, price)
    left = ledger.position("a", "BTCUSDT").qty
    if left:
        close_side = -1 if left > 0 else 1
        realized += ledger.apply_fill(
            "a", "BTCUSDT", close_side, abs(left), exit_price, True
        ).realized_pnl
        flow -= BTCUSDT.notional_units(close_side * abs(left), exit_price)
    assert realized == flow
    assert ledger.position("a", "BTCUSDT").cost_units == 0
