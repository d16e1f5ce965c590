"""The `harness` command line: one group, with subcommands registered from small modules."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.book_cmds import book
from harness.cli.calc_cmds import calc
from harness.cli.context import Ctx
from harness.cli.data_cmds import data, ingest
from harness.cli.export_cmds import data_export, data_import
from harness.cli.help import PipelineGroup
from harness.cli.replay_cmds import replay
from harness.cli.report_cmds import diff, report, runs
from harness.cli.sweep_cmds import sweep
from harness.cli.synth_cmds import synth
from harness.data.store import ENV_DB, default_db_path


@click.group(
    cls=PipelineGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Tick store file (default: ${ENV_DB} or data/harness.duckdb).",
)
@click.version_option(package_name="harness")
@click.pass_context
def main(ctx: click.Context, db: Path | None) -> None:
    """Deterministic backtest and incident replay for crypto perpetual-futures venues.

    \b
    A session, in the order of the commands below:
      harness ingest fixtures/btcusdt_20240808.gz          # ticks in
      harness data ls                                       # what the store holds
      harness replay replays/btcusdt-2024-08-08-calm.toml   # run -> runs/<name>/
      harness runs ls                                       # runs, key figures
      harness diff runs/a runs/b                            # where two runs part
    """
    ctx.obj = Ctx(db=db or default_db_path())


# Pipeline order, as `harness --help` lists them: data in, look at it, run, read the runs.
main.add_command(ingest)
main.add_command(synth)
main.add_command(data)
main.add_command(book)
main.add_command(replay)
main.add_command(sweep)
main.add_command(runs)
main.add_command(report)
main.add_command(diff)
main.add_command(calc)
data.add_command(data_export)
data.add_command(data_import)
