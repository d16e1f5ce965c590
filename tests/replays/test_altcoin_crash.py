"""replays/altcoin-crash-2025-10-10.toml on its synthetic tape: the liquidation path and the key
figures pinned by a golden snapshot, and the story the replay exists to tell asserted directly:
a cascade that feeds itself across symbols, an insurance fund drawn down, ADL, money conserved,
and an early warning before the first liquidation."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness import journal as jk
from harness.cli import main
from harness.config.scenario import load_scenario
from harness.replay import RunResult, run_scenario
from harness.testing import Golden
from tests.conftest import ROOT

REPLAY = ROOT / "replays" / "altcoin-crash-2025-10-10.toml"
FUND_START = 100_000 * 100_000_000


def _synth_command() -> list[str]:
    """The `harness synth ...` command the replay's header says builds its tape."""
    for line in REPLAY.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and "harness synth " in line:
            return shlex.split(line.split("harness ", 1)[1])
    raise AssertionError(f"{REPLAY.name}: no `harness synth` command in the header")


@pytest.fixture(scope="session")
def crash_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The crash tape, made by the command line exactly as the replay's header says."""
    path = tmp_path_factory.mktemp("crash") / "ticks.duckdb"
    outcome = CliRunner().invoke(main, ["--db", str(path), *_synth_command()])
    assert outcome.exit_code == 0, outcome.output
    return path


@pytest.fixture(scope="module")
def crash(crash_db: Path) -> Iterator[RunResult]:
    yield run_scenario(load_scenario(REPLAY), db=crash_db)


def test_altcoin_crash_replay_is_pinned(golden: Golden, crash: RunResult) -> None:
    golden.check(crash)


def _cross_symbol_edges(cascade: dict[str, object]) -> list[tuple[str, str, str]]:
    """(cause, the symbol it fell due on, the symbol its forced sale made others due on)."""
    steps = cascade["steps"]
    assert isinstance(steps, list)
    due_on: dict[str, str] = {}
    for step in steps:
        for account in step["triggered"]:
            due_on.setdefault(account, step["symbol"])
    return [
        (cause, due_on[cause], step["symbol"])
        for step in steps
        for cause in step["caused_by"]
        if due_on[cause] != step["symbol"]
    ]


def test_the_crash_tells_its_story(crash: RunResult) -> None:
    summary = crash.summary()
    json.dumps(summary)  # what summary.json holds
    assert summary["conservation_gap_units"] == 0
    assert summary["liquidations"] > 1000

    cascade = summary["cascade"]
    assert cascade["depth"] >= 2
    # Contagion across symbols: an account that fell due on one symbol was liquidated whole, and
    # its forced sale through another symbol's book made more accounts due there.
    edges = _cross_symbol_edges(cascade)
    assert edges
    assert {(due, through) for _, due, through in edges} >= {
        ("BTCUSDT", "SUIUSDT"),
        ("BTCUSDT", "ATOMUSDT"),
    }

    records = list(crash.journal.records())
    fund = [r for r in records if r.kind == jk.INSURANCE_FUND]
    assert fund[0].fields["balance"] == FUND_START
    # The fund paid shortfalls until it ran dry (below 1% of its start) ...
    dry = next(r for r in fund if r.fields["balance"] < FUND_START // 100)
    assert fund[-1].fields["balance"] == summary["insurance_fund_units"] < FUND_START
    # ... and ADL closed positions after that.
    assert summary["records_by_kind"]["adl"] > 0
    assert any(r.kind == jk.ADL and r.seq > dry.seq for r in records)

    alerts = summary["risk"]["alerts"]
    first_liquidation = next(r for r in records if r.kind == jk.LIQUIDATION)
    assert alerts["first_liquidation"] == "2025-10-10T21:10:45Z"
    assert first_liquidation.fields["step"] == "queued"
    # The monitor warned at least 30 s before the first account fell due, with its defaults.
    assert alerts["lead_time_s"] is not None and float(alerts["lead_time_s"]) >= 30
