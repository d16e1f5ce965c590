"""The guardrails as the venue applies them: one gate between requests, marks and the engines.

`guardrails.py` holds the pure detectors; this module decides when each runs and what it stops:

- `price_band`: the matching engine rejects limit orders outside mark x (1 +- band) (reason
  `PRICE_BAND`); the gate turns each such rejection into a trip record with the order's price,
  the mark and the band's bounds. The band itself is a per-symbol engine setting.
- `max_position`: a submit that would take the position past the cap of the brackets at the
  position's leverage is rejected (`MAX_POSITION`), before the margin check.
- `circuit_breaker`: on each mark sample; while a symbol is halted the venue rejects its submits
  and amends (`HALTED`; cancels still work), does not pass marks to its engine (no stop triggers)
  and starts no liquidation there: due accounts wait in the queue until the halt ends. Recorded
  market data keeps flowing (it is what the real venue did), so resting orders can still be
  crossed by recorded prints. A cross account dequeued from another symbol's queue is still
  liquidated whole, its halted symbol included (the liquidator does not know about halts).
- `reduce_only_mode`: a submit that is not reduce-only from an account whose margin ratio (the
  isolated position's for an isolated symbol, else the cross account's) is at or above the
  threshold is rejected (`REDUCE_ONLY_MODE`).
- `bracket_schedule`: changes are applied on the first mark sample at or after their time, then
  every account holding the symbol is re-indexed by the caller.

Every trip is a `guardrail` record (see `guardrails.py`) the venue journals before the rejection
it causes, so the journal reads cause then effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from harness.config.scenario import GuardrailsConfig
from harness.venue.exchange.matching import MatchingEngine
from harness.venue.exchange.orders import Event, OrderRequest, Reason, Rejected, Side
from harness.venue.guardrails.catalog import (
    GUARDRAIL,
    BracketSchedule,
    CircuitBreaker,
    MaxPosition,
    ReduceOnlyMode,
    ScheduledChange,
)
from harness.venue.ledger.accounts import Ledger
from harness.venue.liquidation.insurance_fund import Record, record
from harness.venue.profiles import load_bracket_table

SECOND_NS = 1_000_000_000


@dataclass(frozen=True)
class GuardrailSettings:
    max_position: bool = True
    circuit_breaker_move: Fraction | None = None
    """Largest mark move within the window before a halt; None disables the breaker."""
    circuit_breaker_window_ns: int = 60 * SECOND_NS
    circuit_breaker_halt_ns: int = 60 * SECOND_NS
    reduce_only_ratio: Fraction | None = None
    """Margin ratio from which accounts may only reduce; None disables the mode."""
    schedule: tuple[ScheduledChange, ...] = ()


def guardrail_settings(config: GuardrailsConfig, symbols: tuple[str, ...]) -> GuardrailSettings:
    """The scenario's `[guardrails]` for the venue; ValueError names the bad schedule entry."""
    changes = []
    for i, change in enumerate(config.schedule):
        where = f"guardrails.schedule[{i}]"
        if change.symbol not in symbols:
            raise ValueError(f"{where}.symbol: {change.symbol} is not in data.symbols")
        try:
            table = load_bracket_table(change.brackets) if change.brackets else None
        except ValueError as exc:
            raise ValueError(f"{where}.brackets: {exc}") from None
        changes.append(ScheduledChange(change.at, change.symbol, table, change.max_leverage))
    move, ratio = config.circuit_breaker_move, config.reduce_only_ratio
    return GuardrailSettings(
        max_position=config.max_position == "on",
        circuit_breaker_move=None if move is None else Fraction(move),
        circuit_breaker_window_ns=config.circuit_breaker_window_ns,
        circuit_breaker_halt_ns=config.circuit_breaker_halt_ns,
        reduce_only_ratio=None if ratio is None else Fraction(ratio),
        schedule=tuple(changes),
    )


class Guardrails:
    def __init__(self, settings: GuardrailSettings, ledger: Ledger) -> None:
        self.settings = settings
        self.ledger = ledger
        self.max_position = MaxPosition() if settings.max_position else None
        self.breaker = (
            CircuitBreaker(
                settings.circuit_breaker_move,
                settings.circuit_breaker_window_ns,
                settings.circuit_breaker_halt_ns,
            )
            if settings.circuit_breaker_move is not None
            else None
        )
        self.reduce_only = (
            ReduceOnlyMode(settings.reduce_only_ratio)
            if settings.reduce_only_ratio is not None
            else None
        )
        self.schedule = BracketSchedule(settings.schedule)

    # -- marks --------------------------------------------------------------------------------

    def halted(self, symbol: str, ts: int) -> bool:
        return self.breaker is not None and self.breaker.halted(symbol, ts)

    def halted_until(self, symbol: str) -> int:
        return self.breaker.halted_until(symbol) if self.breaker is not None else 0

    def on_mark(self, symbol: str, mark: int, ts: int) -> Record | None:
        """Feed the breaker; a trip record when this mark halts the symbol."""
        return self.breaker.on_mark(symbol, mark, ts) if self.breaker is not None else None

    def apply_schedule(self, ts: int) -> list[Record]:
        """Bracket changes due at `ts`, applied to the ledger; one record each."""
        due = self.schedule.next_ns()
        if due is None or due > ts:
            return []
        return self.schedule.apply_due(self.ledger, ts)

    # -- requests -----------------------------------------------------------------------------

    def admit(
        self,
        symbol: str,
        request: OrderRequest,
        price: int | None,
        marks: Mapping[str, int],
        ts: int,
    ) -> tuple[Reason, Record | None] | None:
        """None when the submit may go on; else the rejection reason and the trip record (None
        for a rejection during a halt: the halt's own record is the trip)."""
        if self.halted(symbol, ts):
            return Reason.HALTED, None
        account = request.account
        if account not in self.ledger.accounts:
            return None
        pos = self.ledger.position(account, symbol)
        if self.reduce_only is not None and not request.reduce_only and symbol in marks:
            if pos.isolated:
                state = self.ledger.isolated_margin_state(account, symbol, marks[symbol])
            else:
                state = self.ledger.margin_state(account, marks)
            trip = self.reduce_only.check(account, symbol, state, False, ts)
            if trip is not None:
                return Reason.REDUCE_ONLY_MODE, trip
        if self.max_position is not None and not request.reduce_only and price is not None:
            after = pos.qty + int(request.side) * request.qty
            if abs(after) > abs(pos.qty):
                inst = self.ledger.instrument(symbol)
                trip = self.max_position.check(inst, account, pos.leverage, after, price, ts)
                if trip is not None:
                    return Reason.MAX_POSITION, trip
        return None

    @staticmethod
    def band_trips(
        engine: MatchingEngine, side: Side, price: int | None, events: list[Event], ts: int
    ) -> list[Record]:
        """A `price_band` record for each engine rejection of `price` outside the band (a buy
        may not pass `high`, a sell may not pass `low`)."""
        band, mark = engine.config.price_band, engine.mark
        if band is None or mark is None or price is None:
            return []
        return [
            record(
                ts,
                GUARDRAIL,
                event.account,
                event.symbol,
                guardrail="price_band",
                client_id=event.client_id,
                side=int(side),
                price=price,
                mark=mark,
                band=str(band),
                low=-(-mark * (band.denominator - band.numerator) // band.denominator),
                high=mark * (band.denominator + band.numerator) // band.denominator,
            )
            for event in events
            if isinstance(event, Rejected) and event.reason is Reason.PRICE_BAND
        ]
