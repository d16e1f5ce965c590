"""Where a sweep's runs execute: a local process pool or Ray tasks. Results never depend on it.

Locally every run gets a fresh process, so no state of one run (a module-level cache, a leaked
SimPy process) can reach the next. Processes are started from a forkserver that has imported the
harness but never opened a DuckDB connection: starting a run costs a fork, and no connection is
ever shared across fork. Ray workers are reused between tasks
(a fresh Ray worker costs a full interpreter start and import, ~1-2 s): a run builds all of its
state from its spec and the same fingerprints on both executors (tested) show nothing leaks.
Results are handed to `on_result` as runs finish; the caller orders them.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
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
    """At most `workers` runs at once, each in its own process; a process that dies (killed,
    out of memory, a crash in native code) fails its own run only."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["harness.sweep.worker"])
    waiting = list(reversed(runs))
    running: dict[Connection, tuple[BaseProcess, RunSpec]] = {}
    while waiting or running:
        while waiting and len(running) < workers:
            spec = waiting.pop()
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(spec, writer), daemon=True)
            process.start()
            writer.close()  # the child holds the only writer: its exit means end of file here
            running[reader] = (process, spec)
        for ready in wait(list(running)):
            assert isinstance(ready, Connection)
            finished, spec = running.pop(ready)
            try:
                row: dict[str, Any] | None = ready.recv()
            except EOFError:
                row = None
            ready.close()
            finished.join()
            if row is None:
                row = failed_row(spec, f"worker process died (exit code {finished.exitcode})")
            on_result(row)


def _child(spec: RunSpec, writer: Connection) -> None:
    writer.send(execute(spec))
    writer.close()


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
