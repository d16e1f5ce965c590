"""The insurance fund: flows between ledger wallets, each recorded, conservation exact."""

from __future__ import annotations

import pytest

from harness.venue.ledger.accounts import Ledger, LedgerError
from harness.venue.liquidation.insurance_fund import INSURANCE_FUND, InsuranceFund
from harness.venue.profiles.binance_usdm import BTCUSDT

USDT = 10**8


def test_flows_are_recorded_and_conserved() -> None:
    ledger = Ledger([BTCUSDT])
    ledger.open_account("a")
    ledger.deposit("a", 100 * USDT)
    fund = InsuranceFund(ledger)
    seeded = fund.seed(1_000 * USDT, 5)
    assert seeded == {
        "ts": 5,
        "kind": "insurance_fund",
        "account": "",
        "symbol": "",
        "amount": 1_000 * USDT,
        "reason": "seed",
        "balance": 1_000 * USDT,
    }
    fund.collect(6, "a", 30 * USDT, "clearance_fee", "BTCUSDT")
    paid = fund.pay(7, "a", 50 * USDT, "shortfall", "BTCUSDT")
    assert (paid["amount"], paid["balance"]) == (-50 * USDT, 980 * USDT)
    assert fund.balance == ledger.account(INSURANCE_FUND).wallet == 980 * USDT
    assert ledger.account("a").wallet == 120 * USDT
    assert [r["reason"] for r in fund.history] == ["seed", "clearance_fee", "shortfall"]
    ledger.check_conservation()


def test_isolated_payment_and_refusals() -> None:
    ledger = Ledger([BTCUSDT])
    ledger.open_account("a")
    fund = InsuranceFund(ledger)
    ledger.position("a", "BTCUSDT").isolated_wallet = -7  # a deficit the ledger left
    ledger.account("a").wallet = 7
    fund.seed(10, 0)
    fund.pay(1, "a", 7, "negative_balance_reset", "BTCUSDT", isolated=True)
    assert ledger.position("a", "BTCUSDT").isolated_wallet == 0
    assert fund.balance == 3
    with pytest.raises(LedgerError):
        fund.collect(2, "a", -1, "x")
    with pytest.raises(LedgerError):
        fund.pay(2, "a", -1, "x")
    # A second fund object over the same ledger reuses the account.
    assert InsuranceFund(ledger).balance == 3
