"""`harness sweep`: one scenario under a grid of settings and seeds, in parallel."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from harness.report.figures import FIGURES
from harness.sweep.executors import EXECUTORS, ExecutorError, default_workers
from harness.sweep.grid import GridError, parse_axis
from harness.sweep.html_page import DEFAULT_CHARTS
from harness.sweep.sweep import Progress, SweepError, run_sweep

FIGURE_NAMES = [figure.column for figure in FIGURES if figure.kind != "counts"]


class _ProgressLine:
    """Runs finished, failures and runs/minute on one self-rewriting stderr line (terminals)."""

    def __init__(self) -> None:
        self.began = time.perf_counter()  # wall-clock ok: progress display only
        self.enabled = sys.stderr.isatty()

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.began  # wall-clock ok
        rate = progress.finished / elapsed * 60 if elapsed > 0 else 0.0
        click.echo(
            f"\r[{progress.finished}/{progress.total}] {progress.ok} ok, {progress.failed} failed, "
            f"{elapsed:,.0f} s, {rate:,.1f} runs/min",
            err=True,
            nl=False,
        )

    def done(self) -> None:
        if self.enabled:
            click.echo("", err=True)


@click.command(short_help="Run a scenario over a grid of settings and seeds, in parallel.")
@click.argument("scenario_path", metavar="SCENARIO.toml", type=click.Path(path_type=Path))
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="A setting and its values (TOML values: 0.005, '\"decay\"', true); repeat for more keys.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Seeds per combination: the scenario's seed and the ones after it.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for results.parquet and index.html.",
)
@click.option(
    "--executor",
    type=click.Choice(EXECUTORS),
    default="local",
    show_default=True,
    help="local: a process pool on this machine; ray: Ray tasks (needs the [ray] extra).",
)
@click.option("--workers", type=click.IntRange(min=1), help="Parallel runs (default: CPUs).")
@click.option("--ray-address", help="Ray cluster to join (default: start a local instance).")
@click.option("--resume", is_flag=True, help="Skip runs already in OUT/results.parquet.")
@click.option(
    "--db",
    "--data",
    "db",
    type=click.Path(path_type=Path),
    help="Tick store file or `harness data export` folder (default: the scenario's data.db).",
)
@click.option("--x", "x_key", help="Grid key on the charts' x axis (default: the first).")
@click.option(
    "--chart",
    "charts",
    multiple=True,
    type=click.Choice(FIGURE_NAMES),
    metavar="FIGURE",
    help=f"Figure charted in index.html, repeatable: {', '.join(FIGURE_NAMES)} (default: "
    f"{', '.join(DEFAULT_CHARTS)}).",
)
def sweep(
    scenario_path: Path,
    grids: tuple[str, ...],
    seeds: int,
    out: Path,
    executor: str,
    workers: int | None,
    ray_address: str | None,
    resume: bool,
    db: Path | None,
    x_key: str | None,
    charts: tuple[str, ...],
) -> None:
    """Run SCENARIO.toml for every combination of --grid values and seeds.

    Writes OUT/results.parquet (one row per run: grid values, seed, fingerprint, status, error
    and the key figures of its summary) and OUT/index.html (charts and the table). A run that
    fails is a row with its error; the others go on.

    \b
    Example:
      harness sweep replays/btcusdt-2024-08-08-calm.toml --out runs/sweep \\
        --grid liquidation.clearance_fee=0.005,0.0125 --grid venue.replenishment='"data","decay"'
    """
    try:
        axes = [parse_axis(option) for option in grids]
    except GridError as error:
        raise click.BadParameter(str(error), param_hint="--grid") from None
    keys = [axis.key for axis in axes]
    if x_key is not None and x_key not in keys:
        raise click.BadParameter(f"{x_key!r} is not a --grid key", param_hint="--x")
    progress = _ProgressLine()
    try:
        outcome = run_sweep(
            scenario_path,
            axes,
            out,
            seeds=seeds,
            executor=executor,
            workers=workers or default_workers(),
            ray_address=ray_address,
            resume=resume,
            db=db,
            x_key=x_key,
            charts=charts or DEFAULT_CHARTS,
            on_progress=progress,
        )
    except (GridError, SweepError, ExecutorError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        progress.done()
    skipped = f", {outcome.skipped} skipped (already done)" if outcome.skipped else ""
    click.echo(f"{outcome.runs} run(s): {outcome.ok} ok, {outcome.failed} failed{skipped}")
    click.echo(f"wrote {outcome.results} and {outcome.index}")
