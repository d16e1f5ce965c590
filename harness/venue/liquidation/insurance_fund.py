"""The insurance fund: a ledger account of the venue, every inflow and outflow with a reason.

The fund's money lives in the ledger as the system account `INSURANCE_FUND` (fee-free, like
`EXTERNAL`), so `Ledger.conservation_gap` already counts it: the starting balance is a deposit
(net deposits), and every flow moves units between the fund's wallet and another wallet of the
ledger, never creating or destroying any. Balances are integer units of 1e-8 USDT.

Every flow returns a journal-ready record (kind `insurance_fund`, the counterparty as account,
signed `amount`: positive an inflow, `reason`, and the fund's `balance` after) and is kept in
`history`, the fund's path for the run summary.

Records of the whole liquidation path share one shape, `Record`: a dict with `ts`, `kind`,
`account` and `symbol` (the journal's record head) and the record's fields, all int, str or bool,
so the venue can journal one with `journal.append(**record)`-style unpacking of the head.
"""

from __future__ import annotations

from harness import journal as jk
from harness.venue.ledger.accounts import Ledger, LedgerError

INSURANCE_FUND = "@insurance"

Record = dict[str, int | str | bool]

# Reasons for flows, one vocabulary for the journal.
SEED = "seed"
CLEARANCE_FEE = "clearance_fee"
LIQUIDATION_SURPLUS = "liquidation_surplus"
SHORTFALL = "shortfall"
NEGATIVE_BALANCE_RESET = "negative_balance_reset"


def record(ts: int, kind: str, account: str, symbol: str, **fields: int | str | bool) -> Record:
    """A journal-ready record: the head (ts, kind, account, symbol), then the fields."""
    return {"ts": ts, "kind": kind, "account": account, "symbol": symbol, **fields}


class InsuranceFund:
    """The fund's balance and flows, kept in the ledger's `INSURANCE_FUND` account."""

    def __init__(self, ledger: Ledger, account_id: str = INSURANCE_FUND) -> None:
        self.ledger = ledger
        self.account_id = account_id
        if account_id not in ledger.accounts:
            ledger.open_system_account(account_id)
        self.history: list[Record] = []

    @property
    def balance(self) -> int:
        return self.ledger.account(self.account_id).wallet

    def seed(self, amount: int, ts: int) -> Record:
        """The starting balance (or a top-up): money from outside, counted as a deposit."""
        self.ledger.deposit(self.account_id, amount)
        return self._log(ts, "", "", amount, SEED)

    def collect(self, ts: int, source: str, amount: int, reason: str, symbol: str = "") -> Record:
        """Move `amount` (>= 0) units from `source`'s cross wallet into the fund."""
        if amount < 0:
            raise LedgerError("a collection must not be negative")
        self.ledger.account(source).wallet -= amount
        self.ledger.account(self.account_id).wallet += amount
        return self._log(ts, source, symbol, amount, reason)

    def pay(
        self,
        ts: int,
        target: str,
        amount: int,
        reason: str,
        symbol: str = "",
        *,
        isolated: bool = False,
    ) -> Record:
        """Move `amount` (>= 0) units from the fund to `target`'s cross wallet, or to its
        isolated wallet of `symbol`. The fund may go negative: the record shows it, and the
        liquidator bounds what it asks the fund for (see `liquidator`)."""
        if amount < 0:
            raise LedgerError("a payment must not be negative")
        if isolated:
            self.ledger.position(target, symbol).isolated_wallet += amount
        else:
            self.ledger.account(target).wallet += amount
        self.ledger.account(self.account_id).wallet -= amount
        return self._log(ts, target, symbol, -amount, reason)

    def _log(self, ts: int, account: str, symbol: str, amount: int, reason: str) -> Record:
        entry = record(
            ts,
            jk.INSURANCE_FUND,
            account,
            symbol,
            amount=amount,
            reason=reason,
            balance=self.balance,
        )
        self.history.append(entry)
        return entry
