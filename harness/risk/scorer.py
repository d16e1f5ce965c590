"""Scoring feature series against each entity's own rolling baseline.

Two scores per feature: the spike (the latest value's robust z against the baseline) and the
drift (the z of an EWMA of the values, which catches a feature creeping up over many samples
without one jump). The MAD costs O(n), so it is computed only for a feature whose z could reach
`explain_from` even with the smallest scale its floors allow; features further below are left
out of the explanation, where they would not appear anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from harness.risk.baseline import Baseline
from harness.risk.features import BY_NAME, Feature
from harness.risk.robust import ewma, robust_scale, robust_z

Entity = tuple[str, str]
"""(account, symbol): ("a", "") an account, ("", "BTCUSDT") a symbol, ("", "") the venue."""


@dataclass(frozen=True)
class Contribution:
    feature: Feature
    value: int
    """The sample (spike) or the EWMA of the samples (drift), in the feature's units."""
    baseline: Fraction
    """The baseline median."""
    z: Fraction
    drift: bool


@dataclass
class _Series:
    baseline: Baseline
    average: int | None = None


class Scorer:
    def __init__(
        self,
        baseline_samples: int,
        warmup_samples: int,
        explain_from: Fraction,
        ewma_shift: int = 3,
    ) -> None:
        if warmup_samples > baseline_samples:
            raise ValueError("warm-up cannot need more samples than the baseline keeps")
        self.baseline_samples = baseline_samples
        self.warmup_samples = warmup_samples
        self.explain_from = explain_from
        self.ewma_shift = ewma_shift
        self._series: dict[tuple[Entity, str], _Series] = {}

    def score(self, entity: Entity, values: dict[str, int]) -> list[Contribution]:
        """Contributions at or above `explain_from`, strongest first; then learn the values."""
        found: list[Contribution] = []
        for name, value in values.items():
            series = self._series.get((entity, name))
            if series is None:
                series = self._series[(entity, name)] = _Series(Baseline(self.baseline_samples))
            average = ewma(series.average, value, self.ewma_shift)
            if len(series.baseline) >= self.warmup_samples:
                found.extend(self._contributions(BY_NAME[name], series.baseline, value, average))
            series.baseline.push(value)
            series.average = average
        found.sort(key=lambda c: (-c.z, c.feature.name, c.drift))
        return found

    def _could_explain(self, feature: Feature, baseline: Baseline, value: int) -> bool:
        """Whether `value` could reach `explain_from` at the smallest scale the floors allow;
        integers only (doubled median, cross-multiplied), since most samples cannot."""
        center2 = baseline.median2()
        e, rel = self.explain_from, feature.relative_floor
        lhs = (2 * value - center2) * e.denominator * rel.denominator
        floors = max(2 * feature.floor, 2) * rel.denominator
        return lhs >= e.numerator * max(floors, rel.numerator * abs(center2))

    def _contributions(
        self, feature: Feature, baseline: Baseline, value: int, average: int
    ) -> list[Contribution]:
        if not self._could_explain(feature, baseline, max(value, average)):
            return []
        center = baseline.median()
        scale = robust_scale(baseline.mad(center), center, feature.floor, feature.relative_floor)
        out = []
        for sample, drift in ((value, False), (average, True)):
            z = robust_z(sample, center, scale)
            if z >= self.explain_from:
                out.append(Contribution(feature, sample, center, z, drift))
        return out
