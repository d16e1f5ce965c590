"""`harness diff`, `harness runs ls` and `harness report`: reading run folders after the fact."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harness.cli.help import PipelineGroup
from harness.journal import JournalError
from harness.report import write_outputs
from harness.report.diff import Run, diff_runs, format_diff
from harness.report.runs import format_table, list_runs

_RUN_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def _read(path: Path) -> Run:
    try:
        return Run.read(path)
    except (FileNotFoundError, JournalError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@click.command(short_help="Compare two run folders; exit status 1 when they differ.")
@click.argument("run_a", type=_RUN_DIR)
@click.argument("run_b", type=_RUN_DIR)
def diff(run_a: Path, run_b: Path) -> None:
    """Compare two run folders: first journal divergence, liquidation path, key figures.

    Exit status 0 when the runs are the same, 1 when they differ (for use in CI).
    """
    result = diff_runs(_read(run_a), _read(run_b))
    for line in format_diff(result, str(run_a), str(run_b)):
        click.echo(line)
    sys.exit(0 if result.equal else 1)


@click.group(cls=PipelineGroup, short_help="List run folders with their key figures.")
def runs() -> None:
    """Run folders written by `harness replay`."""


@runs.command("ls")
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Folder holding one sub-folder per run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def runs_ls(root: Path, as_json: bool) -> None:
    """List runs: name, scenario, window, fingerprint and key figures.

    Figures: liquidations, cascade depth, insurance fund drawdown (USDT), positions closed by
    ADL, missed exits, rejects, and the risk alerts' lead time (s) before the first liquidation;
    "-" where the run's summary has none. --json gives money in units of 1e-8 USDT.
    """
    entries = list_runs(root)
    if as_json:
        click.echo(json.dumps(entries, indent=2))
    elif not entries:
        click.echo(f"no runs under {root}")
    else:
        for line in format_table(entries):
            click.echo(line)


@click.command(short_help="Rebuild a run folder's liquidation_path.csv and report.html.")
@click.argument("run_dir", metavar="DIR", type=_RUN_DIR)
def report(run_dir: Path) -> None:
    """Rebuild a run's derived outputs (liquidation_path.csv, report.html) from its journal."""
    run = _read(run_dir)
    for name in write_outputs(run_dir, run.journal, run.summary):
        click.echo(f"wrote {run_dir / name}")
