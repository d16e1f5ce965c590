"""Scores, alerts and their ranking: hand-computed z-scores, journaled explanations, and the same
ranking whatever order the entities' records arrive in."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import simpy

from harness.assembly import monitor_settings
from harness.config.risk import RiskConfig
from harness.journal import Journal
from harness.risk.baseline import Baseline
from harness.risk.features import CANCEL_RATE
from harness.risk.monitor import MonitorSettings, RiskMonitor
from harness.risk.robust import robust_scale
from harness.risk.scorer import Scorer
from tests.risk.hand_view import HandView

S = 1_000_000_000


def test_spike_z_against_the_own_baseline() -> None:
    scorer = Scorer(baseline_samples=10, warmup_samples=5, explain_from=Fraction(2))
    entity = ("a", "")
    for value in (10, 12, 11, 13, 10):
        assert scorer.score(entity, {"cancel_rate": value}) == []  # warming up
    # Baseline 10, 10, 11, 12, 13: median 11, MAD 1; the scale is the cancel-rate floor of 5
    # (above 1.4826 x 1 and 11 / 4), so z = (30 - 11) / 5. The EWMA has only reached 12 (the
    # samples before moved it by less than 8 and the shift floors): (12 - 11) / 5 is no drift.
    (spike,) = scorer.score(entity, {"cancel_rate": 30})
    assert (spike.feature, spike.value, spike.baseline, spike.z, spike.drift) == (
        CANCEL_RATE,
        30,
        11,
        Fraction(19, 5),
        False,
    )
    # Another entity's series is its own: the same value there is only warming up.
    assert scorer.score(("b", ""), {"cancel_rate": 30}) == []


def test_drift_catches_a_creeping_series() -> None:
    scorer = Scorer(baseline_samples=20, warmup_samples=5, explain_from=Fraction(2))
    for _ in range(5):
        scorer.score(("a", ""), {"cancel_rate": 0})
    found = []
    for _ in range(12):
        found = scorer.score(("a", ""), {"cancel_rate": 40})
    # By now the median has moved to 40: neither the spike nor the smoothed series stands out.
    assert found == []
    scorer = Scorer(baseline_samples=20, warmup_samples=5, explain_from=Fraction(2))
    for _ in range(5):
        scorer.score(("a", ""), {"cancel_rate": 0})
    scorer.score(("a", ""), {"cancel_rate": 80})
    drift = [c for c in scorer.score(("a", ""), {"cancel_rate": 80}) if c.drift]
    # EWMA: 0 -> 10 (80 / 8) -> 10 + 70 // 8 = 18; baseline 0 x 5 and 80: median 0, scale 5.
    assert [(c.value, c.z) for c in drift] == [(18, Fraction(18, 5))]


def _config(**changes: object) -> MonitorSettings:
    base = {"baseline_samples": 20, "warmup_samples": 5, "threshold": Decimal(3)}
    base.update(changes)
    return monitor_settings(RiskConfig(**base))  # type: ignore[arg-type]


def _run(order: tuple[str, ...], burst: dict[str, int]) -> list[tuple[int, str, int, int, str]]:
    """Accounts cancel once a second for 8 s, then burst; the journal's alerts as tuples."""
    env = simpy.Environment(initial_time=0)
    journal = Journal()
    monitor = RiskMonitor(env, journal, HandView(), _config(window_ns=S))
    for second in range(1, 10):
        ts = second * S - 1
        for account in order:
            count = burst[account] if second == 9 else 1
            for _ in range(count):
                journal.append(ts, "order_cancelled", account, "X")
        monitor.sample(second * S)
    return [
        (r.ts, r.account, int(r.fields["rank"]), int(r.fields["score"]), str(r.fields["reason"]))
        for r in journal.records()
        if r.kind == "risk_alert"
    ]


