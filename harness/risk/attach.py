"""Wiring the monitor and the analytics into a replay, and their part of the run's summary."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from harness.config.scenario import Scenario
from harness.journal import Journal
from harness.risk.alert_summary import alert_summary
from harness.risk.market_view import VenueMarketView
from harness.risk.markouts import MarkoutRecorder
from harness.risk.monitor import RiskMonitor
from harness.risk.trader_analytics import trader_analytics
from harness.sim.clock import SimEnv
from harness.venue.venue import Venue


class RiskRun:
    """The monitor and markout recorder of one run; `summary()` once the run is over."""

    def __init__(
        self, env: SimEnv, venue: Venue, journal: Journal, scenario: Scenario, start: int, end: int
    ) -> None:
        self.venue = venue
        self.journal = journal
        self.config = scenario.risk
        self.agents = tuple(agent.name for agent in scenario.agents)
        self.clearance_fee = Fraction(scenario.liquidation.clearance_fee)
        self.start, self.end = start, end
        view = VenueMarketView(venue)
        self.monitor = RiskMonitor(env, journal, view, self.config)
        self.markouts = MarkoutRecorder(env, view, self.agents, self.config.markouts_ns, end)
        journal.subscribe(self.markouts.on_record)
        env.process(self.monitor.process(end))

    def summary(self) -> dict[str, Any]:
        records = list(self.journal.records())
        return {
            "alerts": alert_summary(
                records,
                self.start,
                self.end,
                Fraction(self.config.lead_score),
                self.config.false_alert_horizon_ns,
            ),
            "traders": trader_analytics(
                records,
                self.markouts.marks,
                self.config.markouts_ns,
                self.venue,
                self.agents,
                self.clearance_fee,
            ),
        }


def attach_risk(
    env: SimEnv, venue: Venue, journal: Journal, scenario: Scenario, start: int, end: int
) -> RiskRun | None:
    """The run's risk monitor, or None when `[risk] enabled = false`."""
    if not scenario.risk.enabled:
        return None
    return RiskRun(env, venue, journal, scenario, start, end)
