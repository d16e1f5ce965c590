"""`harness replay`: run a scenario and write its post-incident log."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from harness.cli.context import Ctx
from harness.cli.timefmt import iso
from harness.config.scenario import load_scenario
from harness.config.settings import ScenarioError
from harness.data.tape import TapeStats
from harness.replay import ReplayError, run_scenario
from harness.report import real_liquidations
from harness.report.headline import liquidation_lines
from harness.report.units import usdt
from harness.risk.alert_summary import summary_lines


class _Progress:
    """Simulated time covered and messages/s on one self-rewriting stderr line (terminals only)."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.began = time.perf_counter()  # wall-clock ok: progress display only
        self.enabled = sys.stderr.isatty()

    def __call__(self, stats: TapeStats) -> None:
        if not self.enabled or stats.last_ts is None:
            return
        share = (stats.last_ts - self.start) / max(1, self.end - self.start)
        elapsed = time.perf_counter() - self.began  # wall-clock ok
        rate = stats.messages / elapsed if elapsed > 0 else 0.0
        bar = "#" * int(30 * share)
        click.echo(
            f"\r[{bar:<30}] {share:6.1%} {iso(stats.last_ts)} {rate:,.0f} msg/s",
            err=True,
            nl=False,
        )

    def done(self) -> None:
        if self.enabled:
            click.echo("", err=True)


@click.command(short_help="Run a scenario and write its run folder (journal, summary, report).")
@click.argument("scenario_path", metavar="SCENARIO.toml", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: the scenario's outputs.dir, else runs/<name>).",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tick store (default: the scenario's data.db).",
)
@click.pass_obj
def replay(ctx: Ctx, scenario_path: Path, out: Path | None, db: Path | None) -> None:
    """Replay a scenario through the venue and write its run folder: journal.parquet,
    summary.json, liquidation_path.csv and report.html.

    The last line printed is `fingerprint: <sha256>`: the same scenario, seed and data give the
    same fingerprint on every run and machine.
    """
    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from None
    start = scenario.data.start or 0
    progress = _Progress(start, scenario.data.end or start + 1)
    try:
        result = run_scenario(scenario, db=db, on_progress=progress)
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.done()
    target = out or scenario.output_dir
    written = result.write(target)
    summary = result.summary()
    click.echo(f"{scenario.name}: {iso(result.start)} .. {iso(result.end)}")
    click.echo(
        f"  {summary['messages']:,} market-data messages in {summary['wall_seconds']:.2f} s "
        f"({summary['messages'] / max(summary['wall_seconds'], 1e-9):,.0f}/s), "
        f"{summary['records']:,} journal records"
    )
    for name, figures in summary["agents"].items():
        click.echo(
            f"  {name}: {figures['fills']} fills, {figures['rejects']} rejects, "
            f"realized {usdt(figures['realized_pnl_units'])} USDT, "
            f"fees {usdt(figures['fees_paid_units'], 4)} USDT"
        )
    for line in liquidation_lines(summary):
        click.echo(line)
    if "real_liquidations" in summary:
        click.echo("  " + real_liquidations.describe(summary["real_liquidations"]))
    for line in summary_lines(summary["risk"]):
        click.echo(line)
    throttling = summary["throttling"]
    for name, figures in throttling.get("agents", {}).items():
        cost = figures["cost_vs_unthrottled_units"]
        refused = [r for r in figures["rejected"] if not r.startswith("engine:")]
        if refused or cost is not None:
            shown = "" if cost is None else f", cost vs unthrottled {usdt(cost)} USDT"
            click.echo(
                f"  {name} ({figures['client']} client): {figures['sent']} requests, "
                f"{figures['delivered']} reached the engine, banned "
                f"{figures['banned_ns'] / 1e9:,.0f} s, {figures['missed_exit_count']} missed "
                f"exits{shown}"
            )
    click.echo(f"  wrote {target}/: journal.parquet, summary.json, {', '.join(written)}")
    click.echo(f"fingerprint: {result.fingerprint}")
