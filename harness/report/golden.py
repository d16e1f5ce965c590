"""A run as stable text for golden snapshots and diffs: the liquidation path, then key figures.

One line per liquidation-path step (`liquidation_path.Step.line`), then one `name: value` line
per key figure of the summary, nested tables flattened to dotted names. Nothing depends on the
wall clock or the machine: `wall_seconds` is left out, lists show their length only (their
content is in the journal, which the fingerprint pins), and floats, which another part of the
summary could add, are written with `repr`, which is exact and stable for one value.

Because the path comes first, a change to a liquidation rule shows as a changed step line before
any figure, and `first_difference` names it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from harness.journal import Journal
from harness.report.liquidation_path import steps

VOLATILE = frozenset(("wall_seconds",))
"""Summary keys that change between runs of one scenario (wall-clock measurements)."""

PATH_HEADER = "# liquidation path"
FIGURES_HEADER = "# key figures"


def key_figures(summary: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The summary's scalars as dotted names in the summary's own order."""
    figures: dict[str, str] = {}
    for name, value in summary.items():
        if name in VOLATILE:
            continue
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            figures.update(key_figures(value, f"{key}."))
        elif isinstance(value, list | tuple):
            figures[key] = f"[{len(value)} items]"
        elif value is None:
            figures[key] = "null"
        elif isinstance(value, bool):
            figures[key] = "true" if value else "false"
        elif isinstance(value, int | str):
            figures[key] = str(value)
        else:
            figures[key] = repr(value)
    return figures


def path_lines(journal: Journal) -> list[str]:
    return [step.line() for step in steps(journal.records())]


def render(journal: Journal, summary: Mapping[str, Any]) -> str:
    """The snapshot text of a run."""
    path = path_lines(journal) or ["none in this run"]
    figures = [f"{name}: {value}" for name, value in key_figures(summary).items()]
    return "\n".join([PATH_HEADER, *path, FIGURES_HEADER, *figures]) + "\n"


class Difference(NamedTuple):
    line: int
    """1-based line number in the texts."""
    expected: str | None
    actual: str | None
    """None where that text has no such line."""

    def describe(self) -> str:
        return (
            f"first difference at line {self.line}:\n"
            f"  expected: {_shown(self.expected)}\n"
            f"  actual:   {_shown(self.actual)}"
        )


def _shown(line: str | None) -> str:
    return "(no such line)" if line is None else line


def first_difference(expected: Iterable[str], actual: Iterable[str]) -> Difference | None:
    """The first line where two texts (as lines) differ, or None when they are equal."""
    a, b = list(expected), list(actual)
    for number in range(max(len(a), len(b))):
        left = a[number] if number < len(a) else None
        right = b[number] if number < len(b) else None
        if left != right:
            return Difference(number + 1, left, right)
    return None


CONTEXT_LINES = 3
DIFF_LINES = 30


def failure_message(expected: str, actual: str) -> str:
    """Why two snapshot texts differ, in plain text for a terminal or a CI log: the first
    differing line, the lines around it in both texts, then the start of a unified diff (at most
    `DIFF_LINES` lines; the whole texts are in the snapshot file and the run's folder)."""
    old, new = expected.splitlines(), actual.splitlines()
    difference = first_difference(old, new)
    if difference is None:
        return "the texts are equal"
    parts = [difference.describe()]
    for name, lines in (("expected", old), ("actual", new)):
        parts.append(f"{name} around line {difference.line}:")
        parts += _around(lines, difference.line)
    diff = list(difflib.unified_diff(old, new, "expected", "actual", n=1, lineterm=""))
    shown = diff[:DIFF_LINES]
    cut = f", first {DIFF_LINES} of {len(diff)} lines" if len(diff) > DIFF_LINES else ""
    parts.append(f"diff (- expected, + actual{cut}):")
    parts += [f"  {line}" for line in shown]
    return "\n".join(parts)


def _around(lines: list[str], line: int) -> list[str]:
    """The lines within `CONTEXT_LINES` of a 1-based line, numbered, the line itself marked."""
    first = max(1, line - CONTEXT_LINES)
    last = min(len(lines), line + CONTEXT_LINES)
    if first > last:
        return ["  (the text ends before this line)"]
    return [f"{'>' if n == line else ' '} {n:5d}  {lines[n - 1]}" for n in range(first, last + 1)]
