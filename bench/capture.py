"""The bundled capture, ingested into a store file the benches replay from."""

from __future__ import annotations

from pathlib import Path

from harness.data.ingest import ingest_paths
from harness.data.store import connect

CAPTURE = Path(__file__).resolve().parent.parent / "fixtures" / "btcusdt_20240808.gz"


def capture_store(folder: Path) -> Path:
    """A fresh store in `folder` holding the bundled capture."""
    db = folder / "capture.duckdb"
    con = connect(db)
    try:
        ingest_paths(con, [CAPTURE])
    finally:
        con.close()
    return db
