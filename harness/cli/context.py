"""State shared by every subcommand (which store to use)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Ctx:
    db: Path
