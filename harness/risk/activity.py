"""Per-account order activity from the journal: cancels, fills, rejects, and order size against
the book it meets, counted over a trailing window.

Rejects are recognised by kind so that records other parts of the harness add later (a gateway's
rate-limit rejects, say) count without a change here: `order_rejected`, `request_throttled` and
any kind ending in `_rejected`, `_reject` or `_throttled`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from harness import journal as jk
from harness.journal import Record
from harness.risk.features import (
    CANCEL_FILL_RATIO,
    CANCEL_RATE,
    ORDER_DEPTH_SHARE,
    PPM,
    REJECT_RATE,
)
from harness.risk.market_view import MarketView

_REJECT_SUFFIXES = ("_rejected", "_reject", "_throttled")


def is_reject(kind: str) -> bool:
    return kind in (jk.ORDER_REJECTED, jk.REQUEST_THROTTLED) or kind.endswith(_REJECT_SUFFIXES)


@dataclass
class _Events:
    cancels: deque[int] = field(default_factory=deque)
    fills: deque[int] = field(default_factory=deque)
    rejects: deque[int] = field(default_factory=deque)
    orders: deque[tuple[int, int]] = field(default_factory=deque)
    """(ts, order qty in ppm of the thinner side's lots near the touch)."""


def _trim(times: deque[int], since: int) -> None:
    while times and times[0] <= since:
        times.popleft()


class ActivityFeatures:
    def __init__(self, view: MarketView, window_ns: int, depth_ticks: int) -> None:
        self.view = view
        self.window_ns = window_ns
        self.depth_ticks = depth_ticks
        self._accounts: dict[str, _Events] = {}

    def on_record(self, record: Record) -> None:
        account, kind = record.account, record.kind
        if not account:
            return
        if kind == jk.ORDER_CANCELLED:
            self._of(account).cancels.append(record.ts)
        elif kind == jk.FILL:
            self._of(account).fills.append(record.ts)
        elif kind == jk.ORDER_ACCEPTED:
            share = self._depth_share(record)
            if share is not None:
                self._of(account).orders.append((record.ts, share))
        elif is_reject(kind):
            self._of(account).rejects.append(record.ts)

    def _of(self, account: str) -> _Events:
        events = self._accounts.get(account)
        if events is None:
            events = self._accounts[account] = _Events()
        return events

    def _depth_share(self, record: Record) -> int | None:
        qty = record.fields.get("qty")
        if not record.symbol or type(qty) is not int or qty <= 0:
            return None
        bids, asks = self.view.depth_near_touch(record.symbol, self.depth_ticks)
        return qty * PPM // max(1, min(bids, asks))

    def sample(self, now: int) -> dict[str, dict[str, int]]:
        """Feature values of every account active within the window, in first-seen order."""
        since = now - self.window_ns
        out: dict[str, dict[str, int]] = {}
        for account, events in self._accounts.items():
            _trim(events.cancels, since)
            _trim(events.fills, since)
            _trim(events.rejects, since)
            while events.orders and events.orders[0][0] <= since:
                events.orders.popleft()
            if not (events.cancels or events.fills or events.rejects or events.orders):
                continue
            cancels = len(events.cancels)
            out[account] = {
                CANCEL_RATE.name: cancels,
                CANCEL_FILL_RATIO.name: cancels * PPM // (len(events.fills) + 1),
                REJECT_RATE.name: len(events.rejects),
                ORDER_DEPTH_SHARE.name: max((share for _, share in events.orders), default=0),
            }
        return out
