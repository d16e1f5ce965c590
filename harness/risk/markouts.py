"""Fill markouts: how the mid moved after each fill, signed to the fill's side (toxicity).

markout = side x (mid at fill time + h - fill price): positive when the fill was followed by a
move in its favour, negative when the counterparty knew better. The recorder hears fills through
the journal and reads the mid from the market view at exactly fill time + h (one scheduled
call each, reading only), so markouts need no mid history; horizons past the run's end are not
measured. Mids are kept doubled (bid + ask, whole ticks) so the math stays in integers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from harness import journal as jk
from harness.journal import Record
from harness.risk.market_view import MarketView
from harness.sim.clock import SimEnv


@dataclass(frozen=True)
class FillMark:
    account: str
    symbol: str
    side: int
    price: int
    qty: int
    maker: bool
    horizon_ns: int
    mid2_after: int


def markout_ticks(side: int, price: int, mid2_after: int) -> Fraction:
    """side x (mid - price) in ticks (a half tick when the spread is odd)."""
    return Fraction(side * (mid2_after - 2 * price), 2)


def markout_units(
    side: int, price: int, qty: int, mid2_after: int, units_per_lot_tick: int
) -> Fraction:
    """The markout in money units for the whole fill: ticks x lots x units per lot-tick."""
    return markout_ticks(side, price, mid2_after) * qty * units_per_lot_tick


class MarkoutRecorder:
    def __init__(
        self,
        env: SimEnv,
        view: MarketView,
        accounts: tuple[str, ...],
        horizons_ns: tuple[int, ...],
        end: int,
    ) -> None:
        self.env = env
        self.view = view
        self.accounts = accounts
        self.horizons_ns = horizons_ns
        self.end = end
        self.marks: list[FillMark] = []

    def on_record(self, record: Record) -> None:
        if record.kind != jk.FILL or record.account not in self.accounts:
            return
        fields = record.fields
        side, price, qty = fields.get("side"), fields.get("price"), fields.get("qty")
        if type(side) is not int or type(price) is not int or type(qty) is not int:
            return
        maker = fields.get("liquidity") == "MAKER"
        for horizon in self.horizons_ns:
            at = record.ts + horizon
            if at < self.end:
                self.env.call_at(
                    at,
                    self._reader(record.account, record.symbol, side, price, qty, maker, horizon),
                )

    def _reader(
        self, account: str, symbol: str, side: int, price: int, qty: int, maker: bool, horizon: int
    ) -> Callable[[], None]:
        def read() -> None:
            mid2 = self.view.mid2(symbol)
            if mid2 is not None:
                self.marks.append(FillMark(account, symbol, side, price, qty, maker, horizon, mid2))

        return read
