"""DuckDB schema of the tick store.

Every market-data table carries `exchange`, `symbol`, `ts` (exchange time, int64 ns since the
epoch), `local_ts` (receive time where the source has one), `ingest_id` and `seq`. `seq` keeps file
order for ties: it is `line * 4096 + position inside the message`, so a depth message with many
levels keeps its level order and two rows never share (ingest_id, seq) within a kind.

Prices and quantities are stored as DOUBLE parsed from the source's decimal strings. The venue turns
them into integer ticks and lots (`round(price / tick)`), which is exact for any price with fewer
than 15 significant digits; the store itself never does arithmetic on them.
"""

from __future__ import annotations

from typing import Final

import polars as pl

SEQ_STRIDE: Final = 4096
"""Rows per source line that `seq` can tell apart (a Binance REST snapshot has 2 x 1000 levels)."""

COMMON: Final[dict[str, pl.DataType]] = {
    "exchange": pl.String(),
    "symbol": pl.String(),
    "ts": pl.Int64(),
    "local_ts": pl.Int64(),
    "seq": pl.Int64(),
}

KIND_COLUMNS: Final[dict[str, dict[str, pl.DataType]]] = {
    # side: +1 when the aggressor bought, -1 when it sold.
    "trades": {
        "price": pl.Float64(),
        "qty": pl.Float64(),
        "side": pl.Int8(),
        "trade_id": pl.Int64(),
    },
    # side: +1 bid, -1 ask; qty is the new size at the level, 0 removes it.
    "book_deltas": {
        "side": pl.Int8(),
        "price": pl.Float64(),
        "qty": pl.Float64(),
        "is_snapshot": pl.Boolean(),
        "first_update_id": pl.Int64(),
        "update_id": pl.Int64(),
        "prev_update_id": pl.Int64(),
    },
    "book_tops": {
        "bid_price": pl.Float64(),
        "bid_qty": pl.Float64(),
        "ask_price": pl.Float64(),
        "ask_qty": pl.Float64(),
        "update_id": pl.Int64(),
    },
    "mark_prices": {
        "mark_price": pl.Float64(),
        "index_price": pl.Float64(),
        "funding_rate": pl.Float64(),
        "next_funding_ts": pl.Int64(),
    },
    "funding": {"rate": pl.Float64()},
    "liquidations": {"side": pl.Int8(), "price": pl.Float64(), "qty": pl.Float64()},
    "open_interest": {"oi": pl.Float64()},
}

KINDS: Final = tuple(KIND_COLUMNS)

KIND_PRIORITY: Final[dict[str, int]] = {
    # Ties at one nanosecond: book state first, then what trades against it, then derived prices.
    "book_deltas": 0,
    "book_tops": 1,
    "trades": 2,
    "mark_prices": 3,
    "funding": 4,
    "open_interest": 5,
    "liquidations": 6,
}

_SQL_TYPES: Final[dict[type[pl.DataType], str]] = {
    pl.String: "VARCHAR",
    pl.Int64: "BIGINT",
    pl.Int8: "TINYINT",
    pl.Float64: "DOUBLE",
    pl.Boolean: "BOOLEAN",
}


def frame_schema(kind: str) -> dict[str, pl.DataType]:
    """Columns a parser must produce for `kind`, in table order (without `ingest_id`)."""
    return {**COMMON, **KIND_COLUMNS[kind]}


def table_columns(kind: str) -> list[str]:
    return [*frame_schema(kind), "ingest_id"]


def _ddl_for(kind: str) -> str:
    cols = [f"{name} {_SQL_TYPES[type(dtype)]}" for name, dtype in frame_schema(kind).items()]
    cols.append("ingest_id INTEGER NOT NULL")
    return f"CREATE TABLE IF NOT EXISTS {kind} ({', '.join(cols)})"


DDL: Final[dict[str, str]] = {
    **{kind: _ddl_for(kind) for kind in KINDS},
    "ingests": """CREATE TABLE IF NOT EXISTS ingests (
        ingest_id INTEGER PRIMARY KEY,
        path VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        exchange VARCHAR,
        rows BIGINT NOT NULL,
        first_ts BIGINT,
        last_ts BIGINT
    )""",
    # A sequence break in a depth stream: the rebuilt book is unreliable from `ts` until the next
    # snapshot of that symbol.
    "gaps": """CREATE TABLE IF NOT EXISTS gaps (
        exchange VARCHAR NOT NULL,
        symbol VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        ts BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        line BIGINT NOT NULL,
        expected BIGINT,
        got BIGINT,
        reason VARCHAR NOT NULL,
        ingest_id INTEGER NOT NULL
    )""",
}
