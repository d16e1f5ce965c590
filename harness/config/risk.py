"""`[risk]`: the risk monitor and the trader analytics (docs/risk.md)."""

from __future__ import annotations

from decimal import Decimal

from harness.config.settings import (
    DecimalNumber,
    Duration,
    Flag,
    Integer,
    ListOf,
    SettingError,
    config,
    setting,
)
from harness.units import NS_PER_S


@config
class RiskConfig:
    """The risk monitor (harness/risk): features, robust scores, journaled alerts, analytics."""

    enabled: bool = setting(
        Flag(), "Run the risk monitor and the trader analytics during the replay.", default=True
    )
    cadence_ns: int = setting(
        Duration(positive=True),
        "How often the monitor samples features and scores them.",
        default=NS_PER_S,
    )
    window_ns: int = setting(
        Duration(positive=True),
        "Trailing window of counted features (cancels, fills, rejects, mark path, rising margin).",
        default=10 * NS_PER_S,
    )
    baseline_samples: int = setting(
        Integer(minimum=2),
        "Samples in each entity's rolling baseline (median and MAD) per feature.",
        default=300,
    )
    warmup_samples: int = setting(
        Integer(minimum=1),
        "Samples a series needs before it is scored (at most baseline_samples).",
        default=60,
    )
    threshold: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Robust z-score at or above which an entity is alerted.",
        default=Decimal(8),
    )
    explain_from: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Robust z-score from which a feature is named in an alert's explanation.",
        default=Decimal(2),
    )
    top_features: int = setting(
        Integer(minimum=1), "Features named in an alert, strongest first.", default=3
    )
    cooldown_ns: int = setting(
        Duration(),
        "Quiet time after an alert before the same entity is alerted again.",
        default=60 * NS_PER_S,
    )
    depth_ticks: int = setting(
        Integer(minimum=0),
        "How far from the best price book depth counts as near the touch, in ticks.",
        default=10,
    )
    near_margin: Decimal = setting(
        DecimalNumber(Decimal(0), Decimal(1), open_min=True),
        "Margin ratio from which an account counts as near margin (venue-wide feature).",
        default=Decimal("0.5"),
    )
    margin_rise: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Rise of the margin ratio over the window that counts as rising (venue-wide feature).",
        default=Decimal("0.05"),
    )
    lead_score: Decimal = setting(
        DecimalNumber(Decimal(0), open_min=True),
        "Alert score from which the summary measures lead time to the first liquidation.",
        default=Decimal(8),
    )
    false_alert_horizon_ns: int = setting(
        Duration(positive=True),
        "An alert not followed by a liquidation within this time counts as a false alert.",
        default=600 * NS_PER_S,
    )
    markouts_ns: tuple[int, ...] = setting(
        ListOf(Duration(positive=True), min_len=1, unique=True),
        "Horizons of the fill markouts in the trader analytics.",
        default=(NS_PER_S, 10 * NS_PER_S, 60 * NS_PER_S),
        default_doc="`[1000, 10000, 60000]`",
    )

    def __post_init__(self) -> None:
        if self.warmup_samples > self.baseline_samples:
            raise SettingError("warmup_samples", "must not exceed baseline_samples")
