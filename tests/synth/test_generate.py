"""Reproducibility of generated tapes, and the `harness synth` command's store handling."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.data.store import connect
from harness.synth.book import BookPath, BookSpec, Placement, depth_frame
from harness.synth.generate import generate, synthesize
from harness.synth.presets import ALTCOIN_CRASH, CALM, Request

START = 1_760_097_600_000_000_000
SMALL = ["--duration-s", "20", "--symbols", "BTCUSDT,SUIUSDT"]


def _request(seed: int, **knobs: int | float) -> Request:
    return CALM.request(seed, START, ("BTCUSDT", "SUIUSDT"), **{"duration_s": 20, **knobs})


def _store_digest(path: Path, request: Request) -> str:
    """SHA-256 of every market-data table's rows in (ts, seq) order, as text."""
    con = connect(path)
    try:
        synthesize(con, CALM, request)
        digest = hashlib.sha256()
        for table in ("book_deltas", "trades"):
            frame = con.sql(f"SELECT * FROM {table} ORDER BY symbol, ts, seq").pl()
            assert frame.height > 500
            digest.update(frame.write_csv().encode())
    finally:
        con.close()
    return digest.hexdigest()


def test_same_seed_same_rows_and_another_seed_other_rows(tmp_path: Path) -> None:
    first = _store_digest(tmp_path / "a.duckdb", _request(5))
    again = _store_digest(tmp_path / "b.duckdb", _request(5))
    other = _store_digest(tmp_path / "c.duckdb", _request(6))
    assert first == again
    assert other != first


def test_the_crash_preset_is_reproducible() -> None:
    request = ALTCOIN_CRASH.request(9, diff_ms=500)
    first, again = generate(ALTCOIN_CRASH, request), generate(ALTCOIN_CRASH, request)
    for kind, frame in first.frames.items():
        assert frame.height > 1_000
        assert frame.write_csv() == again.frames[kind].write_csv(), kind


def test_adding_a_symbol_leaves_the_others_rows_unchanged() -> None:
    both = generate(CALM, _request(5)).frames["trades"]
    alone = generate(CALM, CALM.request(5, START, ("SUIUSDT",), duration_s=20)).frames["trades"]
    sui = both.filter(both["symbol"] == "SUIUSDT")
    assert sui.select("ts", "price", "qty", "side").equals(
        alone.select("ts", "price", "qty", "side")
    )


def test_a_jump_past_the_whole_ladder_replaces_every_level() -> None:
    """Hand-made path: the mid jumps 10 levels down on a 3-level ladder, then 1 level up."""
    spec = BookSpec("BTCUSDT", 10, 1000, grid_ticks=10, levels=3, level_lots=5, trade_lots=1)
    path = BookPath(mid=np.array([100.0, 90.0, 91.0]), depth=np.ones(3), trades=np.zeros(3))
    where = Placement("synthetic", 0, 100, 0, 1, 1_000)
    rng = np.random.default_rng(0)
    frame, grid, _, _ = depth_frame(rng, spec, path, where)
    assert grid.tolist() == [100, 90, 91]
    rows = [
        (r["update_id"], r["side"], r["price"], r["qty"] > 0) for r in frame.iter_rows(named=True)
    ]
    step1 = [(side, price, kept) for uid, side, price, kept in rows if uid == 1_001]
    # every old level removed (bids 100, 99, 98; asks 101, 102, 103), every new one inserted
    removed = sorted((side, price) for side, price, kept in step1 if not kept)
    added = sorted((side, price) for side, price, kept in step1 if kept)
    assert removed == [(-1, 101.0), (-1, 102.0), (-1, 103.0), (1, 98.0), (1, 99.0), (1, 100.0)]
    assert added == [(-1, 91.0), (-1, 92.0), (-1, 93.0), (1, 88.0), (1, 89.0), (1, 90.0)]
    step2 = [(side, price, kept) for uid, side, price, kept in rows if uid == 1_002]
    # one level up: bid 91 replaces ask 91; ask 94 joins; bid 88 leaves; both touches re-sized
    assert (-1, 91.0, False) in step2 and (1, 88.0, False) in step2
    assert (-1, 94.0, True) in step2 and (1, 91.0, True) in step2 and (-1, 92.0, True) in step2
    assert len({(side, price) for side, price, _ in step2}) == len(step2)


def _count(db: Path, table: str) -> int:
    con = connect(db, read_only=True)
    try:
        return int(con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    finally:
        con.close()


def test_cli_writes_once_then_refuses_unless_forced(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    first = runner.invoke(main, ["--db", str(db), "synth", "calm", *SMALL])
    assert first.exit_code == 0, first.output
    assert "written to" in first.output
    rows = _count(db, "trades")
    again = runner.invoke(main, ["--db", str(db), "synth", "calm", *SMALL])
    assert again.exit_code == 1
    assert "already in the store" in again.output and "--force" in again.output
    assert _count(db, "trades") == rows
    other_seed = runner.invoke(main, ["--db", str(db), "synth", "calm", *SMALL, "--seed", "2"])
    assert other_seed.exit_code == 0, other_seed.output
    forced = runner.invoke(main, ["--db", str(db), "synth", "calm", *SMALL, "--force"])
    assert forced.exit_code == 0, forced.output
    assert _count(db, "ingests") == 3


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    done = CliRunner().invoke(main, ["--db", str(db), "synth", "calm", *SMALL, "--dry-run"])
    assert done.exit_code == 0, done.output
    assert "nothing written" in done.output
    assert _count(db, "ingests") == 0 and _count(db, "book_deltas") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["calm", "--symbols", "DOGEUSDT"], "symbols unknown DOGEUSDT; choose from BTCUSDT"),
        (["altcoin-crash-2025-10-10", "--symbols", "ETHUSDT"], "choose from BTCUSDT"),
        (["calm", "--start", "yesterday"], "yesterday"),
        (["calm", "--diff-ms", "0"], "--diff-ms"),
        (["nosuch"], "No such command 'nosuch'"),
        (["calm", "--exchange", "Binance USDM"], "not a name a scenario can select"),
        (["calm", "--duration-s", "86400", "--diff-ms", "10"], "8,640,000 depth messages"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, args: list[str], message: str) -> None:
    done = CliRunner().invoke(main, ["--db", str(tmp_path / "s.duckdb"), "synth", *args])
    assert done.exit_code != 0
    assert message in done.output


def test_ls_lists_every_preset_with_its_version() -> None:
    done = CliRunner().invoke(main, ["synth", "ls"])
    assert done.exit_code == 0
    for preset in (ALTCOIN_CRASH, CALM):
        assert f"{preset.name}  (v{preset.version}" in done.output
    assert "-70%" in done.output and "--duration-s 600" in done.output


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
        ({"duration_s": 2.5}, "duration_s must be a whole number, got 2.5"),
        ({"durations": 5}, "calm has no knob durations"),
        ({"trades_per_s": -1.0}, "trades_per_s must be in [0.0, 100000.0], got -1.0"),
        ({"symbols": ("BTCUSDT", "BTCUSDT")}, "calm: symbols empty or repeated"),
    ],
)
def test_requests_are_checked(knobs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"seed": 1, **knobs}
    with pytest.raises(ValueError) as caught:
        CALM.request(**args)  # type: ignore[arg-type]
    assert message in str(caught.value)
