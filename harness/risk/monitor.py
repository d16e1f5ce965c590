"""The risk monitor: reads the journal as it is written, samples on a cadence, journals alerts.

Records reach the feature extractors through `Journal.subscribe` the moment they are appended;
every `cadence` a SimPy process samples the features of every active entity, scores them
against the entity's own baseline (`Scorer`), and journals a `risk_alert` for each entity whose
strongest feature reaches the threshold, unless it was alerted within the cooldown. Alerts of
one sample are ranked strongest first (ties by account, then symbol), so the journal's order of
alerts is the ranking. The monitor only appends from its own process, never from a listener.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import simpy

from harness import journal as jk
from harness.journal import Journal, Record
from harness.risk.activity import ActivityFeatures
from harness.risk.alerts import Alert, Peers
from harness.risk.exposure import ExposureFeatures
from harness.risk.market_features import MarketFeatures
from harness.risk.market_view import MarketView
from harness.risk.robust import quantile_rank
from harness.risk.scorer import Contribution, Entity, Scorer


@dataclass(frozen=True)
class MonitorSettings:
    """The monitor's part of `[risk]` (docs/scenarios.md says what each one means)."""

    cadence_ns: int
    window_ns: int
    baseline_samples: int
    warmup_samples: int
    threshold: Fraction
    explain_from: Fraction
    top_features: int
    cooldown_ns: int
    depth_ticks: int
    near_margin: Fraction
    margin_rise: Fraction


class RiskMonitor:
    def __init__(
        self, env: simpy.Environment, journal: Journal, view: MarketView, config: MonitorSettings
    ) -> None:
        self.env = env
        self.journal = journal
        self.config = config
        self.threshold = config.threshold
        self.activity = ActivityFeatures(view, config.window_ns, config.depth_ticks)
        self.exposure = ExposureFeatures(
            view, config.window_ns, config.near_margin, config.margin_rise
        )
        self.market = MarketFeatures(view, config.window_ns, config.depth_ticks)
        self.scorer = Scorer(config.baseline_samples, config.warmup_samples, config.explain_from)
        self.alerts: list[Alert] = []
        self._last_alert: dict[Entity, int] = {}
        journal.subscribe(self.on_record)

    def on_record(self, record: Record) -> None:
        if record.kind == jk.RISK_ALERT:
            return
        self.activity.on_record(record)
        self.exposure.on_record(record)
        self.market.on_record(record)

    def process(self, end: int) -> Generator[simpy.Event, Any, None]:
        cadence = self.config.cadence_ns
        while self.env.now + cadence < end:
            yield self.env.timeout(cadence)
            self.sample(int(self.env.now))

    def sample(self, now: int) -> list[Alert]:
        """Score every active entity at `now`; journal and return the alerts, ranked."""
        entities: dict[Entity, dict[str, int]] = {}
        for account, values in self.activity.sample(now).items():
            entities[(account, "")] = dict(values)
        per_account, venue = self.exposure.sample(now)
        for account, values in per_account.items():
            entities.setdefault((account, ""), {}).update(values)
        for symbol, values in self.market.sample(now).items():
            entities[("", symbol)] = values
        if venue:
            entities[("", "")] = venue
        found: list[tuple[Fraction, Entity, list[Contribution]]] = []
        for entity, values in entities.items():
            contributions = self.scorer.score(entity, values)
            if not contributions or contributions[0].z < self.threshold:
                continue
            last = self._last_alert.get(entity)
            if last is not None and now - last < self.config.cooldown_ns:
                continue
            found.append((contributions[0].z, entity, contributions))
        found.sort(key=lambda item: (-item[0], item[1]))
        alerts = []
        for rank, (score, entity, contributions) in enumerate(found, start=1):
            top = tuple(contributions[: self.config.top_features])
            peers = tuple(_peers(entity, c, entities) for c in top)
            alert = Alert(now, entity, score, rank, top, peers)
            self._last_alert[entity] = now
            self.journal.append(now, jk.RISK_ALERT, entity[0], entity[1], **alert.fields())
            alerts.append(alert)
        self.alerts.extend(alerts)
        return alerts


def _peers(
    entity: Entity, contribution: Contribution, entities: dict[Entity, dict[str, int]]
) -> Peers | None:
    """Where an account's latest value ranks among every account sampled with the feature."""
    if not entity[0] or contribution.drift:
        return None
    name = contribution.feature.name
    population = [
        values[name] for (account, _), values in entities.items() if account and name in values
    ]
    if len(population) < 2:
        return None
    return Peers(quantile_rank(contribution.value, population), len(population))
