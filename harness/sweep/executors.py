"""Where a sweep's runs execute: a local process pool or Ray tasks. Results never depend on it.

Locally every run gets a fresh process (`max_tasks_per_child=1`), so no state of one run (a
module-level cache, a leaked SimPy process) can reach the next; the pool starts processes from a
forkserver that has imported the harness but never opened a DuckDB connection, so starting a run
costs a fork and no connection is ever shared across fork. Ray workers are reused between tasks
(a fresh Ray worker costs a full interpreter start and import, ~1-2 s): a run builds all of its
state from its spec and the same fingerprints on both executors (tested) show nothing leaks.
Results are handed to `on_result` as runs finish; the caller orders them.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from harness.sweep.grid import RunSpec
from harness.sweep.worker import execute, failed_row

EXECUTORS = ("local", "ray")
OnResult = Callable[[dict[str, Any]], None]


class ExecutorError(RuntimeError):
    """The executor cannot start (Ray missing, cluster unreachable)."""


def default_workers() -> int:
    """The CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_local(runs: Sequence[RunSpec], workers: int, on_result: OnResult) -> None:
    if not runs:
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["harness.sweep.worker"])
    with ProcessPoolExecutor(
        max_workers=min(workers, len(runs)), mp_context=context, max_tasks_per_child=1
    ) as pool:
        futures = {pool.submit(execute, spec): spec for spec in runs}
        for future in as_completed(futures):
            spec = futures[future]
            try:
                row = future.result()
            except Exception as error:  # the worker process died (killed, out of memory)
                row = failed_row(spec, f"worker process died: {error!r}")
            on_result(row)


def run_ray(
    runs: Sequence[RunSpec], workers: int | None, address: str | None, on_result: OnResult
) -> None:
    """Runs as Ray tasks on the cluster at `address`, or on a local instance started here (with
    `workers` CPUs) and shut down afterwards."""
    try:
        import ray
    except ImportError:
        raise ExecutorError(
            "the ray executor needs Ray: install the extra (pip install '.[ray]')"
        ) from None
    if not runs:
        return
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(
                address=address,
                num_cpus=workers if address is None else None,
                include_dashboard=False,
                log_to_driver=False,
            )
        except (ConnectionError, RuntimeError) as error:
            raise ExecutorError(f"cannot reach Ray at {address}: {error}") from None
    try:
        task = ray.remote(num_cpus=1)(execute)
        specs = {task.remote(spec): spec for spec in runs}
        pending = list(specs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                try:
                    row = ray.get(ref)
                except Exception as error:  # the task's worker died
                    row = failed_row(specs[ref], f"ray task failed: {error}")
                on_result(row)
    finally:
        if started_here:
            ray.shutdown()
