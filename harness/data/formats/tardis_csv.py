"""Tardis.dev CSV datasets: trades, incremental_book_L2, derivative_ticker and liquidations.

One format per data type, named `tardis-csv-<data type>`, because content alone cannot always tell
the type: trades and liquidations files have the same header. Sniffing accepts a file whose header
is exactly the documented one; for those two types the name must also say which it is, in a token
of the file name (Tardis saves downloads as `<exchange>_<data type>_<date>_<symbol>.csv.gz`) or else
of a directory (its datasets layout is `<exchange>/<data type>/<y>/<m>/<d>/<symbol>.csv.gz`).
Anything else needs `--format tardis-csv-<data type>`.

Times are microseconds since the epoch: `timestamp` is exchange time (Tardis puts receive time
there when a venue sends none) and becomes `ts`; `local_timestamp` is receive time, `local_ts`.
Rows are in receive order. `exchange` and `symbol` come from their columns unless the options
override them; a file holding several exchanges is refused, since an ingest records one.

- trades: side buy +1, sell -1, unknown null (some venues do not publish the aggressor); `id` is
  the trade id when it is an integer, else null (some venues use UUIDs or text).
- incremental_book_L2: side bid +1, ask -1; `amount` is the new size at the level (0 removes it).
  A run of is_snapshot rows is a fresh book (after a reconnect too), which is how the book rebuild
  reads snapshot rows; there are no update ids.
- derivative_ticker: Tardis writes a row whenever any field changes, repeating the last value of
  the others, and leaves empty what a venue does not publish. A line with a mark price gives a
  mark_prices row (index, funding rate and next funding time null where empty), and one with open
  interest an open_interest row, each only when its values differ from the symbol's previous row
  of that table, so repeats caused by other fields are not stored. last_price and
  predicted_funding_rate have no table.
- liquidations: side buy +1 (a short was closed by a forced buy), sell -1, as binance-ws stores
  forced orders; the id is not stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from harness.data.formats.base import IngestOptions, Parsed
from harness.data.formats.csv_table import (
    Column,
    epoch_ns,
    header_names,
    read_table,
    refuse_where,
    to_kind,
)
from harness.data.source import SourceFile

US = 1_000
_TOKENS = re.compile(r"[^A-Za-z0-9]+")
_SAME_HEADER = ("trades", "liquidations")
"""Data types whose header is identical: the file name has to tell them apart."""

_BASE = (
    Column("exchange", pl.String()),
    Column("symbol", pl.String()),
    Column("timestamp", pl.Int64()),
    Column("local_timestamp", pl.Int64()),
)

Convert = Callable[[SourceFile, pl.DataFrame, dict[str, pl.Expr]], dict[str, pl.DataFrame]]


@dataclass(frozen=True)
class _DataType:
    name: str
    columns: tuple[Column, ...]
    convert: Convert


def _side(src: SourceFile, frame: pl.DataFrame, codes: dict[str, int | None]) -> pl.Expr:
    """A word outside `codes` is an error rather than a silent null; a None code stores null."""
    allowed = ", ".join(codes)
    refuse_where(
        src,
        frame,
        ~pl.col("side").is_in(list(codes)),
        lambda row: f"side {row['side']!r} is not one of {allowed}",
    )
    known = {text: code for text, code in codes.items() if code is not None}
    return pl.col("side").replace_strict(known, default=None, return_dtype=pl.Int8())


def _trades(
    src: SourceFile, frame: pl.DataFrame, base: dict[str, pl.Expr]
) -> dict[str, pl.DataFrame]:
    values = {
        **base,
        "price": pl.col("price"),
        "qty": pl.col("amount"),
        "side": _side(src, frame, {"buy": 1, "sell": -1, "unknown": None}),
        "trade_id": pl.col("id").str.strip_chars().cast(pl.Int64, strict=False),
    }
    return {"trades": to_kind("trades", frame, values)}


def _book(
    src: SourceFile, frame: pl.DataFrame, base: dict[str, pl.Expr]
) -> dict[str, pl.DataFrame]:
    values = {
        **base,
        "side": _side(src, frame, {"bid": 1, "ask": -1}),
        "price": pl.col("price"),
        "qty": pl.col("amount"),
        "is_snapshot": pl.col("is_snapshot"),
    }
    return {"book_deltas": to_kind("book_deltas", frame, values)}


def _changed(columns: list[str]) -> pl.Expr:
    """True where any of `columns` differs from the symbol's previous row (always on its first)."""
    return pl.any_horizontal(
        pl.col(name).ne_missing(pl.col(name).shift(1).over("symbol")) for name in columns
    )


