"""Shared fixtures: paths to real recordings and a fresh in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from harness.data.store import connect

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"
BTCUSDT_CAPTURE = FIXTURES / "btcusdt_20240808.gz"


@pytest.fixture
def store() -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(":memory:")
    yield con
    con.close()


def shared(relative: str) -> Path:
    """A file under ../shared/data, or skip when this checkout has no shared folder beside it."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def capture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tick store holding the bundled capture, ingested once per test session."""
    from harness.data.ingest import ingest_paths

    path = tmp_path_factory.mktemp("capture") / "ticks.duckdb"
    con = connect(path)
    ingest_paths(con, [BTCUSDT_CAPTURE])
    con.close()
    return path
