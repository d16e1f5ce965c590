"""Streaming a time window of several kinds and symbols, merged in (ts, kind priority, seq) order.

One UNION ALL over the kind tables projected onto a shared set of columns, sorted by DuckDB and read
as Arrow record batches, so a day of ticks never has to sit in Python memory at once. Ties at one
nanosecond are broken by kind priority (schema.KIND_PRIORITY), then ingest, then file order.

`kind` is streamed as its small integer priority (`KIND_BY_CODE` names it): strings and unused
columns are what make a wide sort slow, so callers on a hot path ask for just the columns they use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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


def _filter(
    start: int | None, end: int | None, symbols: Sequence[str] | None, exchange: str | None
) -> tuple[str, list[object]]:
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
    return (f" WHERE {' AND '.join(where)}" if where else ""), params


def _check_kinds(kinds: Sequence[str]) -> None:
    unknown = [kind for kind in kinds if kind not in KIND_PRIORITY]
    if unknown:
        raise ValueError(f"unknown kinds {unknown}; known: {', '.join(KINDS)}")


def _window_sql(
    kinds: Sequence[str],
    columns: Sequence[str],
    start: int | None,
    end: int | None,
    symbols: Sequence[str] | None,
    exchange: str | None,
) -> tuple[str, list[object]]:
    _check_kinds(kinds)
    bad_columns = [name for name in columns if name not in STREAM_COLUMNS]
    if bad_columns:
        raise ValueError(f"unknown columns {bad_columns}; known: {', '.join(STREAM_COLUMNS)}")
    clause, params = _filter(start, end, symbols, exchange)
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


def stream_projected(
    con: duckdb.DuckDBPyConnection,
    projections: Mapping[str, Mapping[str, str]],
    *,
    start: int | None = None,
    end: int | None = None,
    symbols: Sequence[str] | None = None,
    exchange: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """The window of the kinds in `projections` in replay order, like `stream_batches`, with each
    kind's rows given as the caller's SQL expressions: `kind`, then one column per name, which
    every kind must list in the same order (`{"price": "bid_price", ...}` for book tops).

    For hot consumers: a few dense columns that several kinds share (a book top's bid in the
    slot of a trade's price) sort and convert about twice as fast as the wide union of mostly
    null stream columns. The expressions are trusted code, never user input.
    """
    kinds = list(projections)
    _check_kinds(kinds)
    if not kinds:
        raise ValueError("nothing to stream: no kinds")
    names = list(projections[kinds[0]])
    for kind in kinds:
        if list(projections[kind]) != names:
            raise ValueError(f"{kind} projects {list(projections[kind])}, expected {names}")
    clause, params = _filter(start, end, symbols, exchange)
    selects = []
    for kind in kinds:
        exprs = "".join(f"{expr} AS {name}, " for name, expr in projections[kind].items())
        selects.append(
            f"SELECT CAST({KIND_PRIORITY[kind]} AS TINYINT) AS kind, {exprs}"
            f"ts AS _ts, ingest_id AS _ingest, seq AS _seq FROM {kind}{clause}"
        )
    sql = (
        f"SELECT {', '.join(['kind', *names])} FROM ({' UNION ALL '.join(selects)}) "
        "ORDER BY _ts, kind, _ingest, _seq"
    )
    yield from con.sql(sql, params=params * len(kinds)).to_arrow_reader(batch_rows)


def rows_per_second(
    con: duckdb.DuckDBPyConnection,
    *,
    kinds: Sequence[str] = KINDS,
    start: int | None = None,
    end: int | None = None,
    symbols: Sequence[str] | None = None,
    exchange: str | None = None,
) -> list[tuple[int, int]]:
    """(second since the epoch, rows) of the window, in time order, seconds without rows left out:
    where a consumer can cut a long window into shorter ones of a bounded size."""
    _check_kinds(kinds)
    clause, params = _filter(start, end, symbols, exchange)
    union = " UNION ALL ".join(f"SELECT ts FROM {kind}{clause}" for kind in kinds)
    rows: list[tuple[int, int]] = con.execute(
        f"SELECT ts // 1000000000 AS second, count(*) FROM ({union}) GROUP BY second "
        "ORDER BY second",
        params * len(kinds),
    ).fetchall()
    return rows
