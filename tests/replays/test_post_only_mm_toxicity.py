"""replays/post-only-mm-toxicity.toml on the bundled capture: two post-only makers on the mm3
rebate, one joining the touch and one standing 3 ticks back. Pinned by the golden snapshot; the
story asserted; the rebate and the markouts recomputed by hand from the journal's fills and the
recorded book."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from harness.data.book_replay import BookReplayer
from harness.data.export import open_read_only
from harness.data.query import stream_batches
from harness.journal import FEE, FILL, Record
from harness.replay import RunResult
from harness.testing import Golden
from tests.conftest import ROOT

REPLAY = ROOT / "replays" / "post-only-mm-toxicity.toml"
NS_PER_S = 1_000_000_000
UNITS_PER_LOT_TICK = 10_000
"""BTCUSDT: a tick is 0.1 USDT and a lot 0.001 BTC, so one lot-tick is 0.0001 USDT = 1e4 units."""
MM3_REBATE = Fraction(5, 100_000)
"""MECHANICS 8: the mm3 tier's maker fee is -0.005%."""


@pytest.fixture(scope="module")
def result(capture_db: Path) -> RunResult:
    return Golden.run(REPLAY, db=capture_db)


@pytest.fixture(scope="module")
def records(result: RunResult) -> list[Record]:
    return list(result.journal.records())


def _traders(result: RunResult) -> dict[str, Any]:
    assert result.risk is not None
    traders: dict[str, Any] = result.risk["traders"]
    return traders


def _int(record: Record, name: str) -> int:
    value = record.fields[name]
    assert isinstance(value, int)
    return value


def test_post_only_mm_toxicity_replay(golden: Golden, result: RunResult) -> None:
    golden.check(result)


def test_rebate_income_does_not_pay_for_the_adverse_selection(
    result: RunResult, records: list[Record]
) -> None:
    traders = _traders(result)
    for name in ("join", "back"):
        trader = traders[name]
        fills = [r for r in records if r.kind == FILL and r.account == name]
        assert fills and all(r.fields["liquidity"] == "MAKER" for r in fills)  # post-only
        assert sum(1 for r in fills if _int(r, "leaves") > 0) > len(fills) // 3  # partial fills
        assert trader["rebate_units"] > 0
        for horizon in ("1s", "10s", "60s"):
            row = trader["markouts"][horizon]
            assert row["maker_units"] < 0
            assert Fraction(row["mean_ticks"]) < 0
            assert trader["rebate_plus_maker_markout_units"][horizon] < 0
    join, back = traders["join"], traders["back"]
    # Standing back fills less often, only when a sweep reaches it: each fill is more toxic.
    assert back["markouts"]["1s"]["fills"] < join["markouts"]["1s"]["fills"]
    assert Fraction(back["markouts"]["1s"]["mean_ticks"]) < Fraction(
        join["markouts"]["1s"]["mean_ticks"]
    )
    assert back["rebate_units"] < join["rebate_units"]


def test_rebate_recomputed_from_the_journal(result: RunResult, records: list[Record]) -> None:
    fills = [r for r in records if r.kind == FILL and r.account == "join"]
    fees = [r for r in records if r.kind == FEE and r.account == "join"]
    assert len(fees) == len(fills)
    # One fill by hand: notional = price ticks x lots x 1e4 units; the rebate is 0.005% of it,
    # rounded toward zero (the account never receives more than the exact amount).
    first, first_fee = fills[0], fees[0]
    assert first_fee.ts == first.ts
    notional = _int(first, "price") * _int(first, "qty") * UNITS_PER_LOT_TICK
    assert _int(first_fee, "fee") == -(notional * MM3_REBATE.numerator // MM3_REBATE.denominator)
    # The summary's rebate income is the sum of the rebates the journal paid.
    assert _traders(result)["join"]["rebate_units"] == -sum(_int(r, "fee") for r in fees)


def _recorded_mid2(db: Path, times: list[int]) -> dict[int, int]:
    """Bid + ask in ticks of the recorded BTCUSDT book at each time: the venue's mid while no sim
    taker eats levels, which post-only makers never do. Rows strictly before the time: a markout
    reading is scheduled a horizon ahead, so it runs before a book row of the same instant."""
    con = open_read_only(db)
    replayer = BookReplayer()
    wanted = sorted(times)
    out: dict[int, int] = {}
    at = 0

    def sample_until(ts: int) -> None:
        nonlocal at
        while at < len(wanted) and wanted[at] < ts:
            bid, ask = replayer.book.best_bid(), replayer.book.best_ask()
            assert bid is not None and ask is not None
            out[wanted[at]] = round(bid[0] * 10) + round(ask[0] * 10)
            at += 1

    columns = ["ts", "is_snapshot", "update_id", "side", "price", "qty"]
    for batch in stream_batches(con, kinds=["book_deltas"], symbols=["BTCUSDT"], columns=columns):
        cols = batch.to_pydict()
        for row in zip(*(cols[c] for c in columns), strict=True):
            sample_until(row[0])
            replayer.apply(*row)
    sample_until(wanted[-1] + 1)
    con.close()
    return out


def test_markouts_recomputed_from_the_fills_and_the_recorded_book(
    result: RunResult, records: list[Record], capture_db: Path
) -> None:
    """markout = side x (mid at fill + h - fill price) (docs/risk.md), for every fill of `join`.

    The recorded book's mid is the venue's as long as no public level was consumed by a cross
    fill of a stale sim quote (venue/exchange/matching.py: the sim order takes that level, which
    then stops counting until the data updates it). At 10 s none of the readings falls on such a
    moment, so the whole row is recomputed exactly; at 1 s and 60 s some do (the totals differ by
    10 lot-ticks), so only the counts are checked there."""
    fills = [r for r in records if r.kind == FILL and r.account == "join"]
    markouts = _traders(result)["join"]["markouts"]
    for name, horizon in (("1s", NS_PER_S), ("60s", 60 * NS_PER_S)):
        assert markouts[name]["fills"] == sum(1 for f in fills if f.ts + horizon < result.end)
    horizon = 10 * NS_PER_S
    measured = [f for f in fills if f.ts + horizon < result.end]
    mid2 = _recorded_mid2(capture_db, [f.ts + horizon for f in measured])
    ticks = [
        Fraction(_int(f, "side") * (mid2[f.ts + horizon] - 2 * _int(f, "price")), 2)
        for f in measured
    ]
    units = sum(
        t * _int(f, "qty") * UNITS_PER_LOT_TICK for t, f in zip(ticks, measured, strict=True)
    )
    row = markouts["10s"]
    assert row["fills"] == len(measured) > 900
    assert row["total_units"] == row["maker_units"] == units  # whole units: no rounding here
    assert Fraction(row["mean_ticks"]) == round(sum(ticks) / len(ticks), 2)
    # And the rebate against it, as the summary adds them.
    rebate = _traders(result)["join"]["rebate_units"]
    assert _traders(result)["join"]["rebate_plus_maker_markout_units"]["10s"] == rebate + units
