"""`harness diff`, `harness runs ls` and `harness report` on real run folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from tests.report.conftest import replay


def _cli(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output.splitlines()


def test_diff_names_the_first_divergence_and_the_first_differing_step(
    liquidated_run: Path, low_fee_run: Path
) -> None:
    code, lines = _cli("diff", str(liquidated_run), str(low_fee_run))
    assert code == 1
    # The journals agree up to lev3's clearance fee, the first record the fee rate changes.
    assert lines[0] == "journals first diverge at record seq 137 (2024-08-08T23:56:49Z):"
    assert '"kind":"insurance_fund","account":"@liquidator"' in lines[1]
    assert '"amount":1530000000' in lines[1] and '"amount":154250000' in lines[2]
    # Five slices (lev3 full; lev1 and lev2 partial then full) each gained more than 0.01% of
    # their notional: at 0.01% each gain splits into a clearance fee and a surplus, five more
    # fund records; the fund ends with the same money (fee + surplus = gain either way).
    assert lines[3] == (
        f"liquidation path: 41 steps in {liquidated_run}, 46 in {low_fee_run}; "
        "first differing step is step 10:"
    )
    assert lines[4].endswith("fund_clearance_fee fund=100001530000000 amount=1530000000 "
                             "liquidated=lev3")  # fmt: skip
    assert lines[5].endswith("fund_clearance_fee fund=100000154250000 amount=154250000 "
                             "liquidated=lev3")  # fmt: skip
    assert lines[6] == "key figures that differ (5):"
    assert lines[7].startswith("  fingerprint: ")
    # The fund's flows split differently and add up to the same 72.3636 USDT.
    assert lines[8:] == [
        "  records: 276 -> 281",
        "  records_by_kind.insurance_fund: 6 -> 11",
        "  insurance_fund.flows_units.clearance_fee: 7236360000 -> 832266788",
        "  insurance_fund.flows_units.liquidation_surplus: (absent) -> 6404093212",
    ]


def test_two_runs_of_one_scenario_are_equal(
    liquidated_run: Path, capture_db: Path, tmp_path: Path
) -> None:
    again = replay(tmp_path, capture_db)
    code, lines = _cli("diff", str(liquidated_run), str(again))
    assert (code, lines) == (
        0,
        ["runs are identical: same journal, liquidation path and key figures"],
    )


def test_runs_ls_lists_run_folders_in_name_order(
    liquidated_run: Path, low_fee_run: Path, tmp_path: Path
) -> None:
    shutil.copytree(low_fee_run, tmp_path / "b-low-fee")
    shutil.copytree(liquidated_run, tmp_path / "a-base")
    (tmp_path / "not-a-run").mkdir()
    code, lines = _cli("runs", "ls", "--dir", str(tmp_path), "--json")
    assert code == 0
    entries = json.loads("\n".join(lines))
    assert [e["run"] for e in entries] == ["a-base", "b-low-fee"]
    summary = json.loads((liquidated_run / "summary.json").read_text())
    assert entries[0] == {
        "run": "a-base",
        "scenario": "overlevered",
        "start": "2024-08-08T23:55:00Z",
        "end": "2024-08-08T23:58:00Z",
        "fingerprint": summary["fingerprint"],
        "liquidations": 4,
        "cascade_depth": 1,
        "insurance_drawdown_units": 0,
        "adl_count": 0,
        "missed_exits": 0,
        "rejects": 0,
        "lead_time_s": None,  # no alert before the first liquidation
        "records": summary["records"],
    }
    code, table = _cli("runs", "ls", "--dir", str(tmp_path))
    assert table[0].split() == ["run", "scenario", "start", "end", "fingerprint", "liquidations",
                                "cascade_depth", "fund_drawdown_usdt", "adl", "missed_exits",
                                "rejects", "lead_time_s", "records"]  # fmt: skip
    window = ["2024-08-08T23:55:00Z", "2024-08-08T23:58:00Z"]
    figures = ["4", "1", "0.00", "0", "0", "0", "-"]
    fingerprint = summary["fingerprint"][:12]
    assert table[1].split() == ["a-base", "overlevered", *window, fingerprint, *figures,
                                str(summary["records"])]  # fmt: skip


def test_replay_prints_the_liquidation_figures(capture_db: Path, tmp_path: Path) -> None:
    from tests.liquidating import write_scenario

    scenario = write_scenario(tmp_path, capture_db)
    code, lines = _cli("replay", str(scenario), "--out", str(tmp_path / "run"))
    assert code == 0
    # tests/liquidating.py: lev3, then lev1 (twice, tier by tier) and lev2; the liquidator's
    # IOCs filled 83,226.6788 USDT; the fund only took clearance fees (+72.3636 USDT).
    assert "  liquidations: 4 (3 accounts), cascade depth 1, widest generation 3, " \
        "83,226.68 USDT filled through the book" in lines  # fmt: skip
    assert "  insurance fund drawdown 0.00 USDT (start 1,000,000.00, lowest 1,000,000.00, " \
        "end 1,000,072.36); ADL: 0 positions" in lines  # fmt: skip
    assert "  lev3: 1 fills, 0 rejects, realized -42.25 USDT, fees 7.7260 USDT" in lines


def test_help_lists_commands_in_pipeline_order_one_line_each() -> None:
    code, lines = _cli("--help")
    assert code == 0
    start = lines.index("Commands:") + 1
    names = [line.split()[0] for line in lines[start:]]
    assert names == ["ingest", "synth", "data", "book", "replay", "sweep", "runs", "report",
                     "diff", "calc"]  # fmt: skip
    assert not any(line.endswith("...") for line in lines[start:])  # no cut-off helps
    for group in ("data", "runs", "calc", "synth"):
        code, sub = _cli(group, "--help")
        commands = sub[sub.index("Commands:") + 1 :]
        assert code == 0 and not any(line.endswith("...") for line in commands), group


def test_report_rebuilds_the_outputs_from_the_journal(liquidated_run: Path, tmp_path: Path) -> None:
    run = shutil.copytree(liquidated_run, tmp_path / "run")
    original = (run / "liquidation_path.csv").read_text()
    page = (run / "report.html").read_text()
    (run / "liquidation_path.csv").unlink()
    (run / "report.html").unlink()
    code, lines = _cli("report", str(run))
    assert code == 0
    assert lines[0] == f"wrote {run / 'liquidation_path.csv'}"
    assert lines[1] == f"wrote {run / 'report.html'}"
    # Rebuilt byte for byte: nothing in them depends on when or where they were written.
    assert (run / "liquidation_path.csv").read_text() == original
    assert (run / "report.html").read_text() == page


def test_report_refuses_a_folder_without_a_journal(tmp_path: Path) -> None:
    code, lines = _cli("report", str(tmp_path))
    assert code == 1
    assert (
        lines[-1]
        == f"Error: {tmp_path / 'journal.parquet'}: no journal; is {tmp_path} a run folder?"
    )
