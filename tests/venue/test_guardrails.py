"""Guardrails: each trip at hand-picked inputs, and its record."""

from __future__ import annotations

from fractions import Fraction

from harness.units import Side
from harness.venue.guardrails.catalog import (
    BracketSchedule,
    CircuitBreaker,
    MaxPosition,
    ReduceOnlyMode,
    ScheduledChange,
)
from harness.venue.ledger.accounts import Ledger, MarginState
from harness.venue.profiles.binance_usdm import BINANCE_USDM, BTCUSDT

BUY = Side.BUY

S = 1_000_000_000


def test_max_position_per_bracket() -> None:
    guard = MaxPosition()
    # Table 2024: 100x is allowed up to tier 2 (cap 800,000); 150x only in tier 1 (300,000).
    assert guard.max_notional(BTCUSDT.brackets, 100) == 800_000
    assert guard.max_notional(BTCUSDT.brackets, 150) == 300_000
    assert guard.check(BTCUSDT, "a", 100, 13_333, 600_000, 0) is None  # 799,980
    trip = guard.check(BTCUSDT, "a", 100, -13_334, 600_000, 7)  # 800,040
    assert trip is not None
    assert (trip["guardrail"], trip["cap"], trip["notional"], trip["ts"]) == (
        "max_position",
        "800000",
        "800040",
        7,
    )


def test_circuit_breaker_trips_on_a_fast_move_only() -> None:
    breaker = CircuitBreaker(max_move=Fraction(10, 100), window_ns=60 * S, halt_ns=30 * S)
    assert breaker.on_mark("X", 1_000, 0) is None
    assert breaker.on_mark("X", 950, 30 * S) is None
    assert breaker.on_mark("X", 900, 59 * S) is None  # exactly 10% below 1,000: not more
    trip = breaker.on_mark("X", 899, 60 * S)  # 1,000 at t=0 is still in the window
    assert trip is not None
    assert (trip["reference_mark"], trip["reference_ts"], trip["move"]) == (1_000, 0, "-101/1000")
    assert trip["halted_until"] == 90 * S
    assert breaker.halted("X", 89 * S) and not breaker.halted("X", 90 * S)
    assert breaker.on_mark("X", 800, 70 * S) is None  # already halted
    # Slow: 10% over more than the window never trips.
    slow = CircuitBreaker(max_move=Fraction(10, 100), window_ns=60 * S)
    assert all(slow.on_mark("Y", 1_000 - 3 * k, k * 10 * S) is None for k in range(60))


def test_reduce_only_mode_above_threshold() -> None:
    guard = ReduceOnlyMode(threshold=Fraction(9, 10))
    assert guard.check("a", "X", MarginState(89, 100), False, 0) is None
    assert guard.check("a", "X", MarginState(90, 100), True, 0) is None
    trip = guard.check("a", "X", MarginState(90, 100), False, 3)
    assert trip is not None and (trip["ratio"], trip["threshold"]) == ("9/10", "9/10")
    assert guard.check("a", "X", MarginState(5, -1), False, 0) is not None
    assert guard.check("a", "X", MarginState(0, -1), False, 0) is None  # nothing held


def test_bracket_schedule_cuts_leverage_at_its_time() -> None:
    ledger = Ledger([BTCUSDT])
    ledger.open_account("a")
    ledger.deposit("a", 10**12)
    schedule = BracketSchedule(
        [
            ScheduledChange(20 * S, "BTCUSDT", max_leverage=8),
            ScheduledChange(
                10 * S, "BTCUSDT", brackets=BINANCE_USDM.bracket_table("binance-btcusdt-2021")
            ),
        ]
    )
    assert schedule.next_ns() == 10 * S
    assert schedule.apply_due(ledger, 5 * S) == []
    first = schedule.apply_due(ledger, 10 * S)
    assert [(r["table_before"], r["table_after"]) for r in first] == [
        ("binance-btcusdt-2024", "binance-btcusdt-2021")
    ]
    last = schedule.apply_due(ledger, 25 * S)
    assert last[0]["table_after"] == "binance-btcusdt-2021@max8x"
    assert last[0]["max_leverage"] == 8 and last[0]["scheduled_ns"] == 20 * S
    check = ledger.initial_margin_check("a", "BTCUSDT", BUY, 10, 600_000, {"BTCUSDT": 600_000})
    assert not check.ok  # the account's default 20x is now above every tier's 8x
    assert schedule.next_ns() is None
