"""Binance public-data CSVs of USD-M futures: trades, aggTrades, bookTicker, markPriceKlines,
fundingRate (the daily and monthly files, unzipped; .gz and .zst work too).

One format per dataset, named `binance-csv-<dataset>`, because older files have no header row and
then only the file name says what they hold (`BTCUSDT-trades-2024-08-08.csv`), and a kline file's
name does not say it at all (`BTCUSDT-1m-2024-08-08.csv` is the same for trade, mark, index and
premium klines). `--format binance-csv-<dataset>` forces one. Sniffing accepts a file whose header
is exactly the documented one, or a headerless file of numbers with the right column count whose
name has the Binance pattern for the dataset. Mark price klines are only sniffed when a directory
or the file name says `markPriceKlines`, as in Binance's own layout
(`.../markPriceKlines/BTCUSDT/1m/BTCUSDT-1m-2024-08-08.csv`): storing trade klines as marks would
quietly corrupt a replay.

Times are milliseconds since the epoch; there is no receive time (local_ts null). The symbol comes
from the file name (the part before the first `-`) unless options.symbol is given, the exchange is
`binance-usdm` unless options.exchange is given.

- trades, aggTrades: side -1 when the buyer was the maker (the aggressor sold), else +1; trade_id is
  the trade id, or the aggregate trade id.
- bookTicker: ts is transaction_time, or event_time where that is empty or 0.
- markPriceKlines: one mark price per kline, the close, at close_time; no index price.
- fundingRate: the settled rate at calc_time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from harness.data.errors import IngestError
from harness.data.formats.base import IngestOptions, Parsed
from harness.data.formats.csv_table import (
    Column,
    epoch_ns,
    first_line,
    header_names,
    read_table,
    refuse_where,
    to_kind,
)
from harness.data.source import SourceFile

MS = 1_000_000
EXCHANGE = "binance-usdm"
_DATED_NAME = re.compile(r"^([A-Za-z0-9_]+)-([A-Za-z0-9]+)-\d{4}-\d{2}(?:-\d{2})?\.csv$")
_INTERVAL = re.compile(r"^(?:\d+[smhdw]|1mo)$")
_NUMERIC_ROW = re.compile(r"^[-+.0-9eE]*(?:,(?:[-+.0-9eE]*|true|false|True|False))*$")
_KLINES = "markPriceKlines"

Convert = Callable[[SourceFile, pl.DataFrame, dict[str, pl.Expr]], tuple[str, pl.DataFrame]]


@dataclass(frozen=True)
class _Dataset:
    name: str
    columns: tuple[Column, ...]
    """Every column of the file, in order (a headerless file is read by position)."""
    convert: Convert


def _trades(id_column: str, qty_column: str, time_column: str) -> Convert:
    def convert(
        src: SourceFile, frame: pl.DataFrame, base: dict[str, pl.Expr]
    ) -> tuple[str, pl.DataFrame]:
        values = {
            **base,
            "ts": epoch_ns(src, frame, time_column, "milliseconds", MS),
            "price": pl.col("price"),
            "qty": pl.col(qty_column),
            "side": pl.when(pl.col("is_buyer_maker")).then(-1).otherwise(1),
            "trade_id": pl.col(id_column),
        }
        return "trades", to_kind("trades", frame, values)

    return convert


def _book_ticker(
    src: SourceFile, frame: pl.DataFrame, base: dict[str, pl.Expr]
) -> tuple[str, pl.DataFrame]:
    frame = frame.with_columns(
        pl.when(pl.col(name) != 0).then(pl.col(name)).alias(name)
        for name in ("transaction_time", "event_time")
    )
    refuse_where(
        src,
        frame,
        pl.col("transaction_time").is_null() & pl.col("event_time").is_null(),
        lambda row: "neither transaction_time nor event_time is given",
    )
    transaction = epoch_ns(src, frame, "transaction_time", "milliseconds", MS)
    event = epoch_ns(src, frame, "event_time", "milliseconds", MS)
    values = {
        **base,
        "ts": pl.coalesce(transaction, event),
        "bid_price": pl.col("best_bid_price"),
        "bid_qty": pl.col("best_bid_qty"),
        "ask_price": pl.col("best_ask_price"),
        "ask_qty": pl.col("best_ask_qty"),
        "update_id": pl.col("update_id"),
    }
    return "book_tops", to_kind("book_tops", frame, values)


def _mark_klines(
    src: SourceFile, frame: pl.DataFrame, base: dict[str, pl.Expr]
) -> tuple[str, pl.DataFrame]:
    values = {
        **base,
        "ts": epoch_ns(src, frame, "close_time", "milliseconds", MS),
        "mark_price": pl.col("close"),
    }
    return "mark_prices", to_kind("mark_prices", frame, values)


def _funding(
    src: SourceFile, frame: pl.DataFrame, base: dict[str, pl.Expr]
) -> tuple[str, pl.DataFrame]:
    values = {
        **base,
        "ts": epoch_ns(src, frame, "calc_time", "milliseconds", MS),
        "rate": pl.col("last_funding_rate"),
    }
    return "funding", to_kind("funding", frame, values)


_PRICE = Column("price", pl.Float64())
_MAKER = Column("is_buyer_maker", pl.Boolean())

DATASETS: dict[str, _Dataset] = {
    "trades": _Dataset(
        "trades",
        (
            Column("id", pl.Int64()),
            _PRICE,
            Column("qty", pl.Float64()),
            Column("quote_qty"),
            Column("time", pl.Int64()),
            _MAKER,
        ),
        _trades("id", "qty", "time"),
    ),
    "aggTrades": _Dataset(
        "aggTrades",
        (
            Column("agg_trade_id", pl.Int64()),
            _PRICE,
            Column("quantity", pl.Float64()),
            Column("first_trade_id"),
            Column("last_trade_id"),
            Column("transact_time", pl.Int64()),
            _MAKER,
        ),
        _trades("agg_trade_id", "quantity", "transact_time"),
    ),
    "bookTicker": _Dataset(
        "bookTicker",
        (
            Column("update_id", pl.Int64()),
            Column("best_bid_price", pl.Float64()),
            Column("best_bid_qty", pl.Float64()),
            Column("best_ask_price", pl.Float64()),
            Column("best_ask_qty", pl.Float64()),
            Column("transaction_time", pl.Int64(), required=False),
            Column("event_time", pl.Int64(), required=False),
        ),
        _book_ticker,
    ),
    _KLINES: _Dataset(
        _KLINES,
        (
            Column("open_time"),
            Column("open"),
            Column("high"),
            Column("low"),
            Column("close", pl.Float64()),
            Column("volume"),
            Column("close_time", pl.Int64()),
            Column("quote_volume"),
            Column("count"),
            Column("taker_buy_volume"),
            Column("taker_buy_quote_volume"),
            Column("ignore"),
        ),
        _mark_klines,
    ),
    "fundingRate": _Dataset(
        "fundingRate",
        (
            Column("calc_time", pl.Int64()),
            Column("funding_interval_hours"),
            Column("last_funding_rate", pl.Float64()),
        ),
        _funding,
    ),
}


def _named_dataset(src: SourceFile) -> str | None:
    """The dataset a Binance file name (or, for klines, its directory) says the file holds."""
    match = _DATED_NAME.match(src.base_name)
    if match is None:
        return None
    middle = match.group(2)
    if _INTERVAL.match(middle):
        in_path = _KLINES in src.base_name or any(p.name == _KLINES for p in src.path.parents)
        return _KLINES if in_path else None
    return middle if middle in DATASETS else None


def _symbol(src: SourceFile, options: IngestOptions) -> str:
    if options.symbol:
        return options.symbol
    match = _DATED_NAME.match(src.base_name)
    if match is None:
        raise IngestError(
            src.name,
            None,
            "no symbol in the file name (SYMBOL-<dataset>-<date>.csv); pass --symbol",
        )
    return match.group(1).upper()


def _has_header(data: bytes) -> bool:
    return not first_line(data)[:1].isdigit()


class BinanceCsv:
    def __init__(self, dataset: str) -> None:
        self._set = DATASETS[dataset]
        self.name = f"binance-csv-{dataset}"
        self.description = f"Binance public-data USD-M futures {dataset} CSV"

    def sniff(self, src: SourceFile, head: bytes) -> bool:
        names = [column.name for column in self._set.columns]
        if _has_header(head):
            if header_names(head) != names:
                return False
            return self._set.name != _KLINES or _named_dataset(src) == _KLINES
        row = first_line(head)
        fits = len(row.split(",")) == len(names) and _NUMERIC_ROW.match(row) is not None
        return fits and _named_dataset(src) == self._set.name

    def parse(self, src: SourceFile, options: IngestOptions) -> Parsed:
        symbol = _symbol(src, options)
        data = src.read_bytes()
        frame = read_table(src, data, self._set.columns, header=_has_header(data))
        exchange = options.exchange or EXCHANGE
        base = {"exchange": pl.lit(exchange), "symbol": pl.lit(symbol)}
        kind, rows = self._set.convert(src, frame, base)
        return Parsed(
            exchange=exchange,
            frames={kind: rows} if rows.height else {},
            messages={self._set.name: frame.height},
        )


FORMATS = tuple(BinanceCsv(dataset) for dataset in DATASETS)
