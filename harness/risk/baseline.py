"""The rolling baseline of one feature series: its last samples, kept sorted for the median."""

from __future__ import annotations

from collections import deque
from fractions import Fraction

from sortedcontainers import SortedList

from harness.risk.robust import mad, median


class Baseline:
    """The last `size` samples of a series, excluding the one being scored.

    The median is O(log n) from the sorted copy; the MAD is O(n) and computed only when a score
    could reach an alert (see `Scorer`), which keeps a calm run cheap.
    """

    __slots__ = ("_ordered", "_window", "size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a baseline needs at least one sample")
        self.size = size
        self._window: deque[int] = deque()
        self._ordered: SortedList = SortedList()

    def __len__(self) -> int:
        return len(self._window)

    def push(self, value: int) -> None:
        self._window.append(value)
        self._ordered.add(value)
        if len(self._window) > self.size:
            self._ordered.remove(self._window.popleft())

    def median(self) -> Fraction:
        return median(self._ordered)

    def median2(self) -> int:
        """Twice the median, an integer: cheap to compare against without Fractions."""
        ordered, middle = self._ordered, len(self._ordered) // 2
        doubled: int = (
            2 * ordered[middle] if len(ordered) % 2 else ordered[middle - 1] + ordered[middle]
        )
        return doubled

    def mad(self, center: Fraction) -> Fraction:
        return mad(self._window, center)
