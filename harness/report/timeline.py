"""Time series for the report's charts, read from the journal generically.

A series is a list of (ts, value) integer points. What is charted:
- price per symbol: `last` and `mark` of `mark` records, the liquidation markers (each
  `partial`/`full` close at its bankruptcy price) and the risk alerts (`risk_alert`), drawn at
  the symbol's mark at the alert (an alert on an account, with no symbol, on every symbol with
  a mark so far);
- the insurance fund balance (`insurance_fund` records), held to the journal's last record so
  a fund that never moved still shows as a line;
- rejects per second: `order_rejected` and `request_throttled` records, by reason;
- rate limits: the limits in force (`limits_changed`, held to the journal's last record) and
  the usage a throttled request found (`request_throttled`: `weight_1m`, `orders_10s`);
- engine queue depth per symbol: the gateway's samples (`engine_queue`, journaled when the
  depth changed, held to the last record);
- any other numeric field (identifiers aside) of a record kind the report does not know, one
  chart per (kind, field) with one series per account (or symbol), so records added by other parts
  of the harness (rate-limit usage, engine queue depth, ...) chart without changes here.

`downsample` keeps a series drawable however long it is: it cuts it into equal runs of points and
keeps each run's first, minimum, maximum and last point (in time order), so spikes survive; the
cut depends only on the point count, so it is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeGuard, TypeVar

from harness import journal as jk
from harness.journal import Record

Points = list[tuple[int, int]]
V = TypeVar("V", int, float)

KNOWN_KINDS = frozenset(
    (
        jk.ORDER_ACCEPTED,
        jk.ORDER_REJECTED,
        jk.ORDER_CANCELLED,
        jk.ORDER_EXPIRED,
        jk.ORDER_AMENDED,
        jk.ORDER_TRIGGERED,
        jk.FILL,
        jk.POSITION,
        jk.BALANCE,
        jk.FEE,
        jk.FUNDING,
        jk.MARK,
        jk.MARGIN_CALL,
        jk.LIQUIDATION,
        jk.INSURANCE_FUND,
        jk.ADL,
        jk.REQUEST_THROTTLED,
        jk.LIMITS_CHANGED,
        jk.ENGINE_QUEUE,
        jk.RISK_ALERT,
    )
)
"""Kinds charted above, or per order and per account (ids and sizes, not a venue-wide series)."""
REJECT_KINDS = (jk.ORDER_REJECTED, jk.REQUEST_THROTTLED)
LIMIT_FIELDS = ("weight_1m", "orders_10s", "orders_1m")
SECOND_NS = 1_000_000_000


@dataclass
class Timeline:
    last: dict[str, Points] = field(default_factory=dict)
    mark: dict[str, Points] = field(default_factory=dict)
    liquidations: dict[str, Points] = field(default_factory=dict)
    fund: Points = field(default_factory=list)
    rejects: dict[str, Points] = field(default_factory=dict)
    """Rejects per second by reason (only seconds with rejects)."""
    alerts: dict[str, Points] = field(default_factory=dict)
    """Per symbol: (alert time, the symbol's mark then)."""
    limits: dict[str, Points] = field(default_factory=dict)
    """"in force: <limit>" (stepped) and "used at a reject: <limit>" (markers) -> points."""
    queue_depth: dict[str, Points] = field(default_factory=dict)
    other: dict[str, dict[str, Points]] = field(default_factory=dict)
    """"kind.field" -> series name (the record's account, else its symbol, else "all") -> points,
    for record kinds outside the harness's own vocabulary."""


def build(records: Iterable[Record]) -> Timeline:
    timeline = Timeline()
    reject_counts: dict[str, dict[int, int]] = {}
    marks: dict[str, int] = {}
    last_ts = 0
    for record in records:
        kind, fields, last_ts = record.kind, record.fields, record.ts
        if kind == jk.MARK:
            _add(timeline.mark, record.symbol, record.ts, fields.get("mark"))
            mark = fields.get("mark")
            if _is_number(mark):
                marks[record.symbol] = mark
            last = fields.get("last")
            if isinstance(last, int) and last > 0:
                _add(timeline.last, record.symbol, record.ts, last)
        elif kind == jk.LIQUIDATION and fields.get("step") in ("partial", "full"):
            _add(timeline.liquidations, record.symbol, record.ts, fields.get("bankruptcy_price"))
        elif kind == jk.INSURANCE_FUND:
            balance = fields.get("balance")
            if isinstance(balance, int):
                timeline.fund.append((record.ts, balance))
        elif kind == jk.RISK_ALERT:
            for symbol in [record.symbol] if record.symbol else list(marks):
                _add(timeline.alerts, symbol, record.ts, marks.get(symbol))
        elif kind == jk.LIMITS_CHANGED:
            for name in LIMIT_FIELDS:
                _add(timeline.limits, f"in force: {name}", record.ts, fields.get(name))
        elif kind == jk.ENGINE_QUEUE:
            _add(timeline.queue_depth, record.symbol, record.ts, fields.get("depth"))
        if kind in REJECT_KINDS:
            if kind == jk.REQUEST_THROTTLED:
                for name in LIMIT_FIELDS:
                    _add(timeline.limits, f"used at a reject: {name}", record.ts, fields.get(name))
            reason = str(fields.get("reason", kind))
            second = record.ts - record.ts % SECOND_NS
            counts = reject_counts.setdefault(reason, {})
            counts[second] = counts.get(second, 0) + 1
        elif kind not in KNOWN_KINDS:
            who = record.account or record.symbol or "all"
            for name in sorted(fields):
                value = fields[name]
                if _is_number(value) and not _is_id(name):
                    chart = timeline.other.setdefault(f"{kind}.{name}", {})
                    _add(chart, who, record.ts, value)
    for held in (
        timeline.fund,
        *timeline.queue_depth.values(),
        *(points for name, points in timeline.limits.items() if name.startswith("in force")),
    ):
        if held and held[-1][0] < last_ts:
            held.append((last_ts, held[-1][1]))
    timeline.limits = dict(sorted(timeline.limits.items()))
    for reason in sorted(reject_counts):
        timeline.rejects[reason] = sorted(reject_counts[reason].items())
    return timeline


def _is_id(name: str) -> bool:
    """Identifiers are numbers but not quantities: not charted."""
    return name in ("id", "seq") or name.endswith("_id")


def _is_number(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _add(series: dict[str, Points], key: str, ts: int, value: object) -> None:
    if _is_number(value):
        series.setdefault(key, []).append((ts, value))


def downsample(points: Sequence[tuple[int, V]], limit: int) -> list[tuple[int, V]]:
    """At most about `limit` points: first, min, max and last of each of `limit // 4` runs."""
    if len(points) <= limit:
        return list(points)
    runs = max(1, limit // 4)
    size = -(-len(points) // runs)
    kept: list[tuple[int, V]] = []
    for start in range(0, len(points), size):
        run = points[start : start + size]
        picks = {0, len(run) - 1}
        values = [value for _, value in run]
        picks.add(values.index(min(values)))
        picks.add(values.index(max(values)))
        kept += [run[i] for i in sorted(picks)]
    return kept
