"""Reading vendor CSV files at polars speed while still naming the exact line that is wrong.

polars parses a whole file in one vectorised pass, but its errors carry a byte offset at best, and
with a column projection it accepts rows with extra or missing fields without a word. So every read
is checked afterwards with cheap whole-file tests: the comma count must be exactly (columns - 1) per
line, required values must be present and floats finite. When the parse or a test fails,
`_Layout.locate` looks again, still vectorised: once reading each line whole to find the first blank
or ragged one, once reading every value as text and casting it, and raises IngestError at the
earlier of the two. Only a broken file pays for the second look (a few seconds per 10M rows).

One polars row is one line (quoting is off, and an empty line reads as a row of nulls), so a row's
line number is its index plus the header. Blank lines inside a file are refused: no vendor writes
them, so they mean a damaged or concatenated file. Blank lines at the end are ignored. Quoting is
off because none of these vendors quote fields; a quote inside a number is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from harness.data.errors import IngestError
from harness.data.schema import SEQ_STRIDE, frame_schema
from harness.data.source import SourceFile

LINE = "line"
"""Column added to every table read: the 1-based line number of the row in the file."""

_BLANK = b" \t\r\n"
_NO_SEPARATOR = "\x1f"
"""Reads each line as one field: a byte no CSV of these vendors contains (ASCII unit separator)."""
_REPLACED = "\ufffd"
"""What the tolerant re-read puts in place of bytes that are not UTF-8."""
_EPOCH_FIRST_S = 946_684_800
_EPOCH_LAST_S = 4_102_444_800
"""Accepted timestamps lie in 2000..2100: anything else means a wrong unit or a corrupt value."""


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType | None = None
    """How the value is parsed; None for a column that is in the file but not stored (not read)."""
    required: bool = True
    """An empty value is an error (otherwise it reads as null)."""


def first_line(data: bytes) -> str:
    end = data.find(b"\n")
    line = data if end < 0 else data[:end]
    return line.rstrip(b"\r").decode("utf-8", errors="replace").lstrip("\ufeff")


def header_names(data: bytes) -> list[str]:
    return [name.strip() for name in first_line(data).split(",")]


def read_table(
    src: SourceFile, data: bytes, columns: Sequence[Column], *, header: bool
) -> pl.DataFrame:
    """The file's rows with the read columns typed as declared, plus the `line` column.

    With `header`, columns are found by name and their order in `columns` does not matter;
    without, `columns` lists every column of the file in order.
    """
    data = _trim_end(data)
    if not data:
        raise IngestError(src.name, None, "file is empty")
    read = [column for column in columns if column.dtype is not None]
    if header:
        names = header_names(data)
        for column in read:
            if column.name not in names:
                found = ", ".join(names)
                raise IngestError(src.name, 1, f"missing header column {column.name!r} ({found})")
    else:
        names = [column.name for column in columns]
    layout = _Layout(names, read, header)
    try:
        frame = layout.read(data, as_text=False)
    except pl.exceptions.PolarsError as exc:
        layout.locate(src, data)
        raise IngestError(src.name, None, f"unreadable CSV ({exc})") from None
    if not layout.consistent(data, frame):
        layout.locate(src, data)
        raise IngestError(src.name, None, "CSV shape check failed but no bad line was found")
    first = 2 if header else 1
    return frame.with_row_index(LINE, offset=first).with_columns(pl.col(LINE).cast(pl.Int64))


def to_kind(kind: str, frame: pl.DataFrame, values: dict[str, pl.Expr]) -> pl.DataFrame:
    """The store's columns for `kind` from `values` (null where absent), one row per line.

    `seq` is the line times SEQ_STRIDE, so a time-order error names the line.
    """
    exprs = [
        (pl.col(LINE) * SEQ_STRIDE if name == "seq" else values.get(name, pl.lit(None)))
        .cast(dtype)
        .alias(name)
        for name, dtype in frame_schema(kind).items()
    ]
    return frame.select(exprs)


def epoch_ns(
    src: SourceFile, frame: pl.DataFrame, column: str, unit: str, ns_per_unit: int
) -> pl.Expr:
    """`column` (an integer epoch time in `unit`) as ns; refuse values outside 2000..2100."""
    first = _EPOCH_FIRST_S * 1_000_000_000 // ns_per_unit
    last = _EPOCH_LAST_S * 1_000_000_000 // ns_per_unit
    value = pl.col(column)
    refuse_where(
        src,
        frame,
        (value < first) | (value > last),
        lambda row: f"{column} {row[column]} is not {unit} since the epoch in 2000..2100",
    )
    return value * ns_per_unit


def refuse_where(
    src: SourceFile, frame: pl.DataFrame, bad: pl.Expr, message: Callable[[dict[str, Any]], str]
) -> None:
    """Raise at the first row where `bad` holds, with `message` built from that row."""
    hit = frame.filter(bad).head(1)
    if hit.height:
        row = hit.row(0, named=True)
        raise IngestError(src.name, row[LINE], message(row))


def _trim_end(data: bytes) -> bytes:
    end = len(data)
    while end and data[end - 1] in _BLANK:
        end -= 1
    # Slicing copies the file, so only when there is more than the usual final newline to drop.
    return data if end and data[end:] in (b"", b"\n", b"\r\n") else data[:end]


@dataclass(frozen=True)
class _Layout:
    names: list[str]
    wanted: list[Column]
    header: bool

    def read(self, data: bytes, *, as_text: bool) -> pl.DataFrame:
        """Typed and strict, or (to look for the bad line) all text and tolerant of ragged lines."""
        dtypes: dict[str, pl.DataType] = {}
        for column in self.wanted:
            if column.dtype is not None:
                dtypes[column.name] = pl.String() if as_text else column.dtype
        tolerant: dict[str, Any] = {}
        if as_text:
            tolerant = {
                "truncate_ragged_lines": True,
                "extra_columns": "ignore",
                "encoding": "utf8-lossy",
            }
        frame = pl.read_csv(
            data,
            has_header=self.header,
            new_columns=self.names,
            columns=[self.names.index(column.name) for column in self.wanted],
            schema_overrides=dtypes,
            quote_char=None,
            **tolerant,
        )
        return frame.select(column.name for column in self.wanted)

    def consistent(self, data: bytes, frame: pl.DataFrame) -> bool:
        lines = frame.height + self.header
        if data.count(b",") != (len(self.names) - 1) * lines:
            return False
        checks = [
            pl.col(c.name).null_count().alias(f"{c.name} present") == 0
            for c in self.wanted
            if c.required
        ]
        checks += [
            pl.col(c.name).is_finite().all().alias(f"{c.name} finite")
            for c in self.wanted
            if c.dtype == pl.Float64()
        ]
        return not checks or all(frame.select(checks).row(0))

    def locate(self, src: SourceFile, data: bytes) -> None:
        """Raise IngestError at the first bad line, if there is one; on a tie the shape wins."""
        found = [hit for hit in (self._first_bad_shape(data), self._first_bad_value(data)) if hit]
        if found:
            line, problem = min(found, key=lambda hit: hit[0])
            raise IngestError(src.name, line, problem)

    def _first_bad_shape(self, data: bytes) -> tuple[int, str] | None:
        """(line, problem) of the first blank line or line with the wrong number of fields."""
        try:
            lines = pl.read_csv(
                data,
                has_header=False,
                separator=_NO_SEPARATOR,
                quote_char=None,
                schema={"text": pl.String()},
                encoding="utf8-lossy",
            )["text"].slice(int(self.header))
        except pl.exceptions.PolarsError:
            return None
        expected = len(self.names)
        fields = lines.str.count_matches(",", literal=True).fill_null(0) + 1
        bad = fields != expected
        if not bad.any():
            return None
        row = int(bad.arg_true()[0])
        line = row + 1 + self.header
        text = lines[row]
        if text is None or not text.strip():
            return line, "empty line"
        return line, f"expected {expected} columns, found {fields[row]}"

    def _first_bad_value(self, data: bytes) -> tuple[int, str] | None:
        """(line, problem) of the first value that is missing or does not parse as its type."""
        try:
            frame = self.read(data, as_text=True)
        except pl.exceptions.PolarsError:
            return None
        found: list[tuple[int, int, str]] = []
        for order, column in enumerate(self.wanted):
            hit = _first_bad(column, frame[column.name])
            if hit is not None:
                row, problem = hit
                found.append((row, order, problem))
        if not found:
            return None
        row, _, problem = min(found)
        return row + 1 + self.header, problem


def _first_bad(column: Column, text: pl.Series) -> tuple[int, str] | None:
    bad, what = _unparsed(column, text)
    if column.required:
        bad = bad | text.is_null()
    if not bad.any():
        return None
    row = int(bad.arg_true()[0])
    raw = text[row]
    if raw is None:
        return row, f"empty {column.name}"
    return row, f"{column.name} {raw!r} is not {what}"


def _unparsed(column: Column, text: pl.Series) -> tuple[pl.Series, str]:
    """Where a present value does not parse as the column's type, and a name for the type.

    The strict reader also takes leading blanks in numbers and any letter case in booleans; those
    slower forms are only tried on a column where the plain ones fail.
    """
    present = text.is_not_null()
    if column.dtype == pl.Boolean():
        words = ["true", "false"]
        bad = present & ~text.is_in(words)
        if bad.any():
            bad = present & ~text.str.to_lowercase().is_in(words)
        return bad, "true or false"
    if column.dtype == pl.Float64():
        bad = present & ~text.cast(pl.Float64, strict=False).is_finite().fill_null(False)
        if bad.any():
            number = text.str.strip_chars_start().cast(pl.Float64, strict=False)
            bad = present & ~number.is_finite().fill_null(False)
        return bad, "a finite number"
    if column.dtype == pl.Int64():
        bad = present & text.cast(pl.Int64, strict=False).is_null()
        if bad.any():
            bad = present & text.str.strip_chars_start().cast(pl.Int64, strict=False).is_null()
        return bad, "an integer"
    return text.str.contains(_REPLACED, literal=True).fill_null(False), "UTF-8 text"
