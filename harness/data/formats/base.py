"""What every input format produces: typed frames per kind, sequence gaps, and message counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from harness.data.errors import IngestError
from harness.data.schema import SEQ_STRIDE, frame_schema
from harness.data.source import SourceFile

DEFAULT_TS_TOLERANCE_NS = 1_000_000_000
"""How far a series' exchange time may step backwards before a file is refused (1 s).

Venues stamp different streams from different machines, and some (Binance bookTicker) jitter by a
few milliseconds; a larger step back means a shuffled or concatenated file, which would corrupt a
replay.
"""


@dataclass(frozen=True)
class IngestOptions:
    exchange: str | None = None
    symbol: str | None = None
    ts_tolerance_ns: int = DEFAULT_TS_TOLERANCE_NS


@dataclass(frozen=True)
class Gap:
    """A break in a sequenced stream; the book is unreliable from here until the next snapshot."""

    symbol: str
    kind: str
    ts: int
    seq: int
    line: int
    expected: int | None
    got: int | None
    reason: str


@dataclass
class Parsed:
    exchange: str
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    messages: dict[str, int] = field(default_factory=dict)
    """Source messages per kind (one depth message holds many level rows)."""

    @property
    def rows(self) -> int:
        return sum(frame.height for frame in self.frames.values())


class Format(Protocol):
    name: str
    description: str

    def sniff(self, src: SourceFile, head: bytes) -> bool:
        """True when the first bytes of the decompressed file look like this format."""
        ...

    def parse(self, src: SourceFile, options: IngestOptions) -> Parsed:
        """Read the whole file; raise IngestError naming the line at the first problem."""
        ...


def build_frame(kind: str, columns: Mapping[str, Sequence[Any] | pl.Series]) -> pl.DataFrame:
    """A frame with exactly the store's columns and types for `kind`; missing columns are null."""
    schema = frame_schema(kind)
    unknown = set(columns) - set(schema)
    if unknown:
        raise ValueError(f"columns not in {kind}: {sorted(unknown)}")
    height = max((len(values) for values in columns.values()), default=0)
    series = []
    for name, dtype in schema.items():
        values = columns.get(name)
        if values is None:
            series.append(pl.Series(name, [None] * height, dtype=dtype))
        elif isinstance(values, pl.Series):
            series.append(values.rename(name).cast(dtype, strict=True))
        else:
            series.append(pl.Series(name, values, dtype=dtype, strict=True))
    return pl.DataFrame(series)


def check_time_order(src: SourceFile, kind: str, frame: pl.DataFrame, tolerance_ns: int) -> None:
    """Refuse a series whose exchange time steps back by more than the tolerance, per symbol."""
    if frame.height < 2:
        return
    ordered = frame.select("symbol", "ts", "seq").with_columns(
        back=pl.col("ts").cum_max().over("symbol") - pl.col("ts")
    )
    bad = ordered.filter(pl.col("back") > tolerance_ns)
    if bad.height:
        row = bad.sort("seq").row(0, named=True)
        raise IngestError(
            src.name,
            row["seq"] // SEQ_STRIDE,
            f"{kind} timestamp goes backwards by {row['back'] / 1e9:.3f} s for {row['symbol']} "
            f"(tolerance {tolerance_ns / 1e9:g} s)",
        )
