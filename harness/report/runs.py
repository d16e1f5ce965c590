"""The runs under a folder (`runs/` by default), read from their `summary.json` files.

Sorted by folder name, with nothing that depends on when or where they were written, so the
listing of one set of runs is the same everywhere. The key figures are the sweep's
(`harness.report.figures`), read from the summary at the same paths; the JSON listing keeps them
as integers (money in units of 1e-8 USDT), the table shows money in USDT.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report.figures import FIGURES, extract
from harness.report.units import usdt

FIGURE_COLUMNS = (
    "liquidations",
    "cascade_depth",
    "insurance_drawdown_units",
    "adl_count",
    "missed_exits",
    "rejects",
    "lead_time_s",
)
FIELDS = ("run", "scenario", "start", "end", "fingerprint", *FIGURE_COLUMNS, "records")
HEADERS = {"insurance_drawdown_units": "fund_drawdown_usdt", "adl_count": "adl"}
_BY_COLUMN = {figure.column: figure for figure in FIGURES}


def list_runs(root: Path) -> list[dict[str, Any]]:
    """One entry per sub-folder holding a `summary.json`; unreadable summaries are reported as
    such rather than skipped, so a broken run is visible."""
    if not root.is_dir():
        return []
    entries: list[dict[str, Any]] = []
    for folder in sorted(p for p in root.iterdir() if (p / "summary.json").is_file()):
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            entries.append({"run": folder.name, "error": f"unreadable summary.json: {exc}"})
            continue
        entries.append(
            {
                "run": folder.name,
                "scenario": summary.get("name"),
                "start": summary.get("start"),
                "end": summary.get("end"),
                "fingerprint": summary.get("fingerprint"),
                **{column: extract(summary, _BY_COLUMN[column]) for column in FIGURE_COLUMNS},
                "records": summary.get("records"),
            }
        )
    return entries


def format_table(entries: list[dict[str, Any]]) -> list[str]:
    """A fixed-width table; fingerprints shortened to 12 hex digits (`--json` has them whole),
    "-" for a figure the summary does not have."""
    rows = [[HEADERS.get(f, f) for f in FIELDS]]
    for entry in entries:
        if "error" in entry:
            rows.append([entry["run"], entry["error"], *([""] * (len(FIELDS) - 2))])
            continue
        cells = ["-" if entry.get(f) is None else str(entry[f]) for f in FIELDS]
        cells[4] = cells[4][:12]
        drawdown = entry.get("insurance_drawdown_units")
        if isinstance(drawdown, int):
            cells[FIELDS.index("insurance_drawdown_units")] = usdt(drawdown)
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(FIELDS))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
