"""What a run leaves behind for people: the liquidation path table, the report page, diffs.

Everything here reads the journal generically (records of kinds it does not know still show in
generic tables, and sections whose records are absent say so), so the same code rebuilds the
outputs of any run folder (`harness report DIR`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.journal import Journal
from harness.report import html, liquidation_path


def write_outputs(out_dir: Path, journal: Journal, summary: Mapping[str, Any]) -> list[str]:
    """Write the derived files of a run into `out_dir`; returns their names."""
    liquidation_path.write_csv(
        out_dir / "liquidation_path.csv", liquidation_path.steps(journal.records())
    )
    (out_dir / "report.html").write_text(html.render(journal, summary), encoding="utf-8")
    return ["liquidation_path.csv", "report.html"]
