"""Time for people on the command line: the clock's ISO form, with CLI-shaped errors."""

from __future__ import annotations

import click

from harness.sim.clock import iso as clock_iso
from harness.sim.clock import parse_instant


def iso(ns: int | None) -> str:
    """ISO 8601 UTC, or "-" where there is no time (an empty store's first timestamp)."""
    return "-" if ns is None else clock_iso(ns)


def parse_time(text: str) -> int:
    """An instant given as ns since the epoch or ISO 8601 (UTC unless it names an offset)."""
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
