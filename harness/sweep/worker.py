"""One run of a sweep, as executed inside a worker process (local pool or Ray task).

The worker gets a RunSpec (plain data) and returns a plain row dict, so nothing holding a
DuckDB connection or a SimPy environment ever crosses a process boundary. Whatever goes wrong is
caught and becomes a failed row with the error's text: one bad combination never ends a sweep.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

from harness.config.settings import ScenarioError
from harness.replay import ReplayError, run_scenario
from harness.report.figures import FIGURES, extract_all
from harness.sweep.grid import RunSpec
from harness.sweep.overrides import build_scenario

OK = "ok"
FAILED = "failed"


def check(spec: RunSpec) -> str | None:
    """The error text when the run's scenario does not load, else None (cheap: no data read)."""
    try:
        build_scenario(spec.base_text, spec.source, spec.overrides, spec.seed)
    except ScenarioError as error:
        return str(error)
    return None


def execute(spec: RunSpec) -> dict[str, Any]:
    started = time.perf_counter()  # wall-clock ok: reported in the results, never journaled
    try:
        scenario = build_scenario(spec.base_text, spec.source, spec.overrides, spec.seed)
        db = Path(spec.db) if spec.db is not None else None
        summary = run_scenario(scenario, db=db).summary()
    except (ScenarioError, ReplayError) as error:
        return failed_row(spec, str(error), time.perf_counter() - started)  # wall-clock ok
    except Exception as error:
        # A crash inside the simulation: keep its last frames, they locate the bug.
        frames = "".join(traceback.format_exception(error, limit=-3)).strip()
        return failed_row(spec, frames, time.perf_counter() - started)  # wall-clock ok
    return {
        **_identity(spec),
        "status": OK,
        "error": None,
        "fingerprint": summary["fingerprint"],
        "wall_seconds": round(time.perf_counter() - started, 3),  # wall-clock ok
        **extract_all(summary),
    }


def failed_row(spec: RunSpec, error: str, wall_seconds: float = 0.0) -> dict[str, Any]:
    return {
        **_identity(spec),
        "status": FAILED,
        "error": error,
        "fingerprint": None,
        "wall_seconds": round(wall_seconds, 3),
        **{figure.column: None for figure in FIGURES},
    }


def _identity(spec: RunSpec) -> dict[str, Any]:
    return {"run_id": spec.run_id, "index": spec.index, "seed": spec.seed}
