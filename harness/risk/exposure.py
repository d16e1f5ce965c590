"""Margin pressure per account and across accounts, sampled from the venue's margin state.

Per account: its margin ratio and effective leverage. Venue-wide: the share of accounts with
positions whose margin ratio is above a near-margin level, and the share whose ratio rose by at
least `rise` since its oldest sample within the window (samples at now - window included) -
many accounts getting worse together is what precedes a cascade.
Accounts are followed from the records that can change a position (fills, position, liquidation
and ADL records), and forgotten while flat.
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction

from harness import journal as jk
from harness.journal import Record
from harness.risk.features import (
    LEVERAGE,
    MARGIN_RATIO,
    MARGIN_RISING_SHARE,
    NEAR_MARGIN_SHARE,
    PPM,
)
from harness.risk.market_view import MarketView

_POSITION_KINDS = (jk.FILL, jk.POSITION, jk.LIQUIDATION, jk.ADL)

UNBOUNDED_RATIO_PPM = 10 * PPM
"""The margin ratio recorded for an account whose margin balance is gone."""


class ExposureFeatures:
    def __init__(
        self, view: MarketView, window_ns: int, near_margin: Fraction, rise: Fraction
    ) -> None:
        self.view = view
        self.window_ns = window_ns
        self.near_margin_ppm = int(near_margin * PPM)
        self.rise_ppm = int(rise * PPM)
        self._followed: dict[str, None] = {}
        self._history: dict[str, deque[tuple[int, int]]] = {}

    def on_record(self, record: Record) -> None:
        if record.account and record.kind in _POSITION_KINDS:
            self._followed[record.account] = None

    def sample(self, now: int) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
        """(per-account features, venue-wide features); venue-wide is empty with no positions."""
        accounts: dict[str, dict[str, int]] = {}
        near = rising = 0
        since = now - self.window_ns
        for account in list(self._followed):
            exposure = self.view.exposure(account)
            if exposure is None or exposure.notional == 0:
                del self._followed[account]
                self._history.pop(account, None)
                continue
            ratio = exposure.ratio
            leverage = exposure.leverage
            ratio_ppm = UNBOUNDED_RATIO_PPM if ratio is None else int(ratio * PPM)
            accounts[account] = {
                MARGIN_RATIO.name: ratio_ppm,
                LEVERAGE.name: 1000 * PPM if leverage is None else int(leverage * PPM),
            }
            history = self._history.setdefault(account, deque())
            history.append((now, ratio_ppm))
            while history[0][0] < since:
                history.popleft()
            near += ratio_ppm >= self.near_margin_ppm
            rising += ratio_ppm - history[0][1] >= self.rise_ppm
        if not accounts:
            return accounts, {}
        n = len(accounts)
        venue = {
            NEAR_MARGIN_SHARE.name: near * PPM // n,
            MARGIN_RISING_SHARE.name: rising * PPM // n,
        }
        return accounts, venue
