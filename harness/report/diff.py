"""Two runs compared: where their journals first diverge, then how their outcomes differ.

The journals' canonical lines (`Journal.lines`) are compared in order: the first line that differs
is where the runs diverged; everything after may differ only as a consequence. Then the
liquidation paths are compared step by step (`Step.line`, which leaves out journal seqs so an extra
record elsewhere does not shift them), and the key figures of the summaries by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.journal import Journal
from harness.report.golden import Difference, first_difference, key_figures, path_lines
from harness.sim.clock import iso


@dataclass(frozen=True)
class Run:
    """A run folder read back: its journal (fingerprint checked) and summary."""

    path: Path
    journal: Journal
    summary: dict[str, Any]

    @classmethod
    def read(cls, path: Path) -> Run:
        journal_file = path / "journal.parquet"
        if not journal_file.exists():
            raise FileNotFoundError(f"{journal_file}: no journal; is {path} a run folder?")
        summary_file = path / "summary.json"
        summary = (
            json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.exists() else {}
        )
        return cls(path, Journal.read_parquet(journal_file), summary)


@dataclass(frozen=True)
class RunDiff:
    journal: Difference | None
    """First differing journal line (seq = line - 1)."""
    journal_ts: int | None
    """Time of the first differing record (from whichever run has it, run A first)."""
    path: Difference | None
    path_steps: tuple[int, int]
    figures: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """Key figures that differ: name -> (value in A, value in B); None where absent."""

    @property
    def equal(self) -> bool:
        return self.journal is None and self.path is None and not self.figures


def _ts(line: str | None) -> int | None:
    if line is None:
        return None
    value = json.loads(line).get("ts")
    return value if isinstance(value, int) else None


def diff_runs(a: Run, b: Run) -> RunDiff:
    journal = first_difference(a.journal.lines(), b.journal.lines())
    journal_ts = None
    if journal is not None:
        journal_ts = _ts(journal.expected)
        journal_ts = journal_ts if journal_ts is not None else _ts(journal.actual)
    path_a, path_b = path_lines(a.journal), path_lines(b.journal)
    figures_a, figures_b = key_figures(a.summary), key_figures(b.summary)
    names = [*figures_a, *(n for n in figures_b if n not in figures_a)]
    figures = {
        name: (figures_a.get(name), figures_b.get(name))
        for name in names
        if figures_a.get(name) != figures_b.get(name)
    }
    return RunDiff(
        journal=journal,
        journal_ts=journal_ts,
        path=first_difference(path_a, path_b),
        path_steps=(len(path_a), len(path_b)),
        figures=figures,
    )


def _shown(value: str | None) -> str:
    return "(absent)" if value is None else value


def format_diff(diff: RunDiff, name_a: str = "A", name_b: str = "B") -> list[str]:
    """The report `harness diff` prints, as lines."""
    if diff.equal:
        return ["runs are identical: same journal, liquidation path and key figures"]
    lines: list[str] = []
    if diff.journal is None:
        lines.append("journals: identical")
    else:
        when = "?" if diff.journal_ts is None else iso(diff.journal_ts)
        lines += [
            f"journals first diverge at record seq {diff.journal.line - 1} ({when}):",
            f"  {name_a}: {_shown(diff.journal.expected)}",
            f"  {name_b}: {_shown(diff.journal.actual)}",
        ]
    steps_a, steps_b = diff.path_steps
    if diff.path is None:
        lines.append(f"liquidation path: identical ({steps_a} steps)")
    else:
        lines += [
            f"liquidation path: {steps_a} steps in {name_a}, {steps_b} in {name_b}; "
            f"first differing step is step {diff.path.line}:",
            f"  {name_a}: {_shown(diff.path.expected)}",
            f"  {name_b}: {_shown(diff.path.actual)}",
        ]
    if diff.figures:
        lines.append(f"key figures that differ ({len(diff.figures)}):")
        lines += [
            f"  {name}: {_shown(left)} -> {_shown(right)}"
            for name, (left, right) in diff.figures.items()
        ]
    else:
        lines.append("key figures: identical")
    return lines
