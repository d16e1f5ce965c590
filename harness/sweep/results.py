"""`results.parquet`: one row per run, in the sweep's expansion order.

Columns: `run_id`, `index` (position in the expansion), `seed`, one column per grid key (named
by the key, typed by its values: integers, numbers, booleans or strings; a key whose values mix
types holds their TOML text), then `status` ("ok" or "failed"), `error`, `fingerprint`,
`wall_seconds` and the figures of `harness.report.figures.FIGURES`.

The table is rewritten (atomically) after every finished run, so an interrupted sweep leaves
what it finished for `--resume`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from harness.report.figures import FIGURES
from harness.sweep.grid import Axis, RunSpec, toml_literal

RESULTS = "results.parquet"

_FIXED: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "index": pl.Int64(),
    "seed": pl.Int64(),
}
_OUTCOME: dict[str, pl.DataType] = {
    "status": pl.String(),
    "error": pl.String(),
    "fingerprint": pl.String(),
    "wall_seconds": pl.Float64(),
}
_FIGURE_TYPES: dict[str, pl.DataType] = {"int": pl.Int64(), "float": pl.Float64()}


def grid_dtype(axis: Axis) -> pl.DataType:
    values = axis.values
    if all(isinstance(v, bool) for v in values):
        return pl.Boolean()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pl.Int64()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pl.Float64()
    return pl.String()


def grid_cell(axis: Axis, value: Any) -> Any:
    dtype = grid_dtype(axis)
    if dtype == pl.String():
        return value if all(isinstance(v, str) for v in axis.values) else toml_literal(value)
    return float(value) if dtype == pl.Float64() else value


def schema(axes: Sequence[Axis]) -> dict[str, pl.DataType]:
    figures = {f.column: _FIGURE_TYPES.get(f.kind, pl.String()) for f in FIGURES}
    grid = {axis.key: grid_dtype(axis) for axis in axes}
    return {**_FIXED, **grid, **_OUTCOME, **figures}


def read_results(out_dir: Path) -> pl.DataFrame | None:
    path = out_dir / RESULTS
    return pl.read_parquet(path) if path.exists() else None


def build_table(
    axes: Sequence[Axis],
    runs: Sequence[RunSpec],
    done: Mapping[str, dict[str, Any]],
    earlier: pl.DataFrame | None,
) -> pl.DataFrame:
    """Finished runs of this expansion in its order, then earlier rows of runs no longer in it."""
    columns = schema(axes)
    rows = []
    for spec in runs:
        outcome = done.get(spec.run_id)
        if outcome is None:
            continue
        grid = {
            axis.key: grid_cell(axis, value)
            for axis, (_, value) in zip(axes, spec.overrides, strict=True)
        }
        rows.append({**{c: outcome.get(c) for c in columns}, "index": spec.index, **grid})
    table = pl.DataFrame(rows, schema=columns, orient="row")
    if earlier is None:
        return table
    ours = {spec.run_id for spec in runs}
    foreign = earlier.filter(~pl.col("run_id").is_in(sorted(ours)))
    if foreign.is_empty():
        return table
    return pl.concat([table, foreign], how="diagonal_relaxed")


def write_results(out_dir: Path, table: pl.DataFrame) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RESULTS
    partial = out_dir / f".{RESULTS}.partial"
    table.write_parquet(partial)
    os.replace(partial, path)
    return path
