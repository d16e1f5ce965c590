"""The calm replay, pinned: its liquidation path (none on this quiet day) and key figures."""

from __future__ import annotations

from pathlib import Path

from harness.testing import Golden
from tests.conftest import ROOT


def test_calm_replay(golden: Golden, capture_db: Path) -> None:
    golden.check(golden.run(ROOT / "replays" / "btcusdt-2024-08-08-calm.toml", db=capture_db))
