"""The risk engine's trigger index against a full exact scan: same warnings, same due accounts."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.units import Side
from harness.venue.ledger.accounts import Ledger, MarginState
from harness.venue.liquidation.risk_engine import RiskEngine
from harness.venue.profiles.binance_usdm import BTCUSDT

BUY, SELL = Side.BUY, Side.SELL

SYM = "BTCUSDT"
LEVELS = (0.8, 0.9)

position_st = st.tuples(
    st.booleans(),  # long
    st.integers(1, 20_000),  # lots
    st.integers(2, 125),  # leverage at entry
    st.integers(30, 300),  # wallet, % of the initial margin
    st.booleans(),  # isolated
)


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(position_st, min_size=1, max_size=8),
    st.lists(st.integers(-300, 300), min_size=1, max_size=30),
)
def test_index_finds_what_an_exact_scan_of_every_account_finds(
    positions: list[tuple[bool, int, int, int, bool]], moves: list[int]
) -> None:
    ledger = Ledger([BTCUSDT])
    risk = RiskEngine(ledger)
    names = []
    for n, (long, lots, leverage, wallet_pct, isolated) in enumerate(positions):
        name = f"a{n}"
        names.append(name)
        ledger.open_account(name)
        margin = BTCUSDT.notional_units(lots, 600_000) // leverage
        deposit = max(1, margin * wallet_pct // 100)
        ledger.deposit(name, deposit)
        if isolated:
            ledger.set_margin_mode(name, SYM, True)
            ledger.set_leverage(name, SYM, min(leverage, 20))
        ledger.apply_fill(name, SYM, BUY if long else SELL, lots, 600_000, True, charge_fee=False)
        if isolated:  # the isolated wallet is what the draw says, whatever the leverage setting
            pos = ledger.position(name, SYM)
            account = ledger.account(name)
            account.wallet += pos.isolated_wallet - deposit
            pos.isolated_wallet = deposit
        risk.update_account(name)
    passed = dict.fromkeys(names, 0)
    mark = 600_000
    for ts, move in enumerate(moves):
        mark = max(1, mark + move * 97)
        result = risk.check(SYM, {SYM: mark}, ts)
        expected_records = []
        expected_due = set()
        for name in names:
            pos = ledger.position(name, SYM)
            state: MarginState = (
                ledger.isolated_margin_state(name, SYM, mark)
                if pos.isolated
                else ledger.margin_state(name, {SYM: mark})
            )
            ratio = state.ratio
            if state.maintenance == 0:
                now = 0
            elif ratio is None:
                now = len(LEVELS)
            else:
                now = sum(ratio >= level for level in (risk.levels))
            expected_records += [(name, str(risk.levels[k])) for k in range(passed[name], now)]
            passed[name] = now
            if state.liquidatable:
                expected_due.add(name)
        got = sorted((str(r["account"]), str(r["level"])) for r in result.records)
        assert got == sorted(expected_records), (ts, mark)
        assert {d.account_id for d in result.due} == expected_due, (ts, mark)
        assert result.records == [] or risk.last_checked >= len(expected_due)
