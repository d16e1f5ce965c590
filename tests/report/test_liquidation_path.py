"""liquidation_path.csv: one row per step of the liquidation path, read from the journal."""

from __future__ import annotations

import csv
from pathlib import Path

from harness.journal import Journal
from harness.report.liquidation_path import COLUMNS, steps, to_csv

T0 = 1_723_161_300_000_000_000


def _journal() -> Journal:
    journal = Journal()
    journal.append(T0, "insurance_fund", "", "", amount=500, reason="seed", balance=500)
    journal.append(T0 + 1, "fill", "a", "BTCUSDT", qty=3, price=100)  # not a path step
    journal.append(
        T0 + 2, "margin_call", "a", "BTCUSDT", level="4/5", ratio="5/6", mark=99, isolated=False
    )
    journal.append(T0 + 3, "liquidation", "a", "BTCUSDT", step="queued", ratio="inf")
    journal.append(
        T0 + 4, "liquidation", "a", "BTCUSDT", step="dequeued", wait_ns=1, queue_length=0
    )
    journal.append(
        T0 + 4, "liquidation", "a", "BTCUSDT", step="ioc", qty=3, filled=2, limit=98, notional=7
    )
    journal.append(T0 + 4, "adl", "b", "BTCUSDT", rank=1, qty=1, price=98, liquidated="a")
    journal.append(
        T0 + 4, "insurance_fund", "@liquidator", "BTCUSDT", amount=-40, reason="shortfall",
        balance=460,
    )  # fmt: skip
    return journal


def test_rows_take_their_columns_from_each_kind_of_record() -> None:
    rows = steps(_journal().records())
    assert [r.stage for r in rows] == [
        "fund_seed", "margin_call", "queued", "dequeued", "ioc", "adl", "fund_shortfall",
    ]  # fmt: skip
    seed, call, queued, dequeued, ioc, adl, shortfall = rows
    # 5/6 = 8333.3 bp, rounded down; an unbounded ratio stays "inf".
    assert (call.ratio_bp, call.mark, call.detail) == ("8333", 99, "isolated=false level=4/5")
    assert queued.ratio_bp == "inf"
    assert (dequeued.wait_ns, dequeued.detail) == (1, "queue_length=0")
    # The IOC's qty column is what it sent; what filled stays in the detail.
    assert (ioc.price, ioc.qty, ioc.detail) == (98, 3, "filled=2 notional=7")
    assert (adl.account, adl.price, adl.qty, adl.detail) == ("b", 98, 1, "liquidated=a rank=1")
    # The fund balance is carried forward from the last fund record.
    assert [r.fund_balance for r in rows] == [500, 500, 500, 500, 500, 500, 460]
    assert (seed.seq, shortfall.seq, shortfall.detail) == (0, 7, "amount=-40")


def test_csv_has_a_header_and_one_row_per_step() -> None:
    text = to_csv(steps(_journal().records()))
    table = list(csv.reader(text.splitlines()))
    assert tuple(table[0]) == COLUMNS
    assert len(table) == 8
    assert table[2][:6] == ["2", "2024-08-08T23:55:00.000000002Z", str(T0 + 2), "a", "BTCUSDT",
                            "margin_call"]  # fmt: skip


def test_a_replay_writes_the_path_of_its_liquidations(liquidated_run: Path) -> None:
    with (liquidated_run / "liquidation_path.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    journal = Journal.read_parquet(liquidated_run / "journal.parquet")
    path_kinds = ("margin_call", "liquidation", "adl", "insurance_fund")
    assert len(rows) == sum(r.kind in path_kinds for r in journal.records())
    lev2 = [r["stage"] for r in rows if r["account"] == "lev2" and r["stage"] != "margin_call"]
    # Queued behind lev1 (higher ratio), cut one tier, safe again, then due a second later.
    assert lev2 == [
        "queued", "dequeued", "cancel_orders", "partial", "ioc", "recheck",
        "queued", "dequeued", "cancel_orders", "full", "ioc",
    ]  # fmt: skip
    waits = [int(r["queue_wait_ns"]) for r in rows if r["stage"] == "dequeued"]
    # One liquidation per second: lev2, queued with lev1, starts one second after it.
    assert waits == [0, 0, 1_000_000_000, 0]
    # The fund's balance on each row is the seed plus every flow so far.
    balance = 0
    for row in rows:
        if row["stage"].startswith("fund_"):
            balance += int(row["detail"].split("amount=")[1].split()[0])
        assert int(row["fund_balance_units"]) == balance
    assert balance == 100_000_000_000_000 + sum(
        int(r["detail"].split("amount=")[1].split()[0])
        for r in rows
        if r["stage"] == "fund_clearance_fee"
    )
