"""The DuckDB tick store: where it lives, opening it, and what it holds."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from harness.data.schema import DDL, KINDS

DEFAULT_DB = Path("data/harness.duckdb")
ENV_DB = "HARNESS_DB"


def default_db_path() -> Path:
    return Path(os.environ.get(ENV_DB, str(DEFAULT_DB)))


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a store; a missing file is created with the schema (except read-only, which fails)."""
    target = str(path)
    if target != ":memory:" and not read_only:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(target, read_only=read_only)
    if not read_only:
        ensure_schema(con)
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    existing = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    missing = [ddl for name, ddl in DDL.items() if name not in existing]
    if missing:
        con.begin()
        for ddl in missing:
            con.execute(ddl)
        con.commit()


def inventory(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per exchange, symbol and kind: rows, first and last timestamp, and recorded gaps."""
    parts = [
        f"SELECT exchange, symbol, '{kind}' AS kind, count(*) AS rows, "
        f"min(ts) AS first_ts, max(ts) AS last_ts FROM {kind} GROUP BY exchange, symbol"
        for kind in KINDS
    ]
    query = f"""
        WITH t AS ({" UNION ALL ".join(parts)}),
        g AS (SELECT exchange, symbol, kind, count(*) AS gaps FROM gaps GROUP BY ALL)
        SELECT t.exchange, t.symbol, t.kind, t.rows, t.first_ts, t.last_ts,
               coalesce(g.gaps, 0) AS gaps
        FROM t LEFT JOIN g USING (exchange, symbol, kind)
        ORDER BY t.exchange, t.symbol, t.kind
    """
    frame: pl.DataFrame = con.sql(query).pl()
    return frame
