"""Guardrails: named, deterministic settings whose every trip is a record with its inputs.

- `price_band`: limit orders beyond mark x (1 +- band) are rejected and market orders may not fill
  beyond the take bound; that guardrail lives in the matching engine (`EngineConfig.price_band`,
  `market_take_bound`, rejection reasons `PRICE_BAND` and `MARKET_TAKE_BOUND`).
- `max_position`: a position may not exceed the notional cap of the highest bracket whose max
  leverage allows the position's leverage (`MaxPosition`).
- `circuit_breaker`: halt matching for a symbol when the mark moves more than a fraction within a
  window (`CircuitBreaker`, a pure detector fed marks in time order).
- `reduce_only_mode`: accounts at or above a margin-ratio threshold may only reduce
  (`ReduceOnlyMode`).
- `bracket_schedule`: bracket tables or max leverage changed at given times (`BracketSchedule`),
  as venues did in May 2022.
Records have kind `guardrail`, a `guardrail` field with the name, and the inputs of the decision.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction

from harness import journal as jk
from harness.venue.ledger.accounts import Ledger, MarginState
from harness.venue.ledger.instruments import QUOTE_SCALE, BracketTable, Instrument
from harness.venue.liquidation.insurance_fund import Record, record

GUARDRAIL = jk.GUARDRAIL


@dataclass(frozen=True)
class MaxPosition:
    """The largest notional the brackets allow at a leverage: the cap of the last tier whose max
    leverage is at least that leverage (orders that would pass it are refused)."""

    name: str = "max_position"

    @staticmethod
    def max_notional(brackets: BracketTable, leverage: int) -> Fraction:
        caps = [b.cap for b in brackets.tiers if b.max_leverage >= leverage]
        return caps[-1] if caps else Fraction(0)

    def check(
        self,
        inst: Instrument,
        account_id: str,
        leverage: int,
        position_lots: int,
        price_ticks: int,
        ts: int,
    ) -> Record | None:
        """A trip record if `position_lots` (signed, after the order) at `price_ticks` is above
        the cap for `leverage`; None when allowed."""
        notional = Fraction(abs(inst.notional_units(position_lots, price_ticks)), QUOTE_SCALE)
        cap = self.max_notional(inst.brackets, leverage)
        if notional <= cap:
            return None
        return record(
            ts,
            GUARDRAIL,
            account_id,
            inst.symbol,
            guardrail=self.name,
            leverage=leverage,
            position=position_lots,
            price=price_ticks,
            notional=str(notional),
            cap=str(cap),
        )


class CircuitBreaker:
    """Trips when the mark is more than `max_move` away from any mark of the last `window_ns`;
    matching for the symbol is halted for `halt_ns` from the trip, and the window restarts there.

    Marks must come in time order per symbol. Monotonic deques keep the window's lowest and
    highest mark, so each mark costs O(1) amortised."""

    def __init__(
        self,
        max_move: Fraction = Fraction(10, 100),
        window_ns: int = 60_000_000_000,
        halt_ns: int = 60_000_000_000,
        name: str = "circuit_breaker",
    ) -> None:
        if not 0 < max_move < 1 or window_ns <= 0 or halt_ns <= 0:
            raise ValueError("circuit breaker needs 0 < max_move < 1 and positive durations")
        self.name = name
        self.max_move = max_move
        self.window_ns = window_ns
        self.halt_ns = halt_ns
        self._lows: dict[str, deque[tuple[int, int]]] = {}
        self._highs: dict[str, deque[tuple[int, int]]] = {}
        self._halted_until: dict[str, int] = {}

    def halted(self, symbol: str, ts: int) -> bool:
        return ts < self._halted_until.get(symbol, 0)

    def halted_until(self, symbol: str) -> int:
        """When the symbol's current (or last) halt ends; 0 if it never tripped."""
        return self._halted_until.get(symbol, 0)

    def on_mark(self, symbol: str, mark: int, ts: int) -> Record | None:
        lows = self._lows.setdefault(symbol, deque())
        highs = self._highs.setdefault(symbol, deque())
        for window in (lows, highs):
            while window and window[0][0] < ts - self.window_ns:
                window.popleft()
        trip: Record | None = None
        if not self.halted(symbol, ts):
            low = lows[0] if lows else None
            high = highs[0] if highs else None
            for ref in (low, high):
                if ref is not None and abs(mark - ref[1]) > self.max_move * ref[1]:
                    self._halted_until[symbol] = ts + self.halt_ns
                    trip = record(
                        ts,
                        GUARDRAIL,
                        "",
                        symbol,
                        guardrail=self.name,
                        mark=mark,
                        reference_mark=ref[1],
                        reference_ts=ref[0],
                        move=str(Fraction(mark - ref[1], ref[1])),
                        max_move=str(self.max_move),
                        window_ns=self.window_ns,
                        halted_until=ts + self.halt_ns,
                    )
                    # The window restarts at the trip: the halt lets the market re-price, and
                    # the marks before it must not trip it again as soon as it ends.
                    lows.clear()
                    highs.clear()
                    break
        while lows and lows[-1][1] >= mark:
            lows.pop()
        lows.append((ts, mark))
        while highs and highs[-1][1] <= mark:
            highs.pop()
        highs.append((ts, mark))
        return trip


@dataclass(frozen=True)
class ReduceOnlyMode:
    """Accounts whose margin ratio is at or above `threshold` may only send reduce-only orders."""

    threshold: Fraction = Fraction(9, 10)
    name: str = "reduce_only_mode"

    def check(
        self, account_id: str, symbol: str, state: MarginState, reduce_only: bool, ts: int
    ) -> Record | None:
        """A trip record when an order that is not reduce-only must be refused."""
        ratio = state.ratio
        above = state.maintenance > 0 and (ratio is None or ratio >= self.threshold)
        if reduce_only or not above:
            return None
        return record(
            ts,
            GUARDRAIL,
            account_id,
            symbol,
            guardrail=self.name,
            ratio="inf" if ratio is None else str(ratio),
            threshold=str(self.threshold),
            maintenance=state.maintenance,
            margin_balance=state.margin_balance,
        )


@dataclass(frozen=True)
class ScheduledChange:
    at_ns: int
    symbol: str
    brackets: BracketTable | None = None
    """A new table; None keeps the current one."""
    max_leverage: int | None = None
    """A cut of every tier's max leverage (applied after `brackets`)."""


class BracketSchedule:
    """Bracket tables and max leverage changed at given times, applied to the ledger in time
    order (ties in the order given)."""

    name = "bracket_schedule"

    def __init__(self, changes: Iterable[ScheduledChange]) -> None:
        self._pending = sorted(changes, key=lambda change: change.at_ns)

    def next_ns(self) -> int | None:
        return self._pending[0].at_ns if self._pending else None

    def apply_due(self, ledger: Ledger, ts: int) -> list[Record]:
        """Apply every change due at `ts`; one record each, with the table before and after."""
        records: list[Record] = []
        while self._pending and self._pending[0].at_ns <= ts:
            change = self._pending.pop(0)
            inst = ledger.instrument(change.symbol)
            table = change.brackets or inst.brackets
            if change.max_leverage is not None:
                table = table.with_max_leverage(change.max_leverage)
            ledger.set_instrument(replace(inst, brackets=table))
            records.append(
                record(
                    ts,
                    GUARDRAIL,
                    "",
                    change.symbol,
                    guardrail=self.name,
                    scheduled_ns=change.at_ns,
                    table_before=inst.brackets.name,
                    table_after=table.name,
                    max_leverage=table.tiers[0].max_leverage,
                )
            )
        return records
