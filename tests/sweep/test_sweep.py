"""Sweeps end to end on 30 s of the bundled capture: executors agree, failures and resume."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.replay import run_scenario
from harness.sweep.grid import parse_axis
from harness.sweep.overrides import build_scenario
from harness.sweep.results import RESULTS
from harness.sweep.sweep import Progress, SweepError, run_sweep

REPLENISHMENT = 'venue.replenishment="data","decay"'


def _table(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / RESULTS)


@pytest.fixture(scope="module")
def one_worker(capture_db: Path, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    from tests.sweep.conftest import base_text

    folder = tmp_path_factory.mktemp("one")
    base = folder / "base.toml"
    base.write_text(base_text(capture_db), encoding="utf-8")
    run_sweep(base, [parse_axis(REPLENISHMENT)], folder / "out", seeds=2, workers=1)
    return _table(folder / "out")


def test_one_worker_table_matches_direct_replays(
    one_worker: pl.DataFrame, capture_db: Path
) -> None:
    from tests.sweep.conftest import base_text

    assert one_worker["status"].to_list() == ["ok"] * 4
    assert one_worker["index"].to_list() == [0, 1, 2, 3]
    assert one_worker["venue.replenishment"].to_list() == ["data", "data", "decay", "decay"]
    assert one_worker["seed"].to_list() == [11, 12, 11, 12]
    fingerprints = one_worker["fingerprint"].to_list()
    assert len(set(fingerprints)) == 4  # both the setting and the seed change the run
    text = base_text(capture_db)
    direct = run_scenario(
        build_scenario(text, "base.toml", (("venue.replenishment", "decay"),), 12)
    )
    assert fingerprints[3] == direct.fingerprint
    assert one_worker["liquidations"].to_list() == [0, 0, 0, 0]
    assert one_worker["insurance_drawdown_units"].to_list() == [0, 0, 0, 0]  # no fund flows


def test_two_workers_give_the_same_rows(
    one_worker: pl.DataFrame, base_scenario: Path, tmp_path: Path
) -> None:
    run_sweep(base_scenario, [parse_axis(REPLENISHMENT)], tmp_path, seeds=2, workers=2)
    two = _table(tmp_path)
    columns = ["run_id", "index", "seed", "venue.replenishment", "fingerprint", "status"]
    assert two.select(columns).equals(one_worker.select(columns))
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "liquidations by venue.replenishment</text>" in page
    assert "insurance_drawdown_units by venue.replenishment</text>" in page
    assert "No values for <b>lead_time_s</b>" in page  # no liquidation in the window


@pytest.mark.slow
def test_ray_gives_the_same_fingerprints(
    one_worker: pl.DataFrame, base_scenario: Path, tmp_path: Path
) -> None:
    """A local Ray instance (about 5 s to start); seeds=1 keeps it to two tasks."""
    pytest.importorskip("ray", reason="Ray not installed: pip install '.[ray]' to run this test")
    run_sweep(base_scenario, [parse_axis(REPLENISHMENT)], tmp_path, executor="ray", workers=2)
    ray = _table(tmp_path)
    local = one_worker.filter(pl.col("seed") == 11)
    assert ray["fingerprint"].to_list() == local["fingerprint"].to_list()
    assert ray["run_id"].to_list() == local["run_id"].to_list()


def test_failures_are_rows_and_the_others_complete(base_scenario: Path, tmp_path: Path) -> None:
    axes = [
        parse_axis('data.symbols=["BTCUSDT"],["ETHUSDT"]'),
        parse_axis("liquidation.clearance_fee=0.005,2"),
    ]
    outcome = run_sweep(base_scenario, axes, tmp_path, workers=2)
    assert (outcome.runs, outcome.ok, outcome.failed) == (4, 1, 3)
    table = _table(tmp_path)
    assert table["status"].to_list() == ["ok", "failed", "failed", "failed"]
    errors = table["error"].to_list()
    assert errors[0] is None and table["fingerprint"][0] is not None
    assert "liquidation.clearance_fee: expected a number" in errors[1]  # refused by the loader
    assert "no depth data for ETHUSDT" in errors[2]  # raised inside the run
    assert table["data.symbols"].to_list()[:3] == ['["BTCUSDT"]', '["BTCUSDT"]', '["ETHUSDT"]']


def test_a_grid_where_nothing_loads_stops_up_front(base_scenario: Path, tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="did you mean 'clearance_fee'"):
        run_sweep(base_scenario, [parse_axis("liquidation.clearence_fee=0.1,0.2")], tmp_path)
    assert not (tmp_path / RESULTS).exists()


def test_resume_skips_runs_already_in_the_table(base_scenario: Path, tmp_path: Path) -> None:
    first = run_sweep(base_scenario, [parse_axis("liquidation.per_second=5,10")], tmp_path)
    assert (first.ok, first.skipped) == (2, 0)
    before = _table(tmp_path)
    with pytest.raises(SweepError, match="--resume"):
        run_sweep(base_scenario, [parse_axis("liquidation.per_second=5,10")], tmp_path)
    seen: list[Progress] = []
    second = run_sweep(
        base_scenario,
        [parse_axis("liquidation.per_second=5,10,20")],
        tmp_path,
        resume=True,
        on_progress=seen.append,
    )
    assert (second.runs, second.skipped, second.ok) == (3, 2, 3)
    assert [p.total for p in seen] == [1]  # only the new run executed
    after = _table(tmp_path)
    assert after["liquidation.per_second"].to_list() == [5, 10, 20]
    assert after.head(2).equals(before)  # the skipped rows are the earlier rows, untouched


def test_cli_sweep(base_scenario: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        [
            *("sweep", str(base_scenario), "--grid", "liquidation.insurance_fund=1000,2000"),
            *("--out", str(out), "--workers", "2", "--chart", "liquidations"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 run(s): 2 ok, 0 failed" in result.output
    assert (out / "index.html").exists()
    bad = runner.invoke(main, ["sweep", str(base_scenario), "--grid", "x=decay", "--out", "o"])
    assert bad.exit_code == 2 and "not TOML values" in bad.output


def test_a_dying_process_fails_only_its_own_run(base_scenario: Path, tmp_path: Path) -> None:
    maker = '"harness.agents.examples.market_maker:PostOnlyMarketMaker"'
    crash, recorder = '"tests.sweep.crashing:ExitProcess"', '"tests.strategies:Recorder"'
    axis = parse_axis(f"agents[0].strategy={maker},{crash},{recorder}")
    outcome = run_sweep(base_scenario, [axis], tmp_path, seeds=1, workers=2)
    assert (outcome.ok, outcome.failed) == (2, 1)
    table = _table(tmp_path)
    assert table["status"].to_list() == ["ok", "failed", "ok"]
    assert table["error"][1] == "worker process died (exit code 3)"
