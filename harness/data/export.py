"""A window of the tick store as a folder of Parquet files, for workers on other machines.

`export_window` writes one `<table>.parquet` per store table plus `manifest.json`. The window
starts at the latest depth snapshot at or before `start` (what a replay's warm start reads), so
a replay of [start, end) on the export sees exactly the rows it would see in the store; the
`ingests` rows overlapping the window come along, since the replay's span planning reads them.

A folder is opened as a store by `open_read_only` (an in-memory DuckDB whose tables are views
over the files: nothing is copied, many processes can read one shared folder) or loaded into a
store file by `import_export`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from harness.data.schema import DDL, KINDS
from harness.data.store import connect

MANIFEST = "manifest.json"
FORMAT = "harness-export"
VERSION = 1
_BATCH_ROWS = 65_536


class ExportError(ValueError):
    """An export that cannot be written or a folder that is not an export."""


def export_window(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    start: int,
    end: int,
    symbols: Sequence[str],
    exchange: str | None = None,
) -> dict[str, Any]:
    """Write [warm start, end) of `symbols` to `out_dir`; returns the manifest."""
    if end <= start:
        raise ExportError("--end must be after --start")
    if not symbols:
        raise ExportError("at least one symbol is needed")
    warm = _warm_start(con, start, symbols, exchange)
    out_dir.mkdir(parents=True, exist_ok=True)
    marks = ", ".join("?" for _ in symbols)
    where = f"ts >= ? AND ts < ? AND symbol IN ({marks})"
    params: list[object] = [warm, end, *symbols]
    if exchange is not None:
        where += " AND exchange = ?"
        params.append(exchange)
    rows: dict[str, int] = {}
    for kind in KINDS:
        sql = f"SELECT * FROM {kind} WHERE {where} ORDER BY ts, ingest_id, seq"
        rows[kind] = _write(con, sql, params, out_dir / f"{kind}.parquet")
    rows["gaps"] = _write(
        con, f"SELECT * FROM gaps WHERE {where} ORDER BY ts, seq", params, out_dir / "gaps.parquet"
    )
    rows["ingests"] = _write(
        con,
        "SELECT * FROM ingests WHERE first_ts < ? AND last_ts >= ? ORDER BY ingest_id",
        [end, warm],
        out_dir / "ingests.parquet",
    )
    if rows["book_deltas"] == 0:
        raise ExportError(f"no depth data for {', '.join(symbols)} in the window")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "start": start,
        "end": end,
        "warm_start": warm,
        "symbols": list(symbols),
        "exchange": exchange,
        "rows": rows,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _warm_start(
    con: duckdb.DuckDBPyConnection, start: int, symbols: Sequence[str], exchange: str | None
) -> int:
    marks = ", ".join("?" for _ in symbols)
    where = f"symbol IN ({marks}) AND is_snapshot AND ts <= ?"
    params: list[object] = [*symbols, start]
    if exchange is not None:
        where += " AND exchange = ?"
        params.append(exchange)
    found = con.execute(
        f"SELECT min(last) FROM (SELECT max(ts) AS last FROM book_deltas WHERE {where} "
        "GROUP BY symbol)",
        params,
    ).fetchall()[0][0]
    return start if found is None else min(int(found), start)


def _write(con: duckdb.DuckDBPyConnection, sql: str, params: list[object], path: Path) -> int:
    reader = con.sql(sql, params=params).to_arrow_reader(_BATCH_ROWS)
    written = 0
    with pq.ParquetWriter(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            written += batch.num_rows
    return written


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise ExportError(f"{folder}: not an export folder (no {MANIFEST})")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ExportError(f"{path}: not a {FORMAT} version {VERSION} manifest")
    return manifest


def open_read_only(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A store to read: a DuckDB file (opened read-only) or an export folder (views over it)."""
    target = Path(path)
    if target.is_dir():
        read_manifest(target)
        con = duckdb.connect(":memory:")
        for table in DDL:
            source = _quote(target, table)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({source})")
    else:
        con = connect(target, read_only=True)
    # DuckDB draws a progress bar on stdout for slow queries: noise from parallel sweep workers.
    con.execute("SET enable_progress_bar = false")
    return con


def import_export(folder: Path, db: Path) -> dict[str, int]:
    """Load an export into a store file that holds no ingests yet; returns rows per table."""
    read_manifest(folder)
    con = connect(db)
    try:
        held = con.execute("SELECT count(*) FROM ingests").fetchall()[0][0]
        if held:
            raise ExportError(f"{db} already holds {held} ingest(s); import into a new store")
        con.begin()
        rows = {}
        for table in DDL:
            source = f"read_parquet({_quote(folder, table)})"
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {source}")
            rows[table] = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        con.commit()
        return rows
    finally:
        con.close()


def _quote(folder: Path, table: str) -> str:
    text = str((folder / f"{table}.parquet").resolve())
    return "'" + text.replace("'", "''") + "'"
