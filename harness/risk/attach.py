"""Wiring the monitor and the analytics into a replay, and their part of the run's summary."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from harness.journal import Journal
from harness.risk.alert_summary import alert_summary
from harness.risk.market_view import VenueMarketView
from harness.risk.markouts import MarkoutRecorder
from harness.risk.monitor import MonitorSettings, RiskMonitor
from harness.risk.trader_analytics import trader_analytics
from harness.sim.clock import SimEnv
from harness.venue.venue import Venue


@dataclass(frozen=True)
class RiskSettings:
    """`[risk]` for one run, with what the analytics need from the rest of the scenario."""

    monitor: MonitorSettings
    lead_score: Fraction
    false_alert_horizon_ns: int
    markouts_ns: tuple[int, ...]
    agents: tuple[str, ...]
    """The agents' accounts, whose fills the analytics mark out."""
    clearance_fee: Fraction
    """The liquidator's clearance fee, to price each trader's liquidations."""


class RiskRun:
    """The monitor and markout recorder of one run; `summary()` once the run is over."""

    def __init__(
        self,
        env: SimEnv,
        venue: Venue,
        journal: Journal,
        settings: RiskSettings,
        start: int,
        end: int,
    ) -> None:
        self.venue = venue
        self.journal = journal
        self.settings = settings
        self.start, self.end = start, end
        view = VenueMarketView(venue)
        self.monitor = RiskMonitor(env, journal, view, settings.monitor)
        self.markouts = MarkoutRecorder(env, view, settings.agents, settings.markouts_ns, end)
        journal.subscribe(self.markouts.on_record)
        env.process(self.monitor.process(end))

    def summary(self) -> dict[str, Any]:
        records = list(self.journal.records())
        settings = self.settings
        return {
            "alerts": alert_summary(
                records,
                self.start,
                self.end,
                settings.lead_score,
                settings.false_alert_horizon_ns,
            ),
            "traders": trader_analytics(
                records,
                self.markouts.marks,
                settings.markouts_ns,
                self.venue,
                settings.agents,
                settings.clearance_fee,
            ),
        }
