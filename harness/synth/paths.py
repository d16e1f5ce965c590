"""Price-path models: log-price paths on a step grid, from seeded NumPy generators.

A path is a float log-price relative to the start, one value per step; the book model rounds it to
its grid. Floats are fine here: the path is a seeded draw, not money, and the same seed on the same
NumPy gives the same bits, so the rows written from it are reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]

SECONDS_PER_YEAR = 365 * 24 * 3600
NS_PER_S = 1_000_000_000


def step_sigma(annual_vol: float, step_ns: int) -> float:
    """Standard deviation of one step's log return for an annualised volatility."""
    return annual_vol * math.sqrt(step_ns / NS_PER_S / SECONDS_PER_YEAR)


def clustered_volatility(
    rng: np.random.Generator,
    steps: int,
    steps_per_regime: int,
    persistence: float = 0.9,
    vol_of_vol: float = 0.15,
) -> Array:
    """A volatility multiplier with mean about 1 that clusters: busy and quiet stretches.

    Log volatility is an AR(1) process updated once per regime (a second, say) and held for its
    steps; the loop runs per regime, not per step, so an hour costs a few thousand iterations.
    """
    regimes = -(-steps // steps_per_regime)
    shocks = rng.standard_normal(regimes) * vol_of_vol
    log_vol = np.empty(regimes)
    level = 0.0
    for i in range(regimes):
        level = persistence * level + shocks[i]
        log_vol[i] = level
    variance = vol_of_vol**2 / (1 - persistence**2)
    multiplier: Array = np.repeat(np.exp(log_vol - variance / 2), steps_per_regime)[:steps]
    return multiplier


def random_walk(rng: np.random.Generator, sigma: Array) -> Array:
    """Log-price deviations starting at 0, with step t's standard deviation sigma[t]."""
    increments = sigma * rng.standard_normal(sigma.size)
    increments[0] = 0.0
    walk: Array = np.cumsum(increments)
    return walk


def smoothstep(progress: Array) -> Array:
    """0 before, 1 after, and an S-curve in between: slow start, fastest midway, slow finish."""
    x = np.clip(progress, 0.0, 1.0)
    curve: Array = x * x * (3.0 - 2.0 * x)
    return curve


@dataclass(frozen=True)
class CrashShape:
    """The timeline of a crash: a calm lead-in whose last part grows restless, the fall, a partial
    rebound and an aftermath; with the market-wide volatility and depth envelopes over it."""

    lead_s: float = 300.0
    ramp_s: float = 120.0
    """Last part of the lead-in over which volatility rises and makers start to pull depth."""
    fall_s: float = 360.0
    rebound_s: float = 180.0
    after_s: float = 180.0
    ramp_vol: float = 3.0
    fall_vol: float = 8.0
    rebound_vol: float = 4.0
    after_vol: float = 2.0
    ramp_depth: float = 0.6
    depth_floor: float = 0.03
    rebound_depth: float = 0.3

    @property
    def total_s(self) -> float:
        return self.lead_s + self.fall_s + self.rebound_s + self.after_s

    @property
    def fall_start_s(self) -> float:
        return self.lead_s

    @property
    def fall_end_s(self) -> float:
        return self.lead_s + self.fall_s

    def fall(self, t_s: Array) -> Array:
        """Progress of the fall, 0 to 1."""
        return smoothstep((t_s - self.lead_s) / self.fall_s)

    def rebound(self, t_s: Array) -> Array:
        """Progress of the rebound, 0 to 1."""
        return smoothstep((t_s - self.fall_end_s) / self.rebound_s)

    def _knots(self) -> list[float]:
        lead, fall = self.lead_s, self.fall_end_s
        return [0.0, lead - self.ramp_s, lead, lead + self.fall_s / 3, fall]

    def volatility(self, t_s: Array) -> Array:
        """Multiplier of calm volatility: 1, rising through the ramp, peaking mid-fall."""
        knots = [*self._knots(), self.fall_end_s + self.rebound_s, self.total_s]
        values = [1.0, 1.0, self.ramp_vol, self.fall_vol, self.fall_vol, self.rebound_vol]
        vol: Array = np.interp(t_s, knots, [*values, self.after_vol])
        return vol

    def depth(self, t_s: Array) -> Array:
        """Multiplier of every level's size: collapses early in the fall, half-recovers after."""
        knots = [*self._knots(), self.fall_end_s + self.rebound_s, self.total_s]
        values = [1.0, 1.0, self.ramp_depth, self.depth_floor, self.depth_floor]
        depth: Array = np.interp(t_s, knots, [*values, self.rebound_depth, self.rebound_depth])
        return depth


def crash_target(
    shape: CrashShape, t_s: Array, fall: float, rebound: float, back_loaded: bool
) -> Array:
    """The deterministic log-price of one symbol: down by `fall` (0.7 = -70%) at the low, then
    back up by `rebound` of that log distance. A back-loaded symbol (an alt) holds up early in
    the fall and breaks late, as alts did after the majors started sliding."""
    progress = shape.fall(t_s)
    if back_loaded:
        progress = progress**2
    target: Array = math.log(1.0 - fall) * (progress - rebound * shape.rebound(t_s))
    return target
