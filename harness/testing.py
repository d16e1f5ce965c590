"""Golden snapshots of runs for pytest: pin a scenario's liquidation path and key figures.

Use it in your own suite (pytest and syrupy installed) by importing the fixture in a conftest:

    from harness.testing import golden  # noqa: F401  (a pytest fixture)

    def test_my_incident(golden, tmp_path):
        result = golden.run("replays/my-incident.toml", db="data/ticks.duckdb")
        golden.check(result)

The first run (`pytest --snapshot-update`) writes the text of the run (`harness.report.golden`:
one line per liquidation-path step, then the key figures) to
`__snapshots__/<test file>/<test name>.txt` next to the test; commit it. Later runs compare with
it; on a difference the failure is plain text (no colours, readable in a CI log): the first
differing line (the first differing step when the path changed), the lines around it in both
texts, and the start of a unified diff (`harness.report.golden.failure_message`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from harness.config.scenario import Scenario, load_scenario
from harness.replay import RunResult, run_scenario
from harness.report.golden import failure_message, render


class GoldenTextExtension(SingleFileSnapshotExtension):
    """One readable `.txt` file per snapshot; a difference is described by `failure_message`
    instead of syrupy's diff, which colours every changed character separately."""

    file_extension = "txt"
    _write_mode = WriteMode.TEXT

    def diff_lines(self, serialized_data: Any, snapshot_data: Any) -> Iterator[str]:
        yield from failure_message(str(snapshot_data), str(serialized_data)).splitlines()


def golden_text(result: RunResult) -> str:
    """The snapshot text of a finished run."""
    return render(result.journal, result.summary())


class Golden:
    """Runs scenarios and compares their text with the test's stored snapshot."""

    def __init__(self, snapshot: SnapshotAssertion) -> None:
        self.snapshot = snapshot.use_extension(GoldenTextExtension)

    @staticmethod
    def run(scenario: Scenario | str | Path, db: str | Path | None = None) -> RunResult:
        """Run a scenario (a loaded one or a TOML file), on `db` or the scenario's store."""
        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        return run_scenario(loaded, db=None if db is None else Path(db))

    def check(self, result: RunResult) -> None:
        """Compare with the stored snapshot; a difference fails the test with
        `failure_message` (raised here, as pytest rewrites asserts in test modules only)."""
        if not self.snapshot == golden_text(result):  # noqa: SIM201 - syrupy's __eq__ records it
            pytest.fail("\n".join(self.snapshot.get_assert_diff()), pytrace=False)


@pytest.fixture
def golden(snapshot: SnapshotAssertion) -> Golden:
    """Pin runs of scenarios as readable text snapshots (see the module's docstring)."""
    return Golden(snapshot)
