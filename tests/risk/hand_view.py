"""A market view answered from numbers a test sets by hand (depth, mid, exposures)."""

from __future__ import annotations

from harness.risk.market_view import Exposure


class HandView:
    def __init__(self) -> None:
        self.depth: dict[str, tuple[int, int]] = {}
        self.mids2: dict[str, int] = {}
        self.exposures: dict[str, Exposure] = {}
        self.premiums_e8: dict[str, int] = {}

    def mid2(self, symbol: str) -> int | None:
        return self.mids2.get(symbol)

    def depth_near_touch(self, symbol: str, ticks: int) -> tuple[int, int]:
        return self.depth.get(symbol, (0, 0))

    def exposure(self, account: str) -> Exposure | None:
        return self.exposures.get(account)

    def premium_e8(self, symbol: str) -> int | None:
        return self.premiums_e8.get(symbol)
