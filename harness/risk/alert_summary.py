"""What the alerts were worth: a ranked table, lead time before the first liquidation, and the
rate of false alerts, all read back from a journal (a finished run or a hand-built one).

Lead time: from the first alert scoring at least `lead_score` at or before the first
liquidation record (the cascade's start: its first account queued) to that record. A false
alert is one with no liquidation record in [alert, alert + horizon]; alerts too close to the end
of the run for their horizon to be seen whole still count, so the rate errs on the high side.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from harness import journal as jk
from harness.journal import Record
from harness.risk.robust import decimal_text
from harness.sim.clock import iso

HOUR_NS = 3_600_000_000_000
TABLE_ROWS = 20


def alert_summary(
    records: Iterable[Record],
    start: int,
    end: int,
    lead_score: Fraction,
    horizon_ns: int,
) -> dict[str, Any]:
    alerts: list[Record] = []
    liquidations: list[int] = []
    for record in records:
        if record.kind == jk.RISK_ALERT:
            alerts.append(record)
        elif record.kind == jk.LIQUIDATION:
            liquidations.append(record.ts)
    hours = Fraction(max(1, end - start), HOUR_NS)
    false_alerts = sum(1 for alert in alerts if not _followed(alert.ts, liquidations, horizon_ns))
    ranked = sorted(alerts, key=lambda r: (-_score(r), r.ts, r.seq))
    return {
        "alerts": len(alerts),
        "alerts_per_hour": _rate(len(alerts), hours),
        "false_alerts": false_alerts,
        "false_alerts_per_hour": _rate(false_alerts, hours),
        "first_liquidation": iso(liquidations[0]) if liquidations else None,
        "lead_time_s": _lead_time(alerts, liquidations, lead_score),
        "ranked": [_row(record) for record in ranked[:TABLE_ROWS]],
    }


def _score(record: Record) -> int:
    score = record.fields.get("score", 0)
    return score if type(score) is int else 0


def _followed(ts: int, liquidations: list[int], horizon_ns: int) -> bool:
    return any(ts <= at <= ts + horizon_ns for at in liquidations)


def _rate(count: int, hours: Fraction) -> str:
    rate = count / hours
    return decimal_text(rate.numerator, rate.denominator)


def _lead_time(alerts: list[Record], liquidations: list[int], lead_score: Fraction) -> str | None:
    if not liquidations:
        return None
    first = liquidations[0]
    for alert in alerts:
        if alert.ts > first:
            break
        if Fraction(_score(alert), 100) >= lead_score:
            return decimal_text(first - alert.ts, 1_000_000_000, 3)
    return None


def _row(record: Record) -> dict[str, Any]:
    return {
        "ts": iso(record.ts),
        "account": record.account,
        "symbol": record.symbol,
        "score": decimal_text(_score(record), 100),
        "reason": record.fields.get("reason", ""),
    }


def summary_lines(risk: dict[str, Any] | None) -> list[str]:
    """The console lines of `harness replay` for the risk part of a summary."""
    if risk is None:
        return []
    alerts = risk["alerts"]
    lead = alerts["lead_time_s"]
    lines = [
        f"  risk: {alerts['alerts']} alerts ({alerts['alerts_per_hour']}/h, false "
        f"{alerts['false_alerts_per_hour']}/h), lead time "
        + (f"{lead} s" if lead is not None else "n/a")
    ]
    if alerts["ranked"]:
        top = alerts["ranked"][0]
        lines.append(f"  top alert {top['ts']} score {top['score']}: {top['reason']}")
    return lines
