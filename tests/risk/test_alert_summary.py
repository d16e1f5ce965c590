"""Lead time and false alerts on a hand-built journal of alerts and a liquidation cascade."""

from __future__ import annotations

from fractions import Fraction

from harness.journal import Journal
from harness.risk.alert_summary import alert_summary, summary_lines

S = 1_000_000_000
HOUR = 3_600 * S


def _journal() -> Journal:
    journal = Journal()
    journal.append(10 * S, "risk_alert", "a", "", score=500, rank=1, reason="weak")
    journal.append(20 * S, "risk_alert", "", "", score=900, rank=1, reason="margins rising")
    journal.append(70 * S, "risk_alert", "b", "", score=1_200, rank=1, reason="b near margin")
    journal.append(80 * S, "liquidation", "b", "X", step="queued", ratio="1")
    journal.append(85 * S, "liquidation", "c", "X", step="queued", ratio="1")
    journal.append(200 * S, "risk_alert", "d", "", score=800, rank=1, reason="late")
    return journal


def test_lead_time_runs_from_the_first_strong_alert_to_the_first_liquidation() -> None:
    summary = alert_summary(_journal().records(), 0, HOUR, Fraction(8), 30 * S)
    # The 5.00 alert at 10 s is below the lead score of 8; the 9.00 at 20 s is the first.
    assert summary["lead_time_s"] == "60.000"
    assert summary["first_liquidation"] == "1970-01-01T00:01:20Z"
    # Horizon 30 s: 10 s and 20 s see no liquidation by 40 s and 50 s; 70 s sees 80 s; 200 s
    # sees none. One hour of run: rates equal counts.
    assert (summary["alerts"], summary["false_alerts"]) == (4, 3)
    assert (summary["alerts_per_hour"], summary["false_alerts_per_hour"]) == ("4.00", "3.00")
    assert [(row["score"], row["reason"]) for row in summary["ranked"]] == [
        ("12.00", "b near margin"),
        ("9.00", "margins rising"),
        ("8.00", "late"),
        ("5.00", "weak"),
    ]


def test_a_longer_horizon_or_higher_lead_score_changes_the_figures() -> None:
    records = list(_journal().records())
    wide = alert_summary(records, 0, HOUR, Fraction(8), 60 * S)
    assert wide["false_alerts"] == 2  # 20 s now sees 80 s
    strict = alert_summary(records, 0, HOUR, Fraction(10), 30 * S)
    assert strict["lead_time_s"] == "10.000"  # only the 12.00 at 70 s qualifies
    half_hour = alert_summary(records, 0, HOUR // 2, Fraction(8), 30 * S)
    assert half_hour["alerts_per_hour"] == "8.00"


def test_without_liquidations_there_is_no_lead_time_and_every_alert_is_false() -> None:
    journal = Journal()
    journal.append(5 * S, "risk_alert", "a", "", score=1_000, rank=1, reason="x")
    summary = alert_summary(journal.records(), 0, 6 * 60 * S, Fraction(8), 30 * S)
    assert summary["lead_time_s"] is None and summary["first_liquidation"] is None
    assert summary["false_alerts_per_hour"] == "10.00"  # one in six minutes


def test_console_lines_name_the_rate_the_lead_time_and_the_top_alert() -> None:
    summary = alert_summary(_journal().records(), 0, HOUR, Fraction(8), 30 * S)
    assert summary_lines({"alerts": summary}) == [
        "  risk: 4 alerts (4.00/h, false 3.00/h), lead time 60.000 s",
        "  top alert 1970-01-01T00:01:10Z score 12.00: b near margin",
    ]
    assert summary_lines(None) == []