def _ticker(
    src: SourceFile, frame: pl.DataFrame, base: dict[str, pl.Expr]
) -> dict[str, pl.DataFrame]:
    marks = to_kind(
        "mark_prices",
        frame.filter(pl.col("mark_price").is_not_null()),
        {
            **base,
            "mark_price": pl.col("mark_price"),
            "index_price": pl.col("index_price"),
            "funding_rate": pl.col("funding_rate"),
            "next_funding_ts": epoch_ns(src, frame, "funding_timestamp", "microseconds", US),
        },
    )
    interest = to_kind(
        "open_interest",
        frame.filter(pl.col("open_interest").is_not_null()),
        {**base, "oi": pl.col("open_interest")},
    )
    return {
        "mark_prices": marks.filter(
            _changed(["mark_price", "index_price", "funding_rate", "next_funding_ts"])
        ),
        "open_interest": interest.filter(_changed(["oi"])),
    }


def _liquidations(
    src: SourceFile, frame: pl.DataFrame, base: dict[str, pl.Expr]
) -> dict[str, pl.DataFrame]:
    values = {
        **base,
        "side": _side(src, frame, {"buy": 1, "sell": -1}),
        "price": pl.col("price"),
        "qty": pl.col("amount"),
    }
    return {"liquidations": to_kind("liquidations", frame, values)}


_TRADE_LIKE = (
    Column("id", pl.String(), required=False),
    Column("side", pl.String()),
    Column("price", pl.Float64()),
    Column("amount", pl.Float64()),
)

DATA_TYPES: dict[str, _DataType] = {
    "trades": _DataType("trades", (*_BASE, *_TRADE_LIKE), _trades),
    "incremental_book_L2": _DataType(
        "incremental_book_L2",
        (
            *_BASE,
            Column("is_snapshot", pl.Boolean()),
            Column("side", pl.String()),
            Column("price", pl.Float64()),
            Column("amount", pl.Float64()),
        ),
        _book,
    ),
    "derivative_ticker": _DataType(
        "derivative_ticker",
        (
            *_BASE,
            Column("funding_timestamp", pl.Int64(), required=False),
            Column("funding_rate", pl.Float64(), required=False),
            Column("predicted_funding_rate"),
            Column("open_interest", pl.Float64(), required=False),
            Column("last_price"),
            Column("index_price", pl.Float64(), required=False),
            Column("mark_price", pl.Float64(), required=False),
        ),
        _ticker,
    ),
    "liquidations": _DataType("liquidations", (*_BASE, *_TRADE_LIKE), _liquidations),
}


def _named_type(src: SourceFile) -> str | None:
    """trades or liquidations from the nearest file or directory name that names one of them."""
    for name in (src.base_name, *(part.name for part in src.path.parents)):
        found = [kind for kind in _SAME_HEADER if kind in _TOKENS.split(name)]
        if found:
            return found[0] if len(found) == 1 else None
    return None


class TardisCsv:
    def __init__(self, data_type: str) -> None:
        self._type = DATA_TYPES[data_type]
        self.name = f"tardis-csv-{data_type}"
        self.description = f"Tardis.dev {data_type} CSV"

    def sniff(self, src: SourceFile, head: bytes) -> bool:
        if header_names(head) != [column.name for column in self._type.columns]:
            return False
        return self._type.name not in _SAME_HEADER or _named_type(src) == self._type.name

    def parse(self, src: SourceFile, options: IngestOptions) -> Parsed:
        frame = read_table(src, src.read_bytes(), self._type.columns, header=True)
        exchange = options.exchange
        if exchange is None and frame.height:
            exchange = str(frame["exchange"][0])
            refuse_where(
                src,
                frame,
                pl.col("exchange") != exchange,
                lambda row: f"exchange {row['exchange']!r} differs from {exchange!r} above",
            )
        base = {
            "exchange": pl.lit(exchange) if options.exchange else pl.col("exchange"),
            "symbol": pl.lit(options.symbol) if options.symbol else pl.col("symbol"),
            "ts": epoch_ns(src, frame, "timestamp", "microseconds", US),
            "local_ts": epoch_ns(src, frame, "local_timestamp", "microseconds", US),
        }
        frames = self._type.convert(src, frame, base)
        return Parsed(
            exchange=exchange or "unknown",
            frames={kind: rows for kind, rows in frames.items() if rows.height},
            messages={self._type.name: frame.height},
        )


FORMATS = tuple(TardisCsv(data_type) for data_type in DATA_TYPES)
