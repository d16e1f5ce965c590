"""The simulation clock: SimPy on integer nanoseconds since the Unix epoch.

Simulated time is the tick store's time, so an event at `env.now` can be compared with a recorded
timestamp without conversion. Floats never enter the clock: a float delay would make event times
inexact and tie-breaking depend on rounding, so every delay is checked to be an integer.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import simpy

from harness.sim.rng import Streams

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


def as_ns(value: object, what: str = "time") -> int:
    """An exact integer from an int-like value (NumPy integers included); floats are refused."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be integer nanoseconds, got {value!r}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be integer nanoseconds, got {value!r}") from None


class SimEnv(simpy.Environment):
    """A SimPy environment whose clock is integer ns and which owns the run's random streams."""

    _now: int

    def __init__(self, start_ns: int, seed: int = 0) -> None:
        super().__init__(initial_time=as_ns(start_ns, "start_ns"))
        self.streams = Streams(seed)

    @property
    def now(self) -> int:
        return self._now

    # The narrower `int` parameter is the point of this class: SimPy itself accepts floats.
    def timeout(  # type: ignore[override]
        self, delay: int = 0, value: Any = None
    ) -> simpy.Timeout:
        if type(delay) is not int:
            delay = as_ns(delay, "timeout delay")
        return simpy.Timeout(self, delay, value)

    def timeout_at(self, when_ns: int, value: Any = None) -> simpy.Timeout:
        """A timeout that fires at an absolute time, which must not be in the past."""
        delay = as_ns(when_ns, "when_ns") - self._now
        if delay < 0:
            raise ValueError(f"cannot schedule at {when_ns}: the clock is already at {self._now}")
        return simpy.Timeout(self, delay, value)

    def call_at(self, when_ns: int, action: Callable[[], None]) -> simpy.Timeout:
        """Run `action` at an absolute time without a process (one event instead of two)."""
        event = self.timeout_at(when_ns)
        event.callbacks.append(lambda _event: action())
        return event

    def run(  # type: ignore[override]
        self, until: int | simpy.Event | None = None
    ) -> Any:
        if until is not None and not isinstance(until, simpy.Event):
            until = as_ns(until, "until")
        return super().run(until)


def parse_instant(value: object) -> int:
    """ns since the epoch from an int, an ISO 8601 string (UTC unless it names an offset, up to
    9 fractional digits) or a datetime (naive means UTC)."""
    if isinstance(value, bool):
        raise ValueError(f"expected an instant, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        return _datetime_ns(value, 0)
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time or integer ns, got {value!r}")
    text = value.strip()
    if text.isdigit():
        return int(text)
    body = text[:-1] if text[-1:] in ("Z", "z") else text
    frac_ns = 0
    if "." in body:
        body, frac = body.split(".", 1)
        digits = frac
        for sign in "+-":
            if sign in digits:
                digits, offset = digits.split(sign, 1)
                body += sign + offset
        if not digits.isdigit() or len(digits) > 9:
            raise ValueError(f"bad fraction of a second in {value!r}")
        frac_ns = int(digits.ljust(9, "0"))
    try:
        parsed = dt.datetime.fromisoformat(body)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 time or integer ns, got {value!r}") from None
    return _datetime_ns(parsed, frac_ns)


def _datetime_ns(moment: dt.datetime, frac_ns: int) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    # Integer arithmetic on the parts: `timestamp()` goes through a float.
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    seconds = delta.days * 86_400 + delta.seconds
    return seconds * NS_PER_S + delta.microseconds * NS_PER_US + frac_ns


def iso(ns: int) -> str:
    """ISO 8601 UTC, fraction trimmed to its non-zero digits."""
    seconds, frac = divmod(ns, NS_PER_S)
    base = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)
    digits = f"{frac:09d}".rstrip("0")
    text = base.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{digits}Z" if digits else f"{text}Z"


def to_ns(value: object, unit_ns: int) -> int:
    """An exact ns count from a number of `unit_ns` units (e.g. milliseconds as 2.5 or "2.5").

    Floats are read through their shortest decimal form, so 0.1 ms is exactly 100_000 ns; a value
    that is not a whole number of nanoseconds is refused rather than rounded.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return value * unit_ns
    if isinstance(value, float):
        exact = Decimal(repr(value))
    elif isinstance(value, str | Decimal):
        try:
            exact = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
    else:
        raise ValueError(f"expected a number, got {value!r}")
    if not exact.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    scaled = exact * unit_ns
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number of nanoseconds")
    return int(scaled)
