"""Per-symbol market features: how fast the mark moves, how thin the book is near the touch,
and how far funding sits from what that volatility would justify.

The mark comes from the journal's `mark` records; funding is the last settled rate from the
`funding` records (one rate per settlement, the same for every account) or, before the first
settlement, the latest premium index from the market view, which is what funding drifts toward;
depth comes from the market view at each sample.
"""

from __future__ import annotations

from collections import deque

from harness import journal as jk
from harness.journal import Record
from harness.risk.features import BOOK_THINNESS, FUNDING_VOL_GAP, REALIZED_VOL
from harness.risk.market_view import MarketView

THINNESS_NUMERATOR = 1_000_000


class MarketFeatures:
    def __init__(self, view: MarketView, window_ns: int, depth_ticks: int) -> None:
        self.view = view
        self.window_ns = window_ns
        self.depth_ticks = depth_ticks
        self._last_mark: dict[str, int] = {}
        self._moves: dict[str, deque[tuple[int, int]]] = {}
        self._funding_e8: dict[str, int] = {}

    def on_record(self, record: Record) -> None:
        symbol = record.symbol
        if record.kind == jk.MARK and symbol:
            mark = record.fields.get("mark")
            if type(mark) is not int:
                return
            last = self._last_mark.get(symbol)
            self._last_mark[symbol] = mark
            moves = self._moves.setdefault(symbol, deque())
            if last is not None:
                moves.append((record.ts, abs(mark - last)))
        elif record.kind == jk.FUNDING and symbol:
            rate = record.fields.get("rate_e8")
            if type(rate) is int:
                self._funding_e8[symbol] = rate

    def sample(self, now: int) -> dict[str, dict[str, int]]:
        since = now - self.window_ns
        out: dict[str, dict[str, int]] = {}
        for symbol, moves in self._moves.items():
            while moves and moves[0][0] <= since:
                moves.popleft()
            path = sum(move for _, move in moves)
            bids, asks = self.view.depth_near_touch(symbol, self.depth_ticks)
            values = {
                REALIZED_VOL.name: path,
                BOOK_THINNESS.name: THINNESS_NUMERATOR // (bids + asks + 1),
            }
            rate = self._funding_e8.get(symbol)
            if rate is None:
                rate = self.view.premium_e8(symbol)
            if rate is not None:
                values[FUNDING_VOL_GAP.name] = abs(rate) // (path + 1)
            out[symbol] = values
        return out