def test_alerts_are_ranked_and_explained_the_same_in_any_arrival_order() -> None:
    burst = {"a": 26, "b": 41, "c": 41, "d": 2}
    runs = {order: _run(order, burst) for order in itertools.permutations(burst)}
    first = runs[("a", "b", "c", "d")]
    assert all(run == first for run in runs.values())
    # Baseline 1 (MAD 0): scale is the floor 5. b and c: (41 - 1) / 5 = 8, tie broken by name;
    # a: (26 - 1) / 5 = 5; d: (2 - 1) / 5 is below the threshold of 3.
    assert [(ts, account, rank, score) for ts, account, rank, score, _ in first] == [
        (9 * S, "b", 1, 800),
        (9 * S, "c", 2, 800),
        (9 * S, "a", 3, 500),
    ]
    # Cancels / (fills + 1) spikes alike: (41 - 1) / 5 with its floor of 5 a fill. Smoothed,
    # the cancel rate is 1 + 40 // 8 = 6: z (6 - 1) / 5 = 1, below explain_from (2): unnamed.
    # Among the 4 accounts b (41) has two below and one equal (c): (2 x 2 + 2) / 8 = 75%.
    assert first[0][4] == (
        "account b: cancels / (fills + 1) in the window (latest) 41.00 vs usual 1.00 (robust z "
        "8.0; percentile 75 of 4 accounts): orders are pulled before they trade: spoofing or a "
        "fleeing liquidity provider; cancels in the window (latest) 41 vs usual 1 (robust z "
        "8.0; percentile 75 of 4 accounts): check for quote stuffing or a runaway cancel loop"
    )


def test_cooldown_holds_back_a_repeat_alert() -> None:
    env = simpy.Environment(initial_time=0)
    journal = Journal()
    monitor = RiskMonitor(env, journal, HandView(), _config(window_ns=S, cooldown_ns=5 * S))
    alerted = []
    for second in range(1, 14):
        count = 1 if second < 9 else 50
        for _ in range(count):
            journal.append(second * S - 1, "order_cancelled", "a", "X")
        alerted += [alert.ts for alert in monitor.sample(second * S)]
    # 9 s alerts; 10-13 s are within 5 s of it. 50 stays far above the baseline of 1 until the
    # baseline's median moves, which in 20 samples it does not.
    assert alerted == [9 * S]


def test_the_monitor_samples_on_its_cadence_and_stops_before_the_end() -> None:
    env = simpy.Environment(initial_time=0)
    journal = Journal()
    monitor = RiskMonitor(env, journal, HandView(), _config(cadence_ns=2 * S))
    sampled: list[int] = []
    original = monitor.sample

    def spy(now: int) -> list:  # type: ignore[type-arg]
        sampled.append(now)
        return original(now)

    monitor.sample = spy  # type: ignore[method-assign]
    env.process(monitor.process(9 * S))
    env.run()
    assert sampled == [2 * S, 4 * S, 6 * S, 8 * S]  # 8 + 2 reaches past 9: the last


def test_an_alert_record_names_its_features_with_values_and_baselines() -> None:
    env = simpy.Environment(initial_time=0)
    journal = Journal()
    monitor = RiskMonitor(env, journal, HandView(), _config(window_ns=S))
    for second in range(1, 10):
        for _ in range(41 if second == 9 else 1):
            journal.append(second * S - 1, "order_cancelled", "b", "X")
        monitor.sample(second * S)
    (alert,) = [r for r in journal.records() if r.kind == "risk_alert"]
    fields = dict(alert.fields)
    fields.pop("reason")
    assert (alert.ts, alert.account, alert.symbol) == (9 * S, "b", "")
    assert fields == {
        "score": 800,
        "rank": 1,
        "feature_1": "cancel_fill_ratio",
        "value_1": 41_000_000,
        "baseline_1": 1_000_000,
        "z_1": 800,
        "feature_2": "cancel_rate",
        "value_2": 41,
        "baseline_2": 1,
        "z_2": 800,
    }


def test_the_integer_pre_check_never_drops_a_feature_the_exact_score_would_name() -> None:
    # Brute force over small baselines and values: a feature with relative floor 1/4 and floor
    # 5 (the cancel rate), explained from z 2; the pre-check must pass every value whose exact
    # z reaches 2, and the boundary value itself (z exactly 2) must be named.
    for baseline_values in ((0, 0, 0), (1, 2, 9), (40, 41, 60, 80), (3, 3, 3, 3)):
        for value in range(0, 120):
            scorer = Scorer(
                baseline_samples=10, warmup_samples=len(baseline_values), explain_from=Fraction(2)
            )
            for v in baseline_values:
                scorer.score(("a", ""), {"cancel_rate": v})
            named = scorer.score(("a", ""), {"cancel_rate": value})
            series = Baseline(10)
            for v in baseline_values:
                series.push(v)
            center = series.median()
            scale = robust_scale(series.mad(center), center, 5, Fraction(1, 4))
            spike = [c for c in named if not c.drift]
            assert bool(spike) == ((value - center) / scale >= 2), (baseline_values, value)
