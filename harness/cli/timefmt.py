"""Turning ns timestamps into ISO UTC for people, and back."""

from __future__ import annotations

import datetime as dt

import click

NS = 1_000_000_000


def iso(ns: int | None) -> str:
    """ISO 8601 UTC with nanoseconds trimmed to what is non-zero (at most 9 digits)."""
    if ns is None:
        return "-"
    seconds, frac = divmod(ns, NS)
    base = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


def parse_time(text: str) -> int:
    """An instant given as ns since the epoch or ISO 8601 (UTC unless it names an offset)."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    body = stripped.removesuffix("Z").removesuffix("z")
    frac_ns = 0
    if "." in body:
        body, frac = body.split(".", 1)
        offset = ""
        for sign in "+-":
            if sign in frac:
                frac, tail = frac.split(sign, 1)
                offset = sign + tail
        if not frac.isdigit() or len(frac) > 9:
            raise click.BadParameter(f"bad fraction of a second in {text!r}")
        frac_ns = int(frac.ljust(9, "0"))
        body += offset
    try:
        parsed = dt.datetime.fromisoformat(body)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither ns since epoch nor ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp()) * NS + frac_ns
