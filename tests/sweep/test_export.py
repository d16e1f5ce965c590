"""A window exported as Parquet replays exactly like the store, opened in place or imported."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.config.scenario import loads_scenario
from harness.data.export import ExportError, export_window, import_export, open_read_only
from harness.data.store import connect
from harness.replay import run_scenario
from harness.sim.clock import parse_instant
from harness.sweep.grid import parse_axis
from harness.sweep.sweep import run_sweep
from tests.sweep.conftest import END, START, base_text


def _fingerprint(text: str, db: Path) -> str:
    return run_scenario(loads_scenario(text), db=db).fingerprint


def test_export_import_round_trip_gives_the_store_fingerprint(
    capture_db: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    folder = tmp_path / "export"
    exported = runner.invoke(
        main,
        [
            *("--db", str(capture_db), "data", "export", "--start", START, "--end", END),
            *("--symbols", "BTCUSDT", "--out", str(folder)),
        ],
    )
    assert exported.exit_code == 0, exported.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["warm_start"] <= parse_instant(START)
    assert manifest["rows"]["book_deltas"] > 0 and manifest["rows"]["ingests"] == 1

    imported_db = tmp_path / "imported.duckdb"
    imported = runner.invoke(main, ["--db", str(imported_db), "data", "import", str(folder)])
    assert imported.exit_code == 0, imported.output

    text = base_text(capture_db)
    store = _fingerprint(text, capture_db)
    assert _fingerprint(text, folder) == store  # the folder opened in place (Parquet views)
    assert _fingerprint(text, imported_db) == store  # the folder loaded into a store file

    with pytest.raises(ExportError, match="already holds 1 ingest"):
        import_export(folder, imported_db)

    # Two workers reading the one folder at once, as workers on other machines would.
    base = tmp_path / "base.toml"
    base.write_text(text, encoding="utf-8")
    axis = parse_axis("liquidation.per_second=10,20")
    run_sweep(base, [axis], tmp_path / "sweep", db=folder, workers=2)
    swept = pl.read_parquet(tmp_path / "sweep" / "results.parquet")
    assert swept["fingerprint"].to_list() == [store, store]  # no liquidations: rate is moot


def test_export_refuses_an_empty_window_and_folders_need_a_manifest(
    capture_db: Path, tmp_path: Path
) -> None:
    con = connect(capture_db, read_only=True)
    try:
        with pytest.raises(ExportError, match="no depth data for ETHUSDT"):
            export_window(
                con,
                tmp_path / "e",
                start=parse_instant(START),
                end=parse_instant(END),
                symbols=["ETHUSDT"],
            )
    finally:
        con.close()
    (tmp_path / "plain").mkdir()
    with pytest.raises(ExportError, match="not an export folder"):
        open_read_only(tmp_path / "plain")
