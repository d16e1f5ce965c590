"""Streaming a time window of several kinds and symbols, merged in (ts, kind priority, seq) order.

One UNION ALL over the kind tables projected onto a shared set of columns, sorted by DuckDB and read
as Arrow record batches, so a day of ticks never has to sit in Python memory at once. Ties at one
nanosecond are broken by kind priority (schema.KIND_PRIORITY), then ingest, then file order.

`kind` is streamed as its small integer priority (`KIND_BY_CODE` names it): strings and unused
columns are what make a wide sort slow, so callers on a hot path ask for just the columns they use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

import duckdb
import polars as pl
import pyarrow as pa

from harness.data.schema import KIND_COLUMNS, KIND_PRIORITY, KINDS, frame_schema

_SQL_TYPE_NAMES: Final = {
    pl.Int64: "BIGINT",
    pl.Int8: "TINYINT",
    pl.Float64: "DOUBLE",
    pl.String: "VARCHAR",
    pl.Boolean: "BOOLEAN",
}


def _stream_columns() -> dict[str, pl.DataType]:
    merged: dict[str, pl.DataType] = {}
    for kind in KINDS:
        for name, dtype in frame_schema(kind).items():
            merged.setdefault(name, dtype)
    return merged


STREAM_COLUMNS: Final = {"kind": pl.Int8(), **_stream_columns(), "ingest_id": pl.Int32()}
"""Columns of a streamed batch: the union of every kind's columns; absent ones are null."""

KIND_BY_CODE: Final = {code: kind for kind, code in KIND_PRIORITY.items()}

DEFAULT_BATCH_ROWS: Final = 65_536


def _select_for(kind: str, columns: Sequence[str]) -> str:
    own = set(KIND_COLUMNS[kind]) | {"exchange", "symbol", "ts", "local_ts", "seq", "ingest_id"}
    parts = []
    for name in dict.fromkeys(["kind", *columns, "ts", "seq", "ingest_id"]):
        if name == "kind":
            parts.append(f"CAST({KIND_PRIORITY[kind]} AS TINYINT) AS kind")
        elif name in own:
            parts.append(name)
        else:
            sql_type = _SQL_TYPE_NAMES.get(type(STREAM_COLUMNS[name]), "INTEGER")
            parts.append(f"CAST(NULL AS {sql_type}) AS {name}")
    return f"SELECT {', '.join(parts)} FROM {kind}"


def _window_sql(
    kinds: Sequence[str],
    columns: Sequence[str],
    start: int | None,
    end: int | None,
    symbols: Sequence[str] | None,
    exchange: str | None,
) -> tuple[str, list[object]]:
    unknown = [kind for kind in kinds if kind not in KIND_PRIORITY]
    if unknown:
        raise ValueError(f"unknown kinds {unknown}; known: {', '.join(KINDS)}")
    bad_columns = [name for name in columns if name not in STREAM_COLUMNS]
    if bad_columns:
        raise ValueError(f"unknown columns {bad_columns}; known: {', '.join(STREAM_COLUMNS)}")
    where: list[str] = []
    params: list[object] = []
    if start is not None:
        where.append("ts >= ?")
        params.append(start)
    if end is not None:
        where.append("ts < ?")
        params.append(end)
    if symbols:
        where.append(f"symbol IN ({', '.join('?' for _ in symbols)})")
        params.extend(symbols)
    if exchange is not None:
        where.append("exchange = ?")
        params.append(exchange)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    selects = []
    all_params: list[object] = []
    for kind in kinds:
        selects.append(_select_for(kind, columns) + clause)
        all_params.extend(params)
    wanted = ", ".join(dict.fromkeys(["kind", *columns]))
    sql = f"SELECT {wanted} FROM ({' UNION ALL '.join(selects)}) ORDER BY ts, kind, ingest_id, seq"
    return sql, all_params


def stream_batches(
    con: duckdb.DuckDBPyConnection,
    *,
    kinds: Sequence[str] = KINDS,
    start: int | None = None,
    end: int | None = None,
    symbols: Sequence[str] | None = None,
    exchange: str | None = None,
    columns: Sequence[str] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Record batches of the window [start, end) in replay order, with `kind` first.

    `columns` defaults to every stream column.
    """
    wanted = list(columns) if columns is not None else [c for c in STREAM_COLUMNS if c != "kind"]
    sql, params = _window_sql(kinds, wanted, start, end, symbols, exchange)
    reader = con.sql(sql, params=params).to_arrow_reader(batch_rows)
    yield from reader


def stream_frames(
    con: duckdb.DuckDBPyConnection,
    *,
    kinds: Sequence[str] = KINDS,
    start: int | None = None,
    end: int | None = None,
    symbols: Sequence[str] | None = None,
    exchange: str | None = None,
    columns: Sequence[str] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Iterator[pl.DataFrame]:
    """The same window as polars frames, one per batch."""
    for batch in stream_batches(
        con,
        kinds=kinds,
        start=start,
        end=end,
        symbols=symbols,
        exchange=exchange,
        columns=columns,
        batch_rows=batch_rows,
    ):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        yield frame
