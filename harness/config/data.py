"""`[data]` and `[outputs]`: what a run replays, and where it writes."""

from __future__ import annotations

from pathlib import Path

from harness.config.settings import (
    SYMBOL_PATTERN,
    Duration,
    Instant,
    ListOf,
    PathValue,
    SettingError,
    Text,
    config,
    setting,
)
from harness.sim.clock import iso
from harness.units import NS_PER_S


@config
class DataConfig:
    db: Path = setting(
        PathValue(),
        "Tick store to replay from; a relative path is relative to the working directory.",
        default=Path("data/harness.duckdb"),
    )
    exchange: str = setting(
        Text(r"[a-z0-9][a-z0-9_-]*", "exchange name"),
        "Exchange name as stored in the tick store.",
        default="binance-usdm",
    )
    symbols: tuple[str, ...] = setting(
        ListOf(Text(SYMBOL_PATTERN, "symbol"), min_len=1, unique=True),
        "Symbols replayed and traded.",
        default=("BTCUSDT",),
    )
    start: int | None = setting(
        Instant(),
        "First instant replayed (inclusive).",
        default=None,
        default_doc="first recorded tick",
    )
    end: int | None = setting(
        Instant(),
        "Instant the replay stops (exclusive).",
        default=None,
        default_doc="last recorded tick",
    )

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise SettingError("end", f"{iso(self.end)} is not after start {iso(self.start)}")


@config
class OutputsConfig:
    dir: Path | None = setting(
        PathValue(), "Folder for the run's outputs.", default=None, default_doc="runs/<name>"
    )
    journal_mark_every_ns: int = setting(
        Duration(positive=True),
        "Sampling period of mark records in the journal (other records are never sampled).",
        default=NS_PER_S,
    )
