"""A sweep end to end: expand the grid, check every run's scenario, execute, tabulate, chart.

Every run's scenario is loaded in this process first (cheap: no data is read). When none loads
(a misspelt key, a bad base file) the sweep stops before starting anything, with the first
error; otherwise the runs that do not load become failed rows and the others execute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config.scenario import loads_scenario
from harness.config.settings import ScenarioError
from harness.sweep.executors import run_local, run_ray
from harness.sweep.grid import Axis, RunSpec, expand, seed_list
from harness.sweep.html_page import DEFAULT_CHARTS, render
from harness.sweep.results import RESULTS, build_table, read_results, write_results
from harness.sweep.worker import OK, check, failed_row

INDEX = "index.html"


class SweepError(ValueError):
    """A sweep that cannot start."""


@dataclass(frozen=True)
class Progress:
    finished: int
    total: int
    ok: int
    failed: int


@dataclass(frozen=True)
class SweepOutcome:
    runs: int
    skipped: int
    ok: int
    failed: int
    results: Path
    index: Path


def plan(
    scenario_path: Path, axes: list[Axis], seeds: int, db: Path | None
) -> tuple[list[RunSpec], dict[str, str]]:
    """The runs, and the load error of each run whose scenario does not load."""
    try:
        base_text = scenario_path.read_text(encoding="utf-8")
    except OSError as error:
        raise SweepError(f"{scenario_path}: {error.strerror or error}") from None
    source = str(scenario_path)
    try:
        base = loads_scenario(base_text, source=source, default_name=scenario_path.stem)
    except ScenarioError as error:
        raise SweepError(str(error)) from None
    if db is None and all(axis.key != "data.db" for axis in axes):
        db = base.data.db
    store = str(db.resolve()) if db is not None else None
    runs = expand(axes, seed_list(base.seed, seeds), base_text=base_text, source=source, db=store)
    checked = {spec.run_id: check(spec) for spec in runs}
    errors = {run_id: error for run_id, error in checked.items() if error is not None}
    if runs and len(errors) == len(runs):
        raise SweepError(f"no run of the grid loads; the first: {errors[runs[0].run_id]}")
    return runs, errors


def run_sweep(
    scenario_path: Path,
    axes: list[Axis],
    out: Path,
    *,
    seeds: int = 1,
    executor: str = "local",
    workers: int = 1,
    ray_address: str | None = None,
    resume: bool = False,
    db: Path | None = None,
    x_key: str | None = None,
    charts: Sequence[str] = DEFAULT_CHARTS,
    on_progress: Callable[[Progress], None] | None = None,
) -> SweepOutcome:
    runs, errors = plan(scenario_path, axes, seeds, db)
    earlier = read_results(out)
    if earlier is not None and not resume:
        raise SweepError(f"{out / RESULTS} exists: pass --resume to continue it, or another --out")
    done: dict[str, dict[str, Any]] = {}
    if earlier is not None:
        ids = {spec.run_id for spec in runs}
        done = {row["run_id"]: row for row in earlier.to_dicts() if row["run_id"] in ids}
    skipped = len(done)
    for spec in runs:
        if spec.run_id in errors and spec.run_id not in done:
            done[spec.run_id] = failed_row(spec, errors[spec.run_id])
    todo = [spec for spec in runs if spec.run_id not in done]

    def record(row: dict[str, Any]) -> None:
        done[row["run_id"]] = row
        write_results(out, build_table(axes, runs, done, earlier))
        if on_progress is not None:
            ok = sum(1 for r in done.values() if r["status"] == OK)
            on_progress(Progress(len(done) - skipped, len(runs) - skipped, ok, len(done) - ok))

    out.mkdir(parents=True, exist_ok=True)
    if executor == "ray":
        run_ray(todo, workers, ray_address, record)
    else:
        run_local(todo, workers, record)
    table = build_table(axes, runs, done, earlier)
    results = write_results(out, table)
    index = out / INDEX
    title = f"Sweep of {scenario_path.name}"
    index.write_text(render(table, axes, title=title, x_key=x_key, charts=charts), "utf-8")
    ok = sum(1 for spec in runs if done[spec.run_id]["status"] == OK)
    return SweepOutcome(len(runs), skipped, ok, len(runs) - ok, results, index)
